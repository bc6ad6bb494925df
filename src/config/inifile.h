/*
 * supervisord's INI dialect (Python RawConfigParser as supervisord configures it), read with inih.
 * Keys are lowercased, section names kept as written; duplicate sections and keys merge, last wins;
 * every entry remembers the file and line that defined it.
 */
#ifndef PIDVISOR_INIFILE_H
#define PIDVISOR_INIFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "buf.h"
#include "diag.h"
#include "strtab.h"

struct ini_entry {
	char *key;
	char *value;
	const char *file; /* owned by the ini_doc */
	int line;
};

struct ini_section {
	char *name;
	const char *file;
	int line;
	struct ini_entry *entries;
	size_t n, cap;
};

struct ini_doc {
	struct ini_section *sections;
	size_t n, cap;
	struct strtab index;  /* name -> 1 + its index in sections */
	size_t default_index; /* of [DEFAULT], SIZE_MAX when there is none (looked up per key) */
	char **files;	      /* every file read, in order */
	size_t nfiles;
};

/* The largest config file read: a bigger one is refused before it is read, as is anything but a
 * regular file (a FIFO would block start-up, /dev/zero never ends). */
#define INI_MAX_FILE_BYTES (16 * 1024 * 1024)

/* Why a file of this stat may not be read as a config file, or NULL when it may. */
const char *ini_file_refusal(const struct stat *st);

/* Reads a whole file that ini_file_refusal() lets through into out (which it initialises):
 * NULL, or why not (a static phrase), with *not_opened telling whether the open failed. */
const char *ini_read_file(const char *path, struct buf *out, bool *not_opened);

/* Reads path into doc (merging with what is there). Returns 0, or -1 with errors added to d.
 * Refused with FILE:LINE: a NUL byte, and what INI_MAX_FILE_BYTES says. */
int ini_load(struct ini_doc *doc, const char *path, struct diag *d);
/* The same for text already in memory; name is used in messages and as the entries' file. */
int ini_load_string(struct ini_doc *doc, const char *name, const char *text, size_t len,
		    struct diag *d);
void ini_free(struct ini_doc *doc);

struct ini_section *ini_find_section(const struct ini_doc *doc, const char *name);
/* Looks up key in section, then in [DEFAULT]. NULL when absent. */
const struct ini_entry *ini_find(const struct ini_doc *doc, const struct ini_section *sec,
				 const char *key);
const char *ini_get(const struct ini_doc *doc, const char *section, const char *key);

#endif
