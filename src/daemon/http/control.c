#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "http.h"
#include "logtail.h"
#include "mainlog.h"
#include "net.h"
#include "passwd.h"
#include "rpc.h"
#include "util.h"
#include "web.h"

#define READ_CHUNK 16384
#define IN_MAX	   (READ_CHUNK * 4)   /* unparsed input kept: reading stops there */
#define OUT_MAX	   (64 * 1024 * 1024) /* one answer, encoded */
#define BACKLOG	   1024		      /* a burst of 500 connects is queued, not refused */
#define LINGER_S   2.0
#define RETRY_S	   1.0 /* accept again after EMFILE even if none of ours closed */

enum { EP_UNIX, EP_INET };

/* A listening socket, unix or inet (not called a listener: that word is the event listeners',
 * src/daemon/events/). */
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
	size_t npending; /* of its connections, those owed an answer: at most pending_max() */
	struct control *ctl;
};

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

struct control {
	struct supervisor *sv;
	struct rpc_server rpc;
	struct endpoint endpoints[2]; /* EP_UNIX, EP_INET */
	struct conn *conns;
	size_t npending;
	unsigned long long requests; /* answered or refused, for /metrics */
	unsigned long closes;	     /* tells a walk over conns that one it holds may be gone */
	ev_prepare check;	     /* polls deferred replies before the loop sleeps */
};

/* An answer is being made for this connection: no more requests are taken meanwhile. */
static bool busy(const struct conn *c)
{
	return c->pending || c->web;
}

/* A connection owed an answer is never closed to make room, so they may hold at most half of
 * max_connections: the other half is always there for ctl (1,100 starts waiting on a program
 * that never became ready locked every client out). */
static size_t pending_max(const struct endpoint *ep);

static void pending_added(struct conn *c)
{
	c->ep->npending++;
	c->ep->ctl->npending++;
}

static void pending_done(struct conn *c)
{
	c->ep->npending--;
	c->ep->ctl->npending--;
}

/* supervisord's GET action URLs are taken where no stranger's page can reach them: a unix
 * socket, or loopback (with a password they are taken anywhere). */
static bool endpoint_trusted(const struct endpoint *ep)
{
	if (ep->kind == EP_UNIX)
		return true;
	return ep->port && net_port_is_loopback(ep->port);
}

static const struct http_server_conf *endpoint_conf(const struct endpoint *ep)
{
	const struct config *cfg = ep->ctl->sv->cfg;
	return ep->kind == EP_UNIX ? &cfg->unix_server : &cfg->inet_server;
}

static const char *endpoint_section(const struct endpoint *ep)
{
	return ep->kind == EP_UNIX ? "[unix_http_server]" : "[inet_http_server]";
}

static size_t out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* An endpoint's watchers must not keep the loop running at shutdown: unref'd while active. */
static void endpoint_watch(struct endpoint *ep, bool on)
{
	struct ev_loop *loop = ep->ctl->sv->loop;
	ev_watcher *w = ep->paused ? (ev_watcher *)&ep->retry : (ev_watcher *)&ep->io;
	if (on == ev_is_active(w))
		return;
	if (on) {
		if (ep->paused)
			ev_timer_start(loop, &ep->retry);
		else
			ev_io_start(loop, &ep->io);
		ev_unref(loop);
	} else {
		ev_ref(loop);
		if (ep->paused)
			ev_timer_stop(loop, &ep->retry);
		else
			ev_io_stop(loop, &ep->io);
	}
}

/* Out of fds: stop polling the endpoint (it would report the same pending connect forever)
 * until one of ours closes or RETRY_S passes. */
static void endpoint_pause(struct endpoint *ep, int err)
{
	if (ep->paused)
		return;
	if (!ep->told)
		log_warn("control: %s cannot accept: %s; not accepting for now",
			 endpoint_section(ep), strerror(err));
	ep->told = true;
	endpoint_watch(ep, false);
	ep->paused = true;
	ev_timer_set(&ep->retry, RETRY_S,
		     RETRY_S); /* repeating: stays active, so the unref holds */
	endpoint_watch(ep, true);
}

static void endpoint_resume(struct endpoint *ep)
{
	if (!ep->paused || ep->fd < 0)
		return;
	endpoint_watch(ep, false);
	ep->paused = false;
	endpoint_watch(ep, true);
}

static void conn_update_io(struct conn *c);
static void conn_process(struct conn *c);

