#include "rpc_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A reply bigger than this is refused (getAllProcessInfo for 1000 programs is ~700 KiB). */
#define RPC_MAX_REPLY (64 * 1024 * 1024)

bool rpc_client_init(struct rpc_client *c, const char *url, const char *username,
		     const char *password, char *err, size_t errsize)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	buf_init(&c->auth, 8192);
	if (snprintf(c->url, sizeof(c->url), "%s", url) >= (int)sizeof(c->url)) {
		snprintf(err, errsize, "server URL too long");
		return false;
	}
	if (strncmp(url, "unix://", 7) == 0) {
		c->is_unix = true;
		if (snprintf(c->path, sizeof(c->path), "%s", url + 7) >= (int)sizeof(c->path)) {
			snprintf(err, errsize, "socket path too long: %s", url + 7);
			return false;
		}
		snprintf(c->host_header, sizeof(c->host_header), "localhost");
	} else if (strncmp(url, "http://", 7) == 0) {
		const char *h = url + 7;
		size_t hostlen = strcspn(h, "/?#");
		char hostport[sizeof(c->host)];
		if (hostlen >= sizeof(hostport)) {
			snprintf(err, errsize, "host name too long in %s", url);
			return false;
		}
		memcpy(hostport, h, hostlen);
		hostport[hostlen] = '\0';
		char *at = strrchr(hostport, '@'); /* user:pass@ is ignored, as urlparse does */
		char *hp = at ? at + 1 : hostport;
		memcpy(c->host_header, hp, strlen(hp) + 1);
		char *colon;
		if (*hp == '[') {
			char *close = strchr(hp, ']');
			if (!close) {
				snprintf(err, errsize, "bad IPv6 address in %s", url);
				return false;
			}
			*close = '\0';
			memmove(c->host, hp + 1, strlen(hp + 1) + 1);
			colon = close[1] == ':' ? close + 1 : NULL;
		} else {
			colon = strrchr(hp, ':');
			if (colon)
				*colon = '\0';
			memmove(c->host, hp, strlen(hp) + 1);
		}
		snprintf(c->port, sizeof(c->port), "%s", colon && colon[1] ? colon + 1 : "80");
		if (!*c->host)
			snprintf(c->host, sizeof(c->host), "localhost");
	} else {
		snprintf(err, errsize, "Unknown protocol for serverurl %s", url);
		return false;
	}
	if (username && password && !http_basic_auth_format(&c->auth, username, password)) {
		snprintf(err, errsize, "username or password too long");
		return false;
	}
	return true;
}

void rpc_client_close(struct rpc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->connected_ok = false;
}

/* The waits of one call. Every socket is non-blocking and every wait is a ppoll() bounded
 * by the call's single deadline, so a server that trickles its answer cannot stretch it. */
struct io_wait {
	long long deadline; /* CLOCK_MONOTONIC ms; -1: none */
	int timeout_ms;	    /* the client's, to rearm the deadline (RPC_WAIT_REPLY) */
	const volatile sig_atomic_t *stop;
	const sigset_t *mask;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void arm_deadline(struct io_wait *w)
{
	w->deadline = w->timeout_ms > 0 ? now_ms() + w->timeout_ms : -1;
}

/* Waits for events on fd, or (fd < 0) just pauses up to max_ms. True when ready or the pause
 * is over; false with errno ETIMEDOUT when the deadline passed, EINTR when *stop was set. */
static bool wait_io(const struct io_wait *w, int fd, short events, long long max_ms)
{
	for (;;) {
		if (w->stop && *w->stop) {
			errno = EINTR;
			return false;
		}
		long long left = max_ms;
		if (w->deadline >= 0) {
			long long until = w->deadline - now_ms();
			if (until <= 0) {
				errno = ETIMEDOUT;
				return false;
			}
			if (left < 0 || until < left)
				left = until;
		}
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000};
		struct pollfd pfd = {.fd = fd, .events = events};
		int n =
		    ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, left >= 0 ? &ts : NULL, w->mask);
		if (n > 0 || (n == 0 && fd < 0 && left == max_ms))
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

/* A unix listener with a full backlog answers a non-blocking connect with EAGAIN, and poll()
 * cannot wait for room on an unconnected unix socket: pause this long and try again. */
#define UNIX_BACKLOG_PAUSE_MS 20

/* fd, or -errno (-ETIMEDOUT when the deadline passed). */
static int connect_addr(const struct sockaddr *sa, socklen_t len, const struct io_wait *w)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int e;
	for (;;) {
		if (connect(fd, sa, len) == 0)
			return fd;
		e = errno;
		if (e == EAGAIN && sa->sa_family == AF_UNIX) {
			if (wait_io(w, -1, 0, UNIX_BACKLOG_PAUSE_MS))
				continue;
			e = errno;
		} else if (e == EINPROGRESS) {
			socklen_t elen = sizeof(e);
			if (!wait_io(w, fd, POLLOUT, -1))
				e = errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
				e = errno;
			else if (e == 0)
				return fd;
		}
		break;
	}
	close(fd);
	return -e;
}

