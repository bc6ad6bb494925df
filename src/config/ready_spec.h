/* ready=: how a program says it is ready (log:REGEX, notify, fd:N), parsed and checked at load. */
#ifndef PIDVISOR_READY_SPEC_H
#define PIDVISOR_READY_SPEC_H

#include <stdbool.h>

enum ready_kind { READY_NONE, READY_LOG, READY_NOTIFY, READY_FD };

/* The lowest and highest descriptor ready=fd:N may name (0-2 are the child's stdio). */
#define READY_FD_MIN 3
#define READY_FD_MAX 1023

struct ready_spec {
	enum ready_kind kind;
	char *text;  /* as written, for messages and the reload comparison */
	char *regex; /* log: the POSIX extended regex (compiled again per process) */
	int fd;	     /* fd: */
};

/* "log:REGEX", "notify" or "fd:N" -> out; "" is READY_NONE. 0, or -1 with *why (malloc'd). */
int ready_spec_parse(const char *v, struct ready_spec *out, char **why);
void ready_spec_free(struct ready_spec *r);
bool ready_spec_equal(const struct ready_spec *a, const struct ready_spec *b);

#endif
