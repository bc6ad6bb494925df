/*
 * The control socket: [unix_http_server] and [inet_http_server], HTTP/1.1 with keep-alive,
 * POST /RPC2 for XML-RPC and GET /logtail for tail -f. Every connection lives in the event
 * loop with bounded buffers and its own timeouts; a bad request closes that connection only.
 * The limits (max_connections, timeouts, sizes) are described in docs/limits.md.
 *
 * One file a job: endpoint.c (the listening sockets), conn.c (a connection's HTTP machine),
 * router.c (which handler answers a request), auth.c (Basic auth), logtail.c (the log streams),
 * web.c and metrics.c (the pages); this file starts, reloads and stops the whole.
 */
#ifndef PIDVISOR_CONTROL_H
#define PIDVISOR_CONTROL_H

#include "endpoint.h"
#include "rpc.h"
#include "supervisor.h"

/* Binds the configured servers. Returns 0, or -1 with *err (malloc'd). */
int control_start(struct supervisor *sv, char **err);
void control_stop(struct supervisor *sv);
/* After a reload swapped in sv->cfg: opens, moves or closes the sockets to match it
 * (credentials and limits are read from the live config anyway). */
void control_reload(struct supervisor *sv);

/* HTTP requests the control servers have taken, for /metrics. */
unsigned long long control_requests(const struct supervisor *sv);

/* The server (sv->control). Only the files of this room look inside. */
struct control {
	struct supervisor *sv;
	struct rpc_server rpc;
	struct endpoint endpoints[2]; /* EP_UNIX, EP_INET */
	struct conn *conns;
	size_t npending;
	unsigned long long requests; /* answered or refused, for /metrics */
	unsigned long closes;	     /* tells a walk over conns that one it holds may be gone */
	ev_prepare check;	     /* polls deferred replies once after a state change */
};

#endif
