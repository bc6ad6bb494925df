#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "control.h"
#include "logtail.h"
#include "mainlog.h"
#include "router.h"
#include "util.h"
#include "web.h"

#define READ_CHUNK 16384
#define IN_MAX	   (READ_CHUNK * 4) /* unparsed input kept: reading stops there */
#define LINGER_S   2.0

/* An answer is being made for this connection: no more requests are taken meanwhile. */
static bool busy(const struct conn *c)
{
	return c->pending || c->web;
}

static size_t out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Whether the next pipelined request waits: a request is always taken on an empty queue. */
static bool queue_full(const struct conn *c)
{
	size_t queued = out_pending(c);
	return queued && queued >= (size_t)endpoint_conf(c->ep)->max_queued_bytes;
}

void conn_await(struct conn *c)
{
	c->ep->npending++;
	c->ep->ctl->npending++;
	ev_prepare_start(c->ep->ctl->sv->loop, &c->ep->ctl->check);
}

void conn_answered(struct conn *c)
{
	c->ep->npending--;
	c->ep->ctl->npending--;
}

static void stream_free(struct conn *c)
{
	if (!c->tail)
		return;
	ev_timer_stop(c->ep->ctl->sv->loop, &c->tail_timer);
	logtail_free(c->tail);
	c->tail = NULL;
}

void conn_close(struct conn *c)
{
	struct control *ctl = c->ep->ctl;
	struct ev_loop *loop = ctl->sv->loop;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	if (c->pending) {
		rpc_pending_free(c->pending);
		conn_answered(c);
	}
	if (c->web) {
		web_action_free(c->web);
		conn_answered(c);
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
	/* an fd is free again */
	for (int i = 0; i < 2; i++)
		endpoint_resume(&ctl->endpoints[i]);
}

void conn_respond(struct conn *c, int status, const char *type, const char *body, size_t len,
		  const char *extra)
{
	if (!c->keep_alive)
		c->closing = true;
	http_write_response_head(&c->out, status, type, (long long)len, c->keep_alive, extra);
	buf_append(&c->out, body, len);
	if (c->out.failed)
		c->closing = true;
}

void conn_respond_error(struct conn *c, int status)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	c->keep_alive = false;
	conn_respond(c, status, "text/plain", body, (size_t)n, NULL);
}

static void conn_update_io(struct conn *c);

static void stream_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = container_of(w, struct conn, tail_timer);
	(void)loop;
	(void)revents;
	logtail_poll(c->tail, &c->out, c->out_off);
	conn_update_io(c);
}

void conn_stream(struct conn *c, struct logtail *t)
{
	c->tail = t;
	c->keep_alive = false;
	logtail_write_head(t, &c->out);
	logtail_poll(t, &c->out, c->out_off);
	ev_timer_init(&c->tail_timer, stream_timer_cb, LOGTAIL_POLL_S, LOGTAIL_POLL_S);
	ev_timer_start(c->ep->ctl->sv->loop, &c->tail_timer);
}

void conn_stream_end(struct conn *c)
{
	stream_free(c);
	http_write_chunk(&c->out, NULL, 0);
	c->closing = true;
}

/* Checked against the live config, so a reload's new credentials apply to the next request. */
static bool authorized(struct conn *c)
{
	const struct http_server_conf *conf = endpoint_conf(c->ep);
	if (!conf->enabled)
		return false; /* a reload removed this server: its open connections are refused */
	return auth_allows(conf, http_header(&c->parser, "Authorization"));
}

static void handle_request(struct conn *c)
{
	c->ep->ctl->requests++;
	c->keep_alive = c->parser.keep_alive;
	if (!authorized(c)) {
		c->keep_alive = false;
		static const char body[] = "401 Unauthorized\n";
		conn_respond(c, 401, "text/plain", body, sizeof(body) - 1,
			     "WWW-Authenticate: Basic realm=\"default\"\r\n");
		return;
	}
	route_request(c);
}

/* Answers the requests that have arrived, one at a time, while the answers queued for this
 * connection stay under max_queued_bytes: a client that pipelines and never reads waits for
 * its queue to drain (and reading stops once IN_MAX is buffered) instead of growing it. */
void conn_process(struct conn *c)
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
			conn_respond_error(c,
					   c->parser.error_status ? c->parser.error_status : 400);
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
		conn_respond_error(c, 408);
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
bool conn_evict_one(struct endpoint *ep)
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

void conn_open(struct endpoint *ep, int fd)
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
	buf_init(&c->out, CONN_OUT_MAX);
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