static int connect_unix(struct rpc_client *c, const struct io_wait *w)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	return connect_addr((struct sockaddr *)&sa, sizeof(sa), w);
}

/* Each address in turn, all within the one deadline. */
static int connect_tcp(struct rpc_client *c, const struct io_wait *w, char *msg, size_t msgsize)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res, *ai;
	int gai = getaddrinfo(c->host, c->port, &hints, &res);
	if (gai) {
		snprintf(msg, msgsize, "%s", gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	int fd = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_addr(ai->ai_addr, ai->ai_addrlen, w);
		if (fd >= 0 || fd == -ETIMEDOUT || fd == -EINTR)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static enum rpc_status fail(struct rpc_result *out, enum rpc_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum rpc_status fail(struct rpc_result *out, enum rpc_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	out->status = st;
	return st;
}

static enum rpc_status timed_out(const struct rpc_client *c, struct rpc_result *out,
				 const char *doing)
{
	return fail(out, RPC_TIMEOUT, "timed out after %g s %s", c->timeout_ms / 1000.0, doing);
}

static enum rpc_status ensure_connected(struct rpc_client *c, const struct io_wait *w,
					struct rpc_result *out)
{
	if (c->fd >= 0)
		return RPC_OK;
	int fd =
	    c->is_unix ? connect_unix(c, w) : connect_tcp(c, w, out->message, sizeof(out->message));
	if (fd == -ETIMEDOUT && w->deadline >= 0 && now_ms() >= w->deadline)
		return timed_out(c, out, "connecting");
	if (fd < 0) {
		out->sys_errno = -fd;
		if (!out->message[0])
			snprintf(out->message, sizeof(out->message), "%s", strerror(-fd));
		out->status = RPC_CONNECT;
		return RPC_CONNECT;
	}
	c->fd = fd;
	c->connected_ok = false;
	return RPC_OK;
}

static bool send_all(struct rpc_client *c, const struct io_wait *w, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!wait_io(w, c->fd, POLLOUT, -1))
				return false;
			continue;
		}
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads until the parser has a whole response. *got_any tells the caller
 * whether a stale keep-alive connection may be retried. */
static enum http_result read_response(struct rpc_client *c, struct http_parser *p,
				      enum rpc_wait how, struct io_wait *w, bool *got_any)
{
	char buf[16384];
	*got_any = false;
	if (how == RPC_WAIT_REPLY)
		w->deadline = -1; /* until the answer starts */
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!wait_io(w, c->fd, POLLIN, -1))
				return w->stop && *w->stop ? HTTP_DONE : HTTP_ERROR;
			continue;
		}
		if (n < 0)
			return HTTP_ERROR;
		if (n == 0) {
			errno = ECONNRESET;
			return http_parser_eof(p);
		}
		if (how == RPC_WAIT_REPLY && !*got_any)
			arm_deadline(w);
		*got_any = true;
		size_t used;
		enum http_result r = http_parser_feed(p, buf, (size_t)n, &used);
		if (r != HTTP_NEED_MORE)
			return r;
		if (how == RPC_WAIT_STREAM && p->head_done)
			w->deadline = -1; /* the body is open-ended */
	}
}

/* Sends one request head (+ body) and reads the reply head and body. */
static enum rpc_status exchange(struct rpc_client *c, const struct buf *req, struct http_parser *p,
				enum rpc_wait how, const volatile sig_atomic_t *stop,
				const sigset_t *mask, struct rpc_result *out)
{
	struct io_wait w = {.timeout_ms = c->timeout_ms, .stop = stop, .mask = mask};
	arm_deadline(&w);
	for (int attempt = 0;; attempt++) {
		bool reused = c->fd >= 0 && c->connected_ok;
		if (ensure_connected(c, &w, out) != RPC_OK)
			return out->status;
		bool got_any = false;
		enum http_result r = HTTP_ERROR;
		bool sent = send_all(c, &w, req->data, req->len);
		if (sent)
			r = read_response(c, p, how, &w, &got_any);
		int saved = errno;
		if (r == HTTP_DONE) {
			c->connected_ok = true;
			if (!p->keep_alive)
				rpc_client_close(c);
			return RPC_OK;
		}
		rpc_client_close(c);
		if (saved == ETIMEDOUT && w.deadline >= 0 && now_ms() >= w.deadline)
			return timed_out(c, out,
					 !sent	   ? "sending the request"
					 : got_any ? "reading the answer"
						   : "waiting for the answer");
		/* The server may drop an idle keep-alive connection at any time. */
		if (reused && !got_any && attempt == 0) {
			http_parser_reset(p);
			if (how == RPC_WAIT_REPLY)
				arm_deadline(&w);
			continue;
		}
		if (p->error_status)
			return fail(out, RPC_PROTOCOL, "bad HTTP reply: %s", p->error_msg);
		return fail(out, RPC_PROTOCOL, "%s", strerror(saved));
	}
}

/* Anything but 200 is xmlrpclib's ProtocolError. */
static enum rpc_status check_status(const struct http_parser *p, struct rpc_result *out)
{
	if (p->status == 200)
		return RPC_OK;
	out->http_status = p->status;
	snprintf(out->reason, sizeof(out->reason), "%s", p->reason ? p->reason : "");
	return fail(out, RPC_HTTP, "%d %s", p->status, out->reason);
}

