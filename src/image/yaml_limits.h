/*
 * The bounds of a stack file's YAML, checked on libyaml's events before its document is built:
 * the document stores an alias once, but every walk of it expands the alias again.
 */
#ifndef PIDVISOR_IMAGE_YAML_LIMITS_H
#define PIDVISOR_IMAGE_YAML_LIMITS_H

#include <stddef.h>

#define STACK_MAX_BYTES	      (1024 * 1024) /* the stack file */
#define STACK_MAX_DEPTH	      64	    /* nested sequences and mappings */
#define STACK_MAX_ANCHORS     1000	    /* anchors defined (looked up by a bounded scan) */
#define STACK_MAX_ALIAS_NODES 10000	    /* nodes added by expanding every alias */
#define STACK_MAX_ALIAS_BYTES (1024 * 1024) /* scalar bytes added by expanding every alias */

struct yaml_limit_error {
	int line;
	char text[160];
};

/* 0 when the first document of text is within the bounds (or is not YAML: the loader says why),
 * -1 with e filled when it is not. */
int yaml_limits_check(const char *text, size_t len, struct yaml_limit_error *e);

#endif
