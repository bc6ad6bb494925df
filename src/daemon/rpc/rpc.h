/*
 * supervisord's XML-RPC interface (supervisor.* and system.*): one table of methods (rpc.c) with
 * each one's signature, checked before any handler runs, and help (rpc_help.c); the handlers
 * (rpc_methods.c, the waiting start/stop engine in rpc_wait.c, log reads in rpc_logs.c), which
 * share the lookups and faults of rpc_lookup.c. A call either answers at once or returns a
 * pending operation (start/stop with wait=true, or a system.multicall whose current call is one)
 * that the control server polls until it is done.
 */
#ifndef PIDVISOR_RPC_H
#define PIDVISOR_RPC_H

#include <stdbool.h>

#include "supervisor.h"
#include "xmlrpc.h"

struct rpc_pending;

struct rpc_answer {
	struct xr_value *value;	     /* on success */
	int fault;		     /* 0, or a fault code (faultString in fault_text) */
	char fault_text[1024];	     /* no allocation: a fault must be answerable without memory */
	struct rpc_pending *pending; /* not done yet: poll with rpc_poll() */
};

struct rpc_server {
	struct supervisor *sv;
	/* the [unix_http_server] or [inet_http_server] whose limits (multicall_max_calls,
	 * multicall_max_bytes) apply; NULL: the tightest of the servers in sv->cfg */
	const struct http_server_conf *conf;
};

void rpc_dispatch(struct rpc_server *rs, const char *method, const struct xr_value *params,
		  struct rpc_answer *out);
/* true when done: out holds the value or the fault */
bool rpc_poll(struct rpc_server *rs, struct rpc_pending *pd, struct rpc_answer *out);
void rpc_pending_free(struct rpc_pending *pd);
/* A process is going away (group removed, reload): pendings must not touch it any more. */
void rpc_forget_process(struct rpc_pending *pd, const struct process *p);
void rpc_answer_clear(struct rpc_answer *a);

/* The same text supervisord shows in 'status' for a process. */
void rpc_describe(const struct process *p, time_t now, char *buf, size_t n);

#endif