static void stream_free(struct conn *c)
{
	if (!c->tail)
		return;
	ev_timer_stop(c->ep->ctl->sv->loop, &c->tail_timer);
	logtail_free(c->tail);
	c->tail = NULL;
}

static void conn_close(struct conn *c)
{
	struct control *ctl = c->ep->ctl;
	struct ev_loop *loop = ctl->sv->loop;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	if (c->pending) {
		rpc_pending_free(c->pending);
		pending_done(c);
	}
	if (c->web) {
		web_action_free(c->web);
		pending_done(c);
	}
	stream_free(c);
	http_parser_free(&c->parser);
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->ep->nconns--;
	ctl->closes++;
	free(c);
	if (!ctl->npending)
		ev_prepare_stop(loop, &ctl->check);
	/* an fd is free again */
	for (int i = 0; i < 2; i++)
		endpoint_resume(&ctl->endpoints[i]);
}

static void respond(struct conn *c, int status, const char *type, const char *body, size_t len,
		    const char *extra)
{
	if (!c->keep_alive)
		c->closing = true;
	http_write_response_head(&c->out, status, type, (long long)len, c->keep_alive, extra);
	buf_append(&c->out, body, len);
	if (c->out.failed)
		c->closing = true;
}

static void respond_error(struct conn *c, int status)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	c->keep_alive = false;
	respond(c, status, "text/plain", body, (size_t)n, NULL);
}

static void send_answer(struct conn *c, struct rpc_answer *a)
{
	struct buf xml;
	buf_init(&xml, OUT_MAX);
	if (a->fault)
		xr_encode_fault(&xml, a->fault, a->fault_text);
	else if (!xr_encode_response(&xml, a->value)) {
		buf_reset(&xml);
		xr_encode_fault(&xml, XR_FAILED, "FAILED: the answer cannot be encoded");
	}
	if (xml.failed)
		respond_error(c, 500);
	else
		respond(c, 200, "text/xml", xml.data, xml.len, NULL);
	buf_free(&xml);
}

/* Checked against the live config, so a reload's new credentials apply to the next request. */
static bool authorized(struct conn *c)
{
	const struct http_server_conf *conf = endpoint_conf(c->ep);
	if (!conf->enabled)
		return false; /* a reload removed this server: its open connections are refused */
	return auth_allows(conf, http_header(&c->parser, "Authorization"));
}

static void send_web(struct conn *c, struct web_reply *r)
{
	char extra[1200] = "Cache-Control: no-store\r\n";
	if (r->location[0])
		snprintf(extra, sizeof(extra), "Location: %s\r\nCache-Control: no-store\r\n",
			 r->location);
	if (r->body.failed) {
		respond_error(c, 500);
		return;
	}
	if (c->head) {
		if (!c->keep_alive)
			c->closing = true;
		http_write_response_head(&c->out, r->status, r->content_type,
					 (long long)r->body.len, c->keep_alive, extra);
		return;
	}
	respond(c, r->status, r->content_type, r->body.data ? r->body.data : "", r->body.len,
		extra);
}

/* Everything but /RPC2 and the log streams: the page, the JSON API, /metrics (web.c). */
static void handle_web(struct conn *c)
{
	struct control *ctl = c->ep->ctl;
	struct web_request rq = {
	    .method = c->parser.method,
	    .target = c->parser.target,
	    .body = c->parser.body.data,
	    .body_len = c->parser.body.len,
	    .origin = http_header(&c->parser, "Origin"),
	    .host = http_header(&c->parser, "Host"),
	    .may_get_act = endpoint_conf(c->ep)->username || endpoint_trusted(c->ep),
	    .cross_site = http_cross_site(&c->parser),
	};
	struct web_reply r;
	c->head = !strcmp(rq.method, "HEAD");
	switch (web_handle(&ctl->rpc, &rq, &r)) {
	case WEB_NOT_MINE:
		respond_error(c, strcmp(rq.method, "GET") && strcmp(rq.method, "HEAD") ? 405 : 404);
		break;
	case WEB_DONE:
		send_web(c, &r);
		break;
	case WEB_PENDING:
		if (c->ep->npending >= pending_max(c->ep)) {
			log_warn("control: %s: %zu answers already pending: not waiting for this "
				 "one (what it started goes on)",
				 endpoint_section(c->ep), c->ep->npending);
			respond_error(c, 503);
			break;
		}
		c->web = r.action;
		r.action = NULL;
		pending_added(c);
		ev_prepare_start(ctl->sv->loop, &ctl->check);
		break;
	}
	web_reply_free(&r);
}

