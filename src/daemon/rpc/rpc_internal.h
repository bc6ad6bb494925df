/* What the RPC files share: checked arguments, faults, name lookups, pending calls and the
 * handlers the method table in rpc.c names. Not for use outside src/daemon/rpc/. */
#ifndef PIDVISOR_RPC_INTERNAL_H
#define PIDVISOR_RPC_INTERNAL_H

#include "rpc.h"

/* The most parameters any method takes. */
#define RPC_MAX_ARGS 3
/* The most bytes one log read answers (supervisorctl asks for far less). */
#define RPC_READ_MAX (16LL * 1024 * 1024)

/* An argument already checked against the method's signature (rpc.c), so a handler reads the
 * field its signature promises and nothing can be of the wrong type. */
struct arg {
	const char *str; /* string; a signal given by name */
	size_t len;
	long long num;		      /* int; a signal given by number */
	bool flag;		      /* boolean; true when an optional one is left out */
	const struct xr_value *value; /* the value as sent */
};

struct args {
	size_t n;
	struct arg v[RPC_MAX_ARGS];
};

typedef void (*rpc_handler)(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

/* rpc_lookup.c, which uses no other RPC file */

/* faultString as supervisord builds it, "NAME" or "NAME: detail". */
void rpc_fault(struct rpc_answer *a, int code, const char *detail);
bool rpc_shutting_down(struct rpc_server *rs, struct rpc_answer *out);
/* supervisord's split_namespec + _getGroupAndProcess. *p is NULL for "group:*" or "group:". */
bool rpc_lookup(struct rpc_server *rs, const char *name, struct pgroup **g, struct process **p,
		struct rpc_answer *out);
/* A group by name, or NULL with the fault set (also while shutting down). */
struct pgroup *rpc_group(struct rpc_server *rs, const char *name, struct rpc_answer *out);
/* One process, or NULL with the fault set. */
struct process *rpc_one_process(struct rpc_server *rs, const char *name, struct rpc_answer *out);
/* Processes of one group or of all, in priority order. NULL with the fault set when memory runs
 * out; an empty list is not NULL. */
struct process **rpc_collect(struct rpc_server *rs, struct pgroup *only, size_t *n,
			     struct rpc_answer *out);
/* The {name, group, status, description} struct of start/stop/signal/clear over many. */
struct xr_value *rpc_result_struct(const struct process *p, int code, const char *desc);

/* A call not answered yet: a start or stop waiting for its processes (rpc_wait.c), or a
 * system.multicall waiting for one of its calls (rpc.c). Each embeds this, and rpc_poll(),
 * rpc_forget_process() and rpc_pending_free() go through its kind: neither file needs the
 * other's. */
struct rpc_pending_kind {
	bool (*poll)(struct rpc_server *rs, struct rpc_pending *pd, struct rpc_answer *out);
	void (*forget)(struct rpc_pending *pd, const struct process *p);
	void (*free)(struct rpc_pending *pd);
};

struct rpc_pending {
	const struct rpc_pending_kind *kind;
};

/* The handlers the method table in rpc.c names; of the other RPC files they use rpc_lookup.c
 * only. */

/* rpc_methods.c */
void rpc_add_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_remove_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_reload_config(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_api_version(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_supervisor_version(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_identification(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_get_state(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_get_pid(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_shutdown(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_restart(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_process_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_all_process_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_all_config_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_signal(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_signal_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_signal_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_send_stdin(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_remote_comm(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
/* rpc_wait.c */
void rpc_start(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_start_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_start_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_stop(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_stop_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_stop_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
/* rpc_logs.c */
void rpc_read_main_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_clear_main_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_read_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_read_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_tail_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_tail_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_clear_process_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
void rpc_clear_all_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

#endif
