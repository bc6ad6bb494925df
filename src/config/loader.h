/*
 * Reading a section through its key table: where each value comes from (the command line, the
 * section, [DEFAULT], the table's default), its %(name)s expansion, its parse, and errors that
 * name the file, line, section and key. Shared by the model (config.c) and includes (include.c).
 */
#ifndef PIDVISOR_LOADER_H
#define PIDVISOR_LOADER_H

#include <stdbool.h>

#include "config.h"
#include "diag.h"
#include "expand.h"
#include "inifile.h"
#include "keys.h"

struct loader {
	struct config *c;
	struct ini_doc doc;
	struct diag *d;
	char hostname[256];
	struct strvec env; /* start-up environment + [supervisord] environment */
	bool strict;	   /* --check-config */
};

/* The value behind one key, and where it was written. */
struct raw {
	const char *value;
	const char *file;
	int line;
	bool from_file;
};

/* The key's entry in sec (or [DEFAULT]), else dflt at the section's header. False when neither. */
bool raw_get(struct loader *L, const struct ini_section *sec, const char *key, const char *dflt,
	     struct raw *r);
void config_report(struct loader *L, enum diag_level lvl, const struct raw *r, const char *section,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The expansions every section has: host_node_name and the environment. */
void base_expansions(struct loader *L, struct expand_ctx *ex);
/* Expands r's value (as flags say: KF_NOEXPAND, KF_TWICE) into *out; -1 and reported on error. */
int expand_raw(struct loader *L, const struct raw *r, const char *section, const char *key,
	       struct expand_ctx *ex, unsigned flags, char **out);
/* Reads, expands and parses one key into dst; an override replaces the file's value. */
int load_key(struct loader *L, const struct keydef *k, const struct ini_section *sec,
	     const char *section, struct expand_ctx *ex, const char *override, void *dst);
/* load_key for every key of def but KF_EARLY ones, into base + each key's offset. */
int load_section(struct loader *L, const struct section_def *def, const struct ini_section *sec,
		 const char *section, struct expand_ctx *ex, const struct config_overrides *ov,
		 void *base);

/* A path's directory, absolute when it exists. */
char *path_dir(const char *path);
/* [include]: reads every file it names into L->doc. */
int load_includes(struct loader *L);

#endif