static void handle_rpc(struct conn *c)
{
	struct xr_call call;
	char err[256];
	struct rpc_answer a;
	const char *body = c->parser.body.data ? c->parser.body.data : "";
	struct control *ctl = c->ep->ctl;

	if (!xr_parse_call(body, c->parser.body.len, NULL, &call, err, sizeof(err))) {
		log_debug("control: bad XML-RPC request: %s", err);
		respond_error(c, 400);
		return;
	}
	rpc_dispatch(&ctl->rpc, call.method, call.params, &a);
	xr_call_free(&call);
	if (a.pending && c->ep->npending >= pending_max(c->ep)) {
		/* what the request started goes on (a start waits for its dependencies); only
		 * its answer is not awaited, and a multicall's calls after this one do not run */
		rpc_pending_free(a.pending);
		a.pending = NULL;
		a.fault = XR_FAILED;
		snprintf(a.fault_text, sizeof(a.fault_text),
			 "FAILED: %zu answers already pending on this server (at most half of "
			 "max_connections): not waiting for this one; what it started goes on",
			 c->ep->npending);
	} else if (a.pending) {
		c->pending = a.pending;
		pending_added(c);
		ev_prepare_start(ctl->sv->loop, &ctl->check);
		return;
	}
	send_answer(c, &a);
	rpc_answer_clear(&a);
}

static void stream_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = container_of(w, struct conn, tail_timer);
	(void)loop;
	(void)revents;
	logtail_poll(c->tail, &c->out, c->out_off);
	conn_update_io(c);
}

/* The answer to the request is the log stream t, until the client or the process goes. */
static void stream_start(struct conn *c, struct logtail *t)
{
	c->tail = t;
	c->keep_alive = false;
	logtail_write_head(t, &c->out);
	logtail_poll(t, &c->out, c->out_off);
	ev_timer_init(&c->tail_timer, stream_timer_cb, LOGTAIL_POLL_S, LOGTAIL_POLL_S);
	ev_timer_start(c->ep->ctl->sv->loop, &c->tail_timer);
}

/* The followed process is gone: the stream ends the way a chunked body ends, then closes. */
static void stream_end(struct conn *c)
{
	stream_free(c);
	http_write_chunk(&c->out, NULL, 0);
	c->closing = true;
}

static void handle_logtail(struct conn *c)
{
	int status;
	struct logtail *t = logtail_open(c->ep->ctl->sv, c->parser.target, &status);
	if (t)
		stream_start(c, t);
	else
		respond_error(c, status);
}

unsigned long long control_requests(const struct supervisor *sv)
{
	const struct control *ctl = sv->control;
	return ctl ? ctl->requests : 0;
}

/* A page on another site can make the browser POST here with no preflight (an HTML form, a
 * no-cors fetch) and with the browser's cached credentials: every XML-RPC client sends
 * text/xml, which no such request can, and no browser request from another origin is taken. */
static bool rpc_refused(struct conn *c)
{
	char body[300];
	int status = 0, n = 0;
	const char *type = http_header(&c->parser, "Content-Type");
	const char *why = http_cross_site(&c->parser);
	if (why) {
		status = 403;
		n = snprintf(body, sizeof(body),
			     "403 Forbidden: /RPC2 takes no request from a page of another site "
			     "(the %s header says it comes from one)\n",
			     why);
	} else if (!http_media_type_is(type, "text/xml")) {
		status = 415;
		n = snprintf(body, sizeof(body),
			     "415 Unsupported Media Type: /RPC2 takes XML-RPC calls sent as "
			     "Content-Type: text/xml (this one: %.100s)\n",
			     type ? type : "none");
	}
	if (!status)
		return false;
	log_debug("control: /RPC2 request refused: %d (%s)", status, why ? why : "Content-Type");
	respond(c, status, "text/plain", body, (size_t)n, NULL);
	return true;
}

