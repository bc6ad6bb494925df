/*
 * The control socket: [unix_http_server] and [inet_http_server], HTTP/1.1 with keep-alive,
 * POST /RPC2 for XML-RPC and GET /logtail for tail -f. Every connection lives in the event
 * loop with bounded buffers and its own timeouts; a bad request closes that connection only.
 * The limits (max_connections, timeouts, sizes) are described in docs/limits.md.
 */
#ifndef PIDVISOR_CONTROL_H
#define PIDVISOR_CONTROL_H

#include "supervisor.h"

/* Binds the configured servers. Returns 0, or -1 with *err (malloc'd). */
int control_start(struct supervisor *sv, char **err);
void control_stop(struct supervisor *sv);
/* After a reload swapped in sv->cfg: opens, moves or closes the sockets to match it
 * (credentials and limits are read from the live config anyway). */
void control_reload(struct supervisor *sv);

/* HTTP requests the control servers have taken, for /metrics. */
unsigned long long control_requests(const struct supervisor *sv);

#endif
