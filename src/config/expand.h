/* supervisord's %(name)s expansion: Python %-formatting against a mapping of names. */
#ifndef PIDVISOR_EXPAND_H
#define PIDVISOR_EXPAND_H

#include <stdbool.h>

struct expand_ctx {
	const char *here;	    /* NULL: not available */
	const char *program_name;   /* NULL: not available */
	const char *group_name;	    /* NULL: not available */
	const char *host_node_name; /* NULL: not available */
	bool has_process_num;	    /* process_num and numprocs available */
	int process_num, numprocs;
	char *const *env; /* KEY=VALUE strings behind ENV_KEY; later entries win */
};

/* Returns 0 with *out (malloc'd), or -1 with *err (malloc'd, a sentence naming the problem). */
int expand(const char *in, const struct expand_ctx *ctx, char **out, char **err);

#endif