static void handle_request(struct conn *c)
{
	c->ep->ctl->requests++;
	const char *method = c->parser.method, *target = c->parser.target;
	c->keep_alive = c->parser.keep_alive;
	if (!authorized(c)) {
		c->keep_alive = false;
		static const char body[] = "401 Unauthorized\n";
		respond(c, 401, "text/plain", body, sizeof(body) - 1,
			"WWW-Authenticate: Basic realm=\"default\"\r\n");
		return;
	}
	if (strncmp(target, "/RPC2", 5) == 0) {
		if (strcmp(method, "POST") != 0) {
			respond_error(c, 400);
			return;
		}
		if (rpc_refused(c))
			return;
		handle_rpc(c);
		return;
	}
	if (!strncmp(target, "/logtail/", 9) || !strcmp(target, "/mainlogtail")) {
		if (strcmp(method, "GET") != 0) {
			respond_error(c, 400);
			return;
		}
		handle_logtail(c);
		return;
	}
	handle_web(c);
}

/* Whether the next pipelined request waits: a request is always taken on an empty queue. */
static size_t pending_max(const struct endpoint *ep)
{
	return (size_t)endpoint_conf(ep)->max_connections / 2;
}

static bool queue_full(const struct conn *c)
{
	size_t queued = out_pending(c);
	return queued && queued >= (size_t)endpoint_conf(c->ep)->max_queued_bytes;
}

/* Answers the requests that have arrived, one at a time, while the answers queued for this
 * connection stay under max_queued_bytes: a client that pipelines and never reads waits for
 * its queue to drain (and reading stops once IN_MAX is buffered) instead of growing it. */
static void conn_process(struct conn *c)
{
	if (c->tail)
		buf_reset(&c->in); /* a streaming client has nothing more to ask */
	while (!c->tail && !busy(c) && !c->closing && c->in.len > 0 && !queue_full(c)) {
		size_t used = 0;
		enum http_result r = http_parser_feed(&c->parser, c->in.data, c->in.len, &used);
		buf_consume(&c->in, used);
		if (r == HTTP_NEED_MORE)
			break;
		if (r == HTTP_ERROR) {
			log_debug("control: bad HTTP request: %s", c->parser.error_msg);
			respond_error(c, c->parser.error_status ? c->parser.error_status : 400);
			break;
		}
		c->served = true;
		handle_request(c);
		http_parser_reset(&c->parser);
	}
	/* a half-closed client gets every answer it asked for, then the connection closes */
	if (c->peer_eof && !busy(c) && !c->tail && !queue_full(c))
		c->closing = true;
	conn_update_io(c);
}

/* Writes what it can. Returns false if the connection was closed. */
static bool conn_flush(struct conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, out_pending(c), MSG_NOSIGNAL);
		if (w > 0) {
			c->out_off += (size_t)w;
			c->since = ev_now(c->ep->ctl->sv->loop); /* progress, for W_WRITE */
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(c);
		return false;
	}
	/* compact now and then rather than moving the rest after every send */
	if (c->out_off == c->out.len ||
	    (c->out_off >= READ_CHUNK && c->out_off * 2 >= c->out.len)) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	if (out_pending(c) || !c->closing || busy(c) || c->lingering)
		return true;
	if (c->peer_eof) {
		conn_close(c);
		return false;
	}
	/* close gracefully: a client still writing (supervisorctl sends a trailing blank line)
	 * would get a reset instead of our answer */
	shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	return true;
}

static double wait_seconds(const struct conn *c)
{
	const struct http_server_conf *conf = endpoint_conf(c->ep);
	switch (c->wait) {
	case W_REQUEST:
		return (double)conf->header_timeout;
	case W_IDLE:
	case W_WRITE:
		return (double)conf->idle_timeout;
	case W_LINGER:
		return LINGER_S;
	case W_NONE:
		break;
	}
	return 0;
}

static enum conn_wait wait_now(const struct conn *c)
{
	if (c->lingering)
		return W_LINGER;
	if (busy(c))
		return W_NONE;
	if (out_pending(c))
		return W_WRITE;
	if (c->tail || c->closing || c->peer_eof)
		return W_NONE;
	if (!c->served || c->in.len || c->parser.nbytes)
		return W_REQUEST;
	return W_IDLE;
}

/* One timer per connection, re-armed only when what it measures changes; progress within a
 * wait just moves `since`, and the timer, when it fires, sleeps again for what is left. */
