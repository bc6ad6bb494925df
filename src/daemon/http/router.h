/* Which handler answers a request: /RPC2, the log streams, the page and its actions, the JSON
 * API, /metrics. The one table of paths is here, and so are the glue from each handler's
 * answer to the connection and the answers that come later. */
#ifndef PIDVISOR_ROUTER_H
#define PIDVISOR_ROUTER_H

#include <stdbool.h>

struct conn;

/* The request c has parsed, authorized: answered, or c->pending or c->web set. */
void route_request(struct conn *c);
/* The answer c waits for (an XML-RPC call, a page action): when it came, it is queued for the
 * client and true returned. */
bool route_poll(struct conn *c);

#endif
