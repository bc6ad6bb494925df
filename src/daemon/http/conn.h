/* One connection to the control server: requests read and parsed within bounds, answered one
 * at a time (a client that pipelines waits while its answers queue up), written without
 * blocking, kept alive or closed; each wait has its timeout. */
#ifndef PIDVISOR_CONN_H
#define PIDVISOR_CONN_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http.h"

#define CONN_OUT_MAX (64 * 1024 * 1024) /* one answer, encoded */

struct endpoint;
struct logtail;
struct rpc_pending;
struct web_action;

/* What the connection's one timer measures. */
enum conn_wait {
	W_NONE,	   /* we are busy (an answer pending) or streaming: no limit */
	W_REQUEST, /* a whole request within header_timeout of its first byte (of accept) */
	W_IDLE,	   /* kept alive between requests: idle_timeout */
	W_WRITE,   /* an answer queued that the client does not read: idle_timeout */
	W_LINGER,  /* answered and write side shut: LINGER_S for the peer to close */
};

struct conn {
	ev_io io;
	ev_timer timer;
	enum conn_wait wait;
	ev_tstamp since; /* when `wait` began, or the last bytes written in W_WRITE */
	int fd;
	struct endpoint *ep;
	struct http_parser parser;
	struct buf in;	/* received, not yet parsed */
	struct buf out; /* to send, from out_off */
	size_t out_off;
	bool keep_alive;
	bool closing;	/* close once out is sent */
	bool lingering; /* reply sent, write side shut: drain input until the peer closes */
	bool peer_eof;	/* the client shut its write side: answer what it sent, then close */
	bool served;	/* completed a request: last to be evicted */
	struct rpc_pending *pending;
	struct web_action *web; /* a page action in progress (start, stop...) */
	bool head;		/* the request being answered is a HEAD */
	struct logtail *tail;	/* streaming: no more requests on this connection */
	ev_timer tail_timer;	/* while streaming: the log is looked at again */
	struct conn *prev, *next;
};

/* A connection accepted on ep; fd is closed if it cannot be kept. */
void conn_open(struct endpoint *ep, int fd);
void conn_close(struct conn *c);
/* ep is full: closes the connection of ep that matters least. False when none can go. */
bool conn_evict_one(struct endpoint *ep);
/* Takes the requests that have arrived, as far as c may now. */
void conn_process(struct conn *c);

void conn_respond(struct conn *c, int status, const char *type, const char *body, size_t len,
		  const char *extra);
/* A short text/plain answer, after which the connection closes. */
void conn_respond_error(struct conn *c, int status);
/* c->pending or c->web was just set: the answer comes later, polled for before the loop
 * sleeps. */
void conn_await(struct conn *c);
/* c->pending or c->web was just cleared: the answer came. */
void conn_answered(struct conn *c);
/* The answer to the request is the log stream t, until the client or the process goes. */
void conn_stream(struct conn *c, struct logtail *t);
/* The followed process is gone: the stream ends the way a chunked body ends, then closes. */
void conn_stream_end(struct conn *c);

#endif