static void conn_update_timer(struct conn *c)
{
	enum conn_wait w = wait_now(c);
	if (w == c->wait)
		return;
	struct ev_loop *loop = c->ep->ctl->sv->loop;
	c->wait = w;
	c->since = ev_now(loop);
	ev_timer_stop(loop, &c->timer);
	if (w == W_NONE)
		return;
	ev_timer_set(&c->timer, wait_seconds(c), 0);
	ev_timer_start(loop, &c->timer);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = container_of(w, struct conn, timer);
	(void)revents;
	double left = c->since + wait_seconds(c) - ev_now(loop);
	if (left > 0) {
		ev_timer_set(w, left, 0);
		ev_timer_start(loop, w);
		return;
	}
	if (c->wait == W_REQUEST && (c->in.len || c->parser.nbytes)) {
		log_debug("control: no whole request within header_timeout: closing");
		buf_reset(&c->in);
		respond_error(c, 408);
		conn_update_io(c);
		return;
	}
	conn_close(c);
}

static void conn_update_io(struct conn *c)
{
	if (!conn_flush(c))
		return;
	int want = 0;
	if (c->lingering)
		want |= EV_READ;
	else if (!c->closing && !c->peer_eof && c->in.len < IN_MAX)
		want |= EV_READ; /* while busy too: to see the client go */
	if (out_pending(c))
		want |= EV_WRITE;
	struct ev_loop *loop = c->ep->ctl->sv->loop;
	if (want != (c->io.events & (EV_READ | EV_WRITE)) || !ev_is_active(&c->io)) {
		ev_io_stop(loop, &c->io);
		if (want) {
			ev_io_set(&c->io, c->fd, want);
			ev_io_start(loop, &c->io);
		}
	}
	conn_update_timer(c);
}

/* After end of input: whether the client closed outright rather than shut only its write
 * side (which still gets its answers). A unix socket tells (POLLHUP); over TCP a close and a
 * half-close look the same until something is written, so a TCP client's answer is still
 * awaited. */
static bool peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

static void conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct conn *c = container_of(io, struct conn, io);
	(void)loop;
	if (revents & EV_READ) {
		char buf[READ_CHUNK];
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK))
			return;
		if (r < 0 || (r == 0 && (c->lingering || c->tail))) {
			conn_close(c);
			return;
		}
		if (c->lingering)
			return; /* discard */
		if (r == 0 && busy(c) && peer_gone(c->fd)) {
			log_debug("control: the client went away before its answer: dropped");
			conn_close(c);
			return;
		}
		if (r == 0)
			c->peer_eof = true;
		else if (!buf_append(&c->in, buf, (size_t)r)) {
			conn_close(c);
			return;
		}
		conn_process(c);
		return;
	}
	if (revents & EV_WRITE) {
		if (!conn_flush(c))
			return;
		conn_process(c);
	}
}

/* Full: make room by closing the connection that matters least: one already answered and
 * lingering, else one that never completed a request (an idle or slow flood), else one
 * between requests; within each, the one waiting longest. Connections with an answer
 * pending are kept. False when nothing can go. */
static bool evict_one(struct endpoint *ep)
{
	struct conn *victim = NULL;
	int victim_rank = 3;
	for (struct conn *c = ep->ctl->conns; c; c = c->next) {
		if (c->ep != ep || busy(c))
			continue;
		int rank = c->lingering ? 0 : !c->served ? 1 : 2;
		/* the list runs newest first, and connections accepted in one loop pass share
		 * their `since`: `<=` lets the older one of a tie win, never the newcomer */
		if (rank < victim_rank || (rank == victim_rank && c->since <= victim->since)) {
			victim = c;
			victim_rank = rank;
		}
	}
	if (!victim)
		return false;
	log_debug("control: %s full (%zu open): closing the least busy connection",
		  endpoint_section(ep), ep->nconns);
	conn_close(victim);
	return true;
}

