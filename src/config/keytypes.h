/* One row per key type (keys.h): its parser, and how a parsed value is freed and compared. */
#ifndef PIDVISOR_KEYTYPES_H
#define PIDVISOR_KEYTYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

struct ktype_ops {
	/* Parses an expanded value into dst: 0, or -1 with *why a malloc'd phrase that completes
	 * "KEY: " (0 with *why set: accepted, with that warning) */
	int (*parse)(const struct keydef *k, const char *v, void *dst, char **why);
	void (*free)(void *dst);		     /* NULL: owns nothing */
	bool (*equal)(const void *a, const void *b); /* NULL: compare the size bytes */
	size_t size;
	bool unset_is_minus_one; /* no value and no default: -1 (inherit), not 0 */
};

const struct ktype_ops *ktype_ops(enum ktype t);
/* Frees what the values of a section's keys in base own; compares two such structs. */
void keys_free(const struct section_def *def, void *base);
bool keys_equal(const struct section_def *def, const void *a, const void *b);

#endif
