/*
 * The control socket: [unix_http_server] and [inet_http_server], HTTP/1.1 with keep-alive,
 * POST /RPC2 for XML-RPC and GET /logtail for tail -f. Every connection lives in the event
 * loop with bounded buffers; a bad request closes that connection only.
 */
#ifndef PIDVISOR_CONTROL_H
#define PIDVISOR_CONTROL_H

#include "supervisor.h"

/* Binds the configured servers. Returns 0, or -1 with *err (malloc'd). */
int control_start(struct supervisor *sv, char **err);
void control_stop(struct supervisor *sv);

#endif