static void conn_open(struct endpoint *ep, int fd)
{
	struct control *ctl = ep->ctl;
	const struct http_server_conf *conf = endpoint_conf(ep);
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->ep = ep;
	/* a head smaller than this could not even carry supervisorctl's requests */
	struct http_limits lim = http_default_limits;
	lim.max_head = conf->max_header_bytes > 1024 ? (size_t)conf->max_header_bytes : 1024;
	if (lim.max_line > lim.max_head)
		lim.max_line = lim.max_head;
	lim.max_body = (size_t)conf->max_request_bytes;
	http_parser_init(&c->parser, HTTP_REQUEST, &lim);
	buf_init(&c->in, IN_MAX + READ_CHUNK);
	buf_init(&c->out, OUT_MAX);
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ep->nconns++;
	ev_init(&c->timer, timer_cb);
	ev_io_init(&c->io, conn_cb, fd, EV_READ);
	c->wait = W_NONE;
	conn_update_io(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct endpoint *ep = container_of(io, struct endpoint, io);
	(void)loop;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(ep->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
			    errno != ENOMEM)
				return;
			/* out of fds before max_connections: make room as at the limit, or,
			 * with nothing to close, pause */
			if (evict_one(ep))
				continue;
			endpoint_pause(ep, errno);
			return;
		}
		ep->told = false;
		if (ep->nconns >= (size_t)endpoint_conf(ep)->max_connections && !evict_one(ep)) {
			close(fd);
			continue;
		}
		conn_open(ep, fd);
	}
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct endpoint *ep = container_of(w, struct endpoint, retry);
	(void)revents;
	endpoint_resume(ep);
	accept_cb(loop, &ep->io, EV_READ);
}

static void check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct control *ctl = container_of(w, struct control, check);
	(void)loop;
	(void)revents;
	struct conn *next;
	for (struct conn *c = ctl->conns; c; c = next) {
		next = c->next;
		if (c->web) {
			struct web_reply r;
			web_reply_init(&r);
			bool done = web_action_poll(&ctl->rpc, c->web, &r);
			if (done) {
				web_action_free(c->web);
				c->web = NULL;
				pending_done(c);
				send_web(c, &r);
			}
			web_reply_free(&r);
			if (!done)
				continue;
		} else if (c->pending) {
			struct rpc_answer a = {0};
			if (!rpc_poll(&ctl->rpc, c->pending, &a))
				continue;
			rpc_pending_free(c->pending);
			c->pending = NULL;
			pending_done(c);
			send_answer(c, &a);
			rpc_answer_clear(&a);
		} else {
			continue;
		}
		unsigned long closes = ctl->closes;
		conn_process(c);
		/* the next request may have closed any connection (removeProcessGroup ends the
		 * streams of its processes): `next` may be gone, start over */
		if (ctl->closes != closes)
			next = ctl->conns;
	}
	if (!ctl->npending)
		ev_prepare_stop(ctl->sv->loop, &ctl->check);
}

static void process_gone(struct supervisor *sv, struct process *p)
{
	struct control *ctl = sv->control;
	struct conn *next;
	for (struct conn *c = ctl->conns; c; c = next) {
		next = c->next;
		if (c->pending)
			rpc_forget_process(c->pending, p);
		if (c->web && c->web->pending)
			rpc_forget_process(c->web->pending, p);
		if (c->tail && logtail_follows(c->tail, p)) {
			/* its stream has nothing left to follow; the writing waits for the loop, so
			 * no connection closes under a caller walking the list */
			stream_end(c);
			ev_feed_event(sv->loop, &c->io, EV_WRITE);
		}
	}
}

/* Room for an endpoint's error message: a path, and why it failed. */
#define ERR_MAX (PATH_MAX + 256)