static void request_head(struct rpc_client *c, struct buf *req, const char *method,
			 const char *path)
{
	buf_printf(req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, c->host_header);
	if (c->auth.len)
		buf_printf(req, "Authorization: %s\r\n", c->auth.data);
}

enum rpc_status rpc_call(struct rpc_client *c, const char *method,
			 const struct xr_value *const *params, size_t nparams,
			 struct rpc_result *out)
{
	return rpc_call_wait(c, method, params, nparams, RPC_WAIT_DEADLINE, out);
}

enum rpc_status rpc_call_wait(struct rpc_client *c, const char *method,
			      const struct xr_value *const *params, size_t nparams,
			      enum rpc_wait how, struct rpc_result *out)
{
	memset(out, 0, sizeof(*out));
	struct buf body, req;
	buf_init(&body, 0);
	buf_init(&req, 0);
	if (!xr_encode_call(&body, method, params, nparams)) {
		buf_free(&body);
		return fail(out, RPC_PROTOCOL, "cannot encode the call to %s", method);
	}
	request_head(c, &req, "POST", "/RPC2");
	buf_printf(&req,
		   "Accept-Encoding: identity\r\nUser-Agent: pidvisor/%s\r\n"
		   "Content-Type: text/xml\r\nAccept: text/xml\r\nContent-Length: %zu\r\n\r\n",
		   PIDVISOR_VERSION, body.len);
	buf_append(&req, body.data, body.len);
	buf_free(&body);

	struct http_limits lim = http_default_limits;
	lim.max_body = RPC_MAX_REPLY;
	struct http_parser p;
	http_parser_init(&p, HTTP_RESPONSE, &lim);
	enum rpc_status st = req.failed ? fail(out, RPC_PROTOCOL, "out of memory")
					: exchange(c, &req, &p, how, NULL, NULL, out);
	buf_free(&req);
	if (st == RPC_OK)
		st = check_status(&p, out);
	if (st == RPC_HTTP) {
		rpc_client_close(c);
	} else if (st == RPC_OK) {
		struct xr_response resp;
		struct xr_limits xl = xr_default_limits;
		xl.max_bytes = RPC_MAX_REPLY;
		xl.max_values = RPC_MAX_REPLY / 16;
		char err[128];
		if (!xr_parse_response(p.body.data ? p.body.data : "", p.body.len, &xl, &resp, err,
				       sizeof(err))) {
			st = fail(out, RPC_PROTOCOL, "bad XML-RPC reply: %s", err);
		} else if (resp.is_fault) {
			out->status = st = RPC_FAULT;
			out->fault_code = resp.fault_code;
			out->fault_string = resp.fault_string;
		} else {
			out->value = resp.value;
		}
	}
	http_parser_free(&p);
	return st;
}

enum rpc_status rpc_call_strings(struct rpc_client *c, const char *method, struct rpc_result *out,
				 ...)
{
	struct xr_value *params[4];
	size_t n = 0;
	va_list ap;
	va_start(ap, out);
	for (const char *s; n < 4 && (s = va_arg(ap, const char *));)
		params[n++] = xr_string(s);
	va_end(ap);
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		ok = ok && params[i];
	enum rpc_status st =
	    ok ? rpc_call(c, method, (const struct xr_value *const *)params, n, out)
	       : fail(out, RPC_PROTOCOL, "out of memory");
	for (size_t i = 0; i < n; i++)
		xr_free(params[i]);
	return st;
}

void rpc_result_free(struct rpc_result *r)
{
	xr_free(r->value);
	free(r->fault_string);
	memset(r, 0, sizeof(*r));
}

/* Only a 200 answer's body is the stream; an error page is not shown. */
struct stream_sink {
	http_body_fn fn;
	void *ctx;
	const struct http_parser *p;
};

static void sink_body(void *ctx, const char *data, size_t len)
{
	struct stream_sink *s = ctx;
	if (s->p->status == 200)
		s->fn(s->ctx, data, len);
}

enum rpc_status rpc_stream(struct rpc_client *c, const char *path, http_body_fn fn, void *ctx,
			   const volatile sig_atomic_t *stop, const sigset_t *wait_mask,
			   struct rpc_result *out)
{
	memset(out, 0, sizeof(*out));
	rpc_client_close(c); /* a stream owns its connection */
	struct buf req;
	buf_init(&req, 0);
	request_head(c, &req, "GET", path);
	buf_printf(&req,
		   "Accept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: pidvisor/%s\r\n\r\n",
		   PIDVISOR_VERSION);
	struct http_parser p;
	struct stream_sink sink = {fn, ctx, &p};
	http_parser_init(&p, HTTP_RESPONSE, NULL);
	p.on_body = sink_body;
	p.ctx = &sink;
	enum rpc_status st = exchange(c, &req, &p, RPC_WAIT_STREAM, stop, wait_mask, out);
	buf_free(&req);
	if (st == RPC_OK)
		st = check_status(&p, out);
	rpc_client_close(c);
	http_parser_free(&p);
	return st;
}
