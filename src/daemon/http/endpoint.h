/* The control server's listening sockets, one per section ([unix_http_server],
 * [inet_http_server]): bound, accepting without blocking, paused while out of fds, and moved
 * with no gap when a reload changes them. Called endpoints, not listeners: that word is the
 * event listeners' (src/daemon/events/). */
#ifndef PIDVISOR_ENDPOINT_H
#define PIDVISOR_ENDPOINT_H

#include <ev.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum endpoint_kind { EP_UNIX, EP_INET };

struct control;

struct endpoint {
	ev_io io;
	ev_timer retry; /* runs while accepting is paused by EMFILE/ENFILE */
	int fd;		/* -1: not listening */
	int kind;	/* EP_UNIX or EP_INET: which section of the live config applies */
	bool paused;
	bool told; /* the pause was logged: once until an accept succeeds again */
	/* fixed per connection at accept: a reload's new values apply to new connections */
	long long max_header_bytes, max_request_bytes;
	/* what the socket was opened with, to tell whether a reload changes it */
	char *unix_path;
	int chmod;
	char *chown;
	char *port;
	size_t nconns;
	size_t npending; /* of its connections, those owed an answer: endpoint_pending_max() */
	struct control *ctl;
};

/* Room for an endpoint's error message: a path, and why it failed. */
#define ENDPOINT_ERR_MAX (PATH_MAX + 256)

/* Not listening yet. */
void endpoint_init(struct endpoint *ep, struct control *ctl, enum endpoint_kind kind);
/* Opens the socket as conf says, replacing the one it had, if any, only once the new one
 * listens. Returns 0, or -1 with the reason in err, the old socket kept. */
int endpoint_open(struct endpoint *ep, const struct http_server_conf *conf, char *err,
		  size_t errsz);
void endpoint_close(struct endpoint *ep, bool unlink_path);
/* After a reload: opens, moves or closes the socket to match the live config. What fails is
 * logged, and the old socket kept. */
void endpoint_reload(struct endpoint *ep);
/* An fd is free again: accepting goes on if it was paused. */
void endpoint_resume(struct endpoint *ep);

/* The endpoint's section of the live config. */
const struct http_server_conf *endpoint_conf(const struct endpoint *ep);
const char *endpoint_section(const struct endpoint *ep);
bool endpoint_trusted(const struct endpoint *ep);
size_t endpoint_pending_max(const struct endpoint *ep);

/* Whether something answers on the unix socket at path. */
bool endpoint_unix_answers(const char *path);

#endif
