/* supervisord's %(name)s expansion: Python %-formatting against a mapping of names. The daemon's
 * config loader and the clients' [supervisorctl] reader both use it. */
#ifndef PIDVISOR_EXPAND_H
#define PIDVISOR_EXPAND_H

#include <stdbool.h>

#include "buf.h"

/* The most bytes one expanded value may hold (issue 11: `%(process_num)99999d` written 2,000
 * times must not build hundreds of MiB). 2 MiB is what execve passes at most, arguments and
 * environment together (ARG_MAX with the default 8 MiB stack): a longer command or environment
 * could never reach a program, and no other value comes near it. A longer result is an error
 * that says so, which the config loader prefixes with FILE:LINE. */
#define EXPAND_MAX_BYTES (2 * 1024 * 1024)

struct expand_ctx {
	const char *here;	    /* NULL: not available */
	const char *program_name;   /* NULL: not available */
	const char *group_name;	    /* NULL: not available */
	const char *host_node_name; /* NULL: not available */
	bool has_process_num;	    /* process_num and numprocs available */
	int process_num, numprocs;
	char *const *env; /* KEY=VALUE strings behind ENV_KEY; later entries win */
	/* Set ("supervisorctl.serverurl"): errors in the words of supervisorctl's expand(),
	 * "Format string 'VALUE' for 'OPTION' contains names ('x') which cannot be expanded.
	 * Available names: ..." (each ENV_ name spelled out) or "... is badly formatted: why".
	 * NULL: the daemon's shorter sentences, which the config loader prefixes with FILE:LINE. */
	const char *option;
};

/* Returns 0 with *out (malloc'd), or -1 with *err (malloc'd, a sentence naming the problem),
 * also when the result would pass EXPAND_MAX_BYTES. */
int expand(const char *in, const struct expand_ctx *ctx, char **out, char **err);

/* Python's repr() of a str: single quotes unless the text has one and no double quote;
 * backslash escapes for the quote, \, \n, \r, \t and other control characters. */
void python_repr(struct buf *sb, const char *s);

#endif
