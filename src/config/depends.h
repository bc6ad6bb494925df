/* depends_on: its value's syntax, and the checks that need the whole config (every name known,
 * `healthy` only on programs with a healthcheck, no cycle). */
#ifndef PIDVISOR_DEPENDS_H
#define PIDVISOR_DEPENDS_H

#include "config.h"

struct loader;

/* "db:healthy, migrate:completed, cache, workers:*" -> out. 0, or -1 with *why (malloc'd). */
int parse_depends(const char *v, struct dep_list *out, char **why);
void dep_list_free(struct dep_list *l);
bool dep_list_equal(const struct dep_list *a, const struct dep_list *b);
/* The checks across programs, each error at the depends_on line. 0, or -1 when reported. */
int check_depends(struct loader *L);

#endif
