/*
 * A stack file's model: the images of a stack, every value with the line of the stack file that
 * set it, so later checks (plan, lint, generate) can name FILE:LINE and key.
 */
#ifndef PIDVISOR_IMAGE_STACK_H
#define PIDVISOR_IMAGE_STACK_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* The defaults copied into the images (each node's text and 16 bytes a node), at most. */
#define STACK_MAX_DEFAULTS_COPY	     (16 * 1024 * 1024)
#define STACK_MAX_DEFAULTS_COPY_TEXT "16 MiB"

#define STACK_MAX_IMAGES 1000
/* Programs, groups and group members over every image's chain (ancestors counted again). */
#define STACK_MAX_CHAIN_ENTRIES 5000

struct sval {
	char *s;
	int line;
};
struct slist {
	struct sval *v;
	size_t n;
};
struct spair {
	struct sval k, v;
};
struct smap {
	struct spair *v;
	size_t n;
};

struct program {
	struct sval name;
	struct smap keys; /* [program:x] keys, values as written in the INI file */
};

struct group {
	struct sval name;
	struct slist programs;
	struct sval priority; /* s NULL when not set */
};

struct healthcheck {
	bool none;
	struct sval interval, timeout, start_period, retries; /* s NULL: the default */
	struct slist programs;
};

/* The keys of an image, in the order of the table in stack_keys.c. */
enum image_key {
	IK_FROM,
	IK_PACKAGES,
	IK_PACKAGE_MANAGER,
	IK_RUN,
	IK_FILES,
	IK_ENV,
	IK_EXPOSE,
	IK_USER,
	IK_WORKDIR,
	IK_VOLUMES,
	IK_LABELS,
	IK_PROGRAMS,
	IK_GROUPS,
	IK_HEALTHCHECK,
	IK_SUPERVISORD,
	IK_DEPLOY,
	IK_HARDENED,
	IK_COUNT
};

enum pkg_manager { PM_NONE, PM_APT, PM_APK, PM_DNF, PM_YUM };

/* How `compose` and `k8s` run the image: not part of the image itself. */
struct deploy {
	struct sval replicas;	   /* s NULL: 1 */
	struct slist ports;	   /* "CONTAINER[/proto]" or "PUBLISHED:CONTAINER[/proto]" */
	struct slist volumes;	   /* "SOURCE:/path[:ro]": a named volume, or a host path */
	struct sval cpu, memory;   /* Kubernetes quantities ("500m", "256Mi"); s NULL: defaults */
	struct slist capabilities; /* added back after dropping ALL, e.g. NET_BIND_SERVICE */
};

struct image {
	struct sval name;
	int key_line[IK_COUNT]; /* the line that set each key (the defaults' line), 0 when unset */
	struct sval from;
	struct slist packages;
	struct sval package_manager;
	struct slist run; /* one command each */
	struct smap files;
	struct smap env;
	struct slist expose;
	struct sval user, workdir;
	struct slist volumes;
	struct smap labels;
	struct program *programs;
	size_t nprograms;
	struct group *groups;
	size_t ngroups;
	struct healthcheck health;
	struct smap supervisord;
	struct deploy deploy;
	struct sval
	    hardened; /* "true"/"false" as written; s NULL: as the parent (false at a root) */

	/* filled by plan_resolve() */
	int parent; /* index of the stack image it builds on, -1 for a root or unresolved */
	int root;   /* index of its root, -1 when in a cycle */
	int depth;
	enum pkg_manager pm;
};

struct stack {
	char *path; /* as given; used in messages */
	char *dir;  /* the stack file's directory: context paths are relative to it */
	struct image *images;
	size_t n;
};

/* v (of n elements of size bytes) with room for one more: the capacity is implicitly the next
 * power of two, so n pushes cost n, not n² copies. */
void *array_grow(void *v, size_t n, size_t size);

/* Parses a stack file. Returns 0, 1 when the YAML was read but the schema has errors (in d, with
 * as much of the model filled as could be), or -1 when the file is unreadable or not YAML. */
int stack_load(struct stack *st, const char *path, struct diag *d);
int stack_load_string(struct stack *st, const char *name, const char *text, size_t len,
		      struct diag *d);
void stack_free(struct stack *st);

const char *image_key_name(enum image_key k);
bool image_has(const struct image *im, enum image_key k);
/* The ":latest"-normalized comparison of image names ("a/b" is "a/b:latest"). */
bool image_name_eq(const char *a, const char *b);
/* The tag of an image reference ("" for none), past the last '/'. */
const char *image_tag(const char *ref);

/* Reports "IMAGE KEY: message" at line. */
void stack_error(struct diag *d, const struct stack *st, int line, const char *image,
		 const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