/* Binds the temporary name tmp, then gives it the mode and owner conf asks for. */
static int bind_unix_tmp(const struct http_server_conf *conf, const char *tmp, char *err,
			 size_t errsz)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tmp) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "[unix_http_server] file: '%s' is too long for a unix socket",
			 conf->file);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, BACKLOG) < 0) {
		snprintf(err, errsz,
			 "[unix_http_server] file: cannot open an HTTP server: socket %s: %s",
			 conf->file, strerror(errno));
		goto fail;
	}
	if (chmod(tmp, (mode_t)conf->chmod) < 0) {
		snprintf(err, errsz, "cannot chmod %s: %s", conf->file, strerror(errno));
		goto fail;
	}
	if (conf->chown) {
		/* "user" or "user:group"; a user alone leaves the group as it is (supervisord's
		 * gid -1) */
		char user[256];
		const char *colon = strchr(conf->chown, ':');
		size_t ulen = colon ? (size_t)(colon - conf->chown) : strlen(conf->chown);
		struct user_info ui;
		gid_t gid = (gid_t)-1;
		bool ok = ulen < sizeof(user);
		if (ok) {
			memcpy(user, conf->chown, ulen);
			user[ulen] = '\0';
			ok = user_lookup(user, &ui) == 0 &&
			     (!colon || group_lookup(colon + 1, &gid) == 0);
		}
		if (!ok || chown(tmp, ui.uid, gid) < 0) {
			snprintf(err, errsz, "[unix_http_server] chown: cannot chown %s to %s",
				 conf->file, conf->chown);
			goto fail;
		}
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Returns the listening socket, or -1 with the reason in err. */
static int bind_unix(const struct http_server_conf *conf, char *err, size_t errsz)
{
	struct sockaddr_un sa;
	if (strlen(conf->file) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "[unix_http_server] file: '%s' is too long for a unix socket",
			 conf->file);
		return -1;
	}
	/* supervisord binds a temporary name and moves it into place, so a client never sees
	 * a socket that does not answer yet (and a reload swaps sockets with no gap) */
	char tmp[sizeof(sa.sun_path) + 16];
	snprintf(tmp, sizeof(tmp), "%s.%d", conf->file, (int)getpid());
	unlink(tmp);
	int fd = bind_unix_tmp(conf, tmp, err, errsz);
	/* replaces a stale socket of an earlier run, or ours before a reload, in one step */
	if (fd >= 0 && rename(tmp, conf->file) < 0) {
		snprintf(err, errsz, "cannot create %s: %s", conf->file, strerror(errno));
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		unlink(tmp);
	return fd;
}

static int bind_inet(const struct http_server_conf *conf, char *err, size_t errsz)
{
	char host[256] = "", port[32];
	const char *spec = conf->port, *colon = strrchr(spec, ':');
	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(port, sizeof(port), "%s", spec);
	}
	if (!strcmp(host, "*"))
		host[0] = '\0';
	/* supervisord runs such a config, so a container that ran under it must come up: said
	 * loudly here, an error in --check-config */
	if (!net_port_is_loopback(spec) && !conf->password)
		log_crit("[inet_http_server] port=%s listens beyond loopback with no password: "
			 "anyone who can reach it controls every program; set a username and "
			 "password, or use 127.0.0.1:%s",
			 spec, port);
	struct sockaddr_storage sa;
	socklen_t salen;
	const char *why;
	if (net_resolve(host, port, true, &sa, &salen, &why) < 0) {
		snprintf(err, errsz, "[inet_http_server] port: '%s': %s", spec, why);
		return -1;
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, BACKLOG) < 0) {
		snprintf(err, errsz,
			 "[inet_http_server] port: cannot open an HTTP server: port %s: %s", spec,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void endpoint_close(struct endpoint *ep, bool unlink_path)
{
	if (ep->fd < 0)
		return;
	endpoint_watch(ep, false);
	ep->paused = false;
	close(ep->fd);
	ep->fd = -1;
	if (ep->unix_path && unlink_path)
		unlink(ep->unix_path);
	free(ep->unix_path);
	free(ep->chown);
	free(ep->port);
	ep->unix_path = ep->chown = ep->port = NULL;
}

/* strdup that keeps NULL; false when out of memory */
static bool copy_opt(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	return !s || *out;
}

/* Opens the endpoint as conf says, replacing the socket it had, if any, only once the new one
 * listens. Returns -1 with the reason in err, the old socket kept. Runs at every reload, so
 * nothing here may abort: what fails is the caller's to log. */
static int endpoint_open(struct endpoint *ep, const struct http_server_conf *conf, char *err,
			 size_t errsz)
{
	char *path = NULL, *owner = NULL, *port = NULL;
	/* copied before the socket is bound: once it is, the old socket may be replaced */
	bool unix_kind = ep->kind == EP_UNIX;
	if (!copy_opt(&path, unix_kind ? conf->file : NULL) ||
	    !copy_opt(&owner, unix_kind ? conf->chown : NULL) ||
	    !copy_opt(&port, unix_kind ? NULL : conf->port)) {
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		goto fail;
	}
	int fd = unix_kind ? bind_unix(conf, err, errsz) : bind_inet(conf, err, errsz);
	if (fd < 0)
		goto fail;
	/* the old path, unless the new socket was just moved onto it */
	endpoint_close(ep, ep->unix_path && strcmp(ep->unix_path, conf->file) != 0);
	ep->fd = fd;
	ep->unix_path = path;
	ep->chown = owner;
	ep->port = port;
	if (unix_kind)
		ep->chmod = conf->chmod;
	ep->max_header_bytes = conf->max_header_bytes;
	ep->max_request_bytes = conf->max_request_bytes;
	ev_io_set(&ep->io, fd, EV_READ);
	endpoint_watch(ep, true);
	return 0;
fail:
	free(path);
	free(owner);
	free(port);
	return -1;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether the socket must be opened again for conf. */
static bool endpoint_differs(const struct endpoint *ep, const struct http_server_conf *conf)
{
	if (ep->kind == EP_UNIX)
		return !same_str(ep->unix_path, conf->file) || ep->chmod != conf->chmod ||
		       !same_str(ep->chown, conf->chown);
	return !same_str(ep->port, conf->port);
}

/* Whether something answers on the unix socket at path: a second supervisor started on the
 * same config must not take the first one's socket (supervisord refuses the same way). A
 * socket file nobody listens on is stale, and replaced. */
static bool unix_socket_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool answers = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return answers;
}

int control_start(struct supervisor *sv, char **err)
{
	if (sv->cfg->unix_server.enabled && unix_socket_answers(sv->cfg->unix_server.file)) {
		*err = xasprintf("Another program is already listening on a port that one of our "
				 "HTTP servers is configured to use.  Shut this program down first "
				 "before starting supervisord. (%s)",
				 sv->cfg->unix_server.file);
		return -1;
	}
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->sv = sv;
	ctl->rpc.sv = sv;
	sv->control = ctl;
	sv->on_process_gone = process_gone;
	sv->on_reload = control_reload;
	ev_prepare_init(&ctl->check, check_cb);
	web_init();
	/* both set up before either opens: a failed open tears down the other one too */
	for (int i = 0; i < 2; i++) {
		struct endpoint *ep = &ctl->endpoints[i];
		ep->ctl = ctl;
		ep->kind = i;
		ep->fd = -1;
		ev_init(&ep->io, accept_cb);
		ev_init(&ep->retry, retry_cb);
	}
	for (int i = 0; i < 2; i++) {
		struct endpoint *ep = &ctl->endpoints[i];
		const struct http_server_conf *conf = endpoint_conf(ep);
		char why[ERR_MAX];
		if (conf->enabled && endpoint_open(ep, conf, why, sizeof(why)) < 0) {
			*err = xstrdup(why);
			control_stop(sv);
			return -1;
		}
	}
	return 0;
}

/* Credentials and limits are read from the live config at each use; here the sockets follow
 * it. A socket that cannot be opened keeps the old one, and the log says so. */
void control_reload(struct supervisor *sv)
{
	struct control *ctl = sv->control;
	if (!ctl)
		return;
	for (int i = 0; i < 2; i++) {
		struct endpoint *ep = &ctl->endpoints[i];
		const struct http_server_conf *conf = endpoint_conf(ep);
		if (!conf->enabled) {
			if (ep->fd >= 0)
				log_info("control: %s removed: no longer listening",
					 endpoint_section(ep));
			endpoint_close(ep, true);
			continue;
		}
		if (ep->fd >= 0 && (ep->max_header_bytes != conf->max_header_bytes ||
				    ep->max_request_bytes != conf->max_request_bytes)) {
			log_info("control: %s max_header_bytes, max_request_bytes: the new values "
				 "apply to connections opened from now on",
				 endpoint_section(ep));
			ep->max_header_bytes = conf->max_header_bytes;
			ep->max_request_bytes = conf->max_request_bytes;
		}
		if (ep->fd >= 0 && !endpoint_differs(ep, conf))
			continue;
		char err[ERR_MAX];
		if (endpoint_open(ep, conf, err, sizeof(err)) < 0) {
			log_error("control: %s: %s; %s", endpoint_section(ep), err,
				  ep->fd >= 0 ? "still listening as before" : "not listening");
			continue;
		}
		log_info("control: %s listening on %s", endpoint_section(ep),
			 ep->kind == EP_UNIX ? ep->unix_path : ep->port);
	}
}

void control_stop(struct supervisor *sv)
{
	struct control *ctl = sv->control;
	if (!ctl)
		return;
	while (ctl->conns)
		conn_close(ctl->conns);
	for (int i = 0; i < 2; i++)
		endpoint_close(&ctl->endpoints[i], true);
	ev_prepare_stop(sv->loop, &ctl->check);
	sv->control = NULL;
	sv->on_process_gone = NULL;
	sv->on_reload = NULL;
	free(ctl);
}
