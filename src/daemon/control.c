#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "child_output.h"
#include "http.h"
#include "mainlog.h"
#include "net.h"
#include "passwd.h"
#include "rpc.h"
#include "sha1.h"
#include "util.h"
#include "web.h"

#define MAX_CONNS  1024
#define READ_CHUNK 16384
#define OUT_MAX	   (64 * 1024 * 1024)

struct listener {
	ev_io io;
	int fd;
	/* credentials copied at start: a reload frees the config, sockets stay as they are */
	struct http_server_conf conf;
	char *unix_path;
	bool trusted; /* a unix socket, or an inet one on loopback: GET action URLs allowed */
	struct control *ctl;
};

/* A GET /logtail stream: follows a log file the way supervisord's tail handler does. */
struct tail {
	ev_timer timer;
	char *path;	      /* a log file, or NULL: */
	struct process *proc; /* the in-memory tail of a program with no log file */
	int channel;
	ino_t ino;
	off_t pos;
};

struct conn {
	ev_io io;
	int fd;
	struct control *ctl;
	const struct http_server_conf *conf;
	struct http_parser parser;
	struct buf in;	/* received, not yet parsed */
	struct buf out; /* to send */
	bool keep_alive;
	bool closing;	/* close once out is sent */
	bool lingering; /* reply sent, write side shut: drain input until the peer closes */
	ev_timer linger;
	struct rpc_pending *pending;
	struct web_action *web; /* a page action in progress (start, stop...) */
	bool trusted;		/* from its listener */
	bool head;		/* the request being answered is a HEAD */
	struct tail *tail;	/* streaming: no more requests on this connection */
	struct conn *prev, *next;
};

struct control {
	struct supervisor *sv;
	struct rpc_server rpc;
	struct listener listeners[2];
	size_t nlisteners;
	struct conn *conns;
	size_t nconns;
	size_t npending;
	ev_prepare check; /* polls deferred replies before the loop sleeps */
};

static void conn_update_io(struct conn *c);
static void conn_process(struct conn *c);

static void conn_close(struct conn *c)
{
	struct control *ctl = c->ctl;
	ev_io_stop(ctl->sv->loop, &c->io);
	ev_timer_stop(ctl->sv->loop, &c->linger);
	close(c->fd);
	if (c->pending) {
		rpc_pending_free(c->pending);
		ctl->npending--;
	}
	if (c->web) {
		web_action_free(c->web);
		ctl->npending--;
	}
	if (c->tail) {
		ev_timer_stop(ctl->sv->loop, &c->tail->timer);
		free(c->tail->path);
		free(c->tail);
	}
	http_parser_free(&c->parser);
	buf_free(&c->in);
	buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	free(c);
	if (!ctl->npending)
		ev_prepare_stop(ctl->sv->loop, &ctl->check);
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

static void handle_web(struct conn *c)
{
	struct web_request rq = {
	    .method = c->parser.method,
	    .target = c->parser.target,
	    .body = c->parser.body.data,
	    .body_len = c->parser.body.len,
	    .origin = http_header(&c->parser, "Origin"),
	    .host = http_header(&c->parser, "Host"),
	    .may_get_act = c->conf->username || c->trusted,
	};
	struct web_reply r;
	c->head = !strcmp(rq.method, "HEAD");
	switch (web_handle(&c->ctl->rpc, &rq, &r)) {
	case WEB_NOT_MINE:
		respond_error(c, strcmp(rq.method, "GET") && strcmp(rq.method, "HEAD") ? 405 : 404);
		break;
	case WEB_DONE:
		send_web(c, &r);
		break;
	case WEB_PENDING:
		c->web = r.action;
		r.action = NULL;
		c->ctl->npending++;
		ev_prepare_start(c->ctl->sv->loop, &c->ctl->check);
		break;
	}
	web_reply_free(&r);
}

/* SHA-1 of the password as hex, for {SHA} passwords in the config. */
static bool password_matches(const char *configured, const char *given)
{
	if (strncmp(configured, "{SHA}", 5) != 0)
		return strcmp(configured, given) == 0;
	uint8_t md[20];
	char hex[41];
	sha1(given, strlen(given), md);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return strcasecmp(configured + 5, hex) == 0;
}

static bool authorized(struct conn *c)
{
	const struct http_server_conf *conf = c->conf;
	if (!conf->username)
		return true;
	const char *h = http_header(&c->parser, "Authorization");
	char user[256], pass[256];
	return h && http_basic_auth_parse(h, user, sizeof(user), pass, sizeof(pass)) &&
	       strcmp(user, conf->username) == 0 &&
	       password_matches(conf->password ? conf->password : "", pass);
}

static void handle_rpc(struct conn *c)
{
	struct xr_call call;
	char err[256];
	struct rpc_answer a;
	const char *body = c->parser.body.data ? c->parser.body.data : "";

	if (!xr_parse_call(body, c->parser.body.len, NULL, &call, err, sizeof(err))) {
		log_debug("control: bad XML-RPC request: %s", err);
		respond_error(c, 400);
		return;
	}
	rpc_dispatch(&c->ctl->rpc, call.method, call.params, &a);
	xr_call_free(&call);
	if (a.pending) {
		c->pending = a.pending;
		c->ctl->npending++;
		ev_prepare_start(c->ctl->sv->loop, &c->ctl->check);
		return;
	}
	send_answer(c, &a);
	rpc_answer_clear(&a);
}

#define TAIL_FIRST   1024
#define TAIL_POLL    0.1
#define TAIL_OUT_MAX (1024 * 1024)

static void tail_send(struct conn *c, const char *data, size_t len)
{
	if (len)
		http_write_chunk(&c->out, data, len);
}

/* Sends what the file gained since the last look; handles rotation and truncation. */
static void tail_poll(struct conn *c)
{
	struct tail *t = c->tail;
	struct stat st;
	if (c->out.len > TAIL_OUT_MAX)
		return; /* the reader is slow: let it catch up first */
	if (!t->path) {
		off_t size = (off_t)output_tail_size(t->proc, t->channel);
		if (size < t->pos) {
			static const char msg[] = "==> File truncated <==\n";
			tail_send(c, msg, sizeof(msg) - 1);
			t->pos = 0;
		}
		char buf[65536];
		while (t->pos < size && c->out.len <= TAIL_OUT_MAX) {
			size_t got = output_tail_read(t->proc, t->channel,
						      (unsigned long long)t->pos, sizeof(buf), buf);
			if (!got)
				break;
			tail_send(c, buf, got);
			t->pos += (off_t)got;
		}
		return;
	}
	if (stat(t->path, &st) < 0)
		return;
	if (st.st_ino != t->ino) {
		t->ino = st.st_ino; /* rotated: follow the new file from its start */
		t->pos = 0;
	} else if (st.st_size < t->pos) {
		static const char msg[] = "==> File truncated <==\n";
		tail_send(c, msg, sizeof(msg) - 1);
		t->pos = 0;
	}
	if (st.st_size <= t->pos)
		return;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[65536];
	while (t->pos < st.st_size && c->out.len <= TAIL_OUT_MAX) {
		size_t want = sizeof(buf);
		if ((off_t)want > st.st_size - t->pos)
			want = (size_t)(st.st_size - t->pos);
		ssize_t r = pread(fd, buf, want, t->pos);
		if (r <= 0)
			break;
		tail_send(c, buf, (size_t)r);
		t->pos += r;
	}
	close(fd);
}

static void tail_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	(void)loop;
	(void)revents;
	tail_poll(c);
	conn_update_io(c);
}

/* "%2A" -> "*", as supervisord unquotes the namespec. */
static void percent_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};
			char *end;
			long v = strtol(hex, &end, 16);
			if (!*end) {
				*o++ = (char)v;
				s += 2;
				continue;
			}
		}
		*o++ = *s;
	}
	*o = '\0';
}

static void start_tail(struct conn *c, const char *path, struct process *proc, int channel)
{
	struct stat st;
	if (!path && proc && output_has_tail(proc, channel)) {
		st.st_size = (off_t)output_tail_size(proc, channel);
		st.st_mtime = time(NULL);
		st.st_ino = 0;
	} else if (!path || stat(path, &st) < 0) {
		respond_error(c, 404);
		return;
	}
	struct tail *t = xcalloc(1, sizeof(*t));
	t->path = path ? xstrdup(path) : NULL;
	t->proc = path ? NULL : proc;
	t->channel = channel;
	t->ino = st.st_ino;
	t->pos = st.st_size > TAIL_FIRST ? st.st_size - TAIL_FIRST : 0;
	c->tail = t;
	c->keep_alive = false;
	char extra[256], date[64];
	struct tm tm;
	gmtime_r(&st.st_mtime, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(extra, sizeof(extra), "Last-Modified: %s\r\nX-Accel-Buffering: no\r\n", date);
	http_write_response_head(&c->out, 200, "text/plain;charset=utf-8", -1, true, extra);
	tail_poll(c);
	ev_timer_init(&t->timer, tail_timer_cb, TAIL_POLL, TAIL_POLL);
	t->timer.data = c;
	ev_timer_start(c->ctl->sv->loop, &t->timer);
}

static void handle_logtail(struct conn *c, const char *target)
{
	if (strcmp(target, "/mainlogtail") == 0) {
		start_tail(c, log_path(), NULL, 0);
		return;
	}
	char spec[1024];
	snprintf(spec, sizeof(spec), "%s", target + strlen("/logtail/"));
	int channel = 1;
	char *slash = strrchr(spec, '/');
	if (slash && (!strcmp(slash + 1, "stdout") || !strcmp(slash + 1, "stderr"))) {
		channel = !strcmp(slash + 1, "stderr") ? 2 : 1;
		*slash = '\0';
	}
	percent_decode(spec);
	char group[1024], name[1024];
	const char *colon = strchr(spec, ':');
	snprintf(group, sizeof(group), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec),
		 spec);
	snprintf(name, sizeof(name), "%s", colon ? colon + 1 : spec);
	struct process *p = supervisor_find(c->ctl->sv, group, name);
	start_tail(c, p ? output_logfile(p, channel) : NULL, p, channel);
}

static void handle_request(struct conn *c)
{
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
		handle_rpc(c);
		return;
	}
	if (!strncmp(target, "/logtail/", 9) || !strcmp(target, "/mainlogtail")) {
		if (strcmp(method, "GET") != 0) {
			respond_error(c, 400);
			return;
		}
		handle_logtail(c, target);
		return;
	}
	handle_web(c);
}

static void conn_process(struct conn *c)
{
	if (c->tail)
		buf_reset(&c->in); /* a streaming client has nothing more to ask */
	while (!c->tail && !c->pending && !c->web && !c->closing && c->in.len > 0) {
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
		handle_request(c);
		http_parser_reset(&c->parser);
	}
	conn_update_io(c);
}

/* Writes what it can. Returns false if the connection was closed. */
static bool conn_flush(struct conn *c)
{
	while (c->out.len > 0) {
		ssize_t w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (w > 0) {
			buf_consume(&c->out, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		conn_close(c);
		return false;
	}
	if (c->closing && !c->pending && !c->lingering) {
		/* close gracefully: a client still writing (supervisorctl sends a trailing blank
		 * line) would get a reset instead of our answer */
		shutdown(c->fd, SHUT_WR);
		c->lingering = true;
		ev_timer_start(c->ctl->sv->loop, &c->linger);
	}
	return true;
}

static void linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_close(w->data);
}

static void conn_update_io(struct conn *c)
{
	if (!conn_flush(c))
		return;
	int want = 0;
	if (c->lingering)
		want |= EV_READ;
	/* read only while idle: one request at a time per connection, bounded input */
	if ((c->tail || !c->pending) && !c->closing && c->in.len < READ_CHUNK * 4)
		want |= EV_READ;
	if (c->out.len > 0)
		want |= EV_WRITE;
	struct ev_loop *loop = c->ctl->sv->loop;
	if (want != (c->io.events & (EV_READ | EV_WRITE)) || !ev_is_active(&c->io)) {
		ev_io_stop(loop, &c->io);
		if (want) {
			ev_io_set(&c->io, c->fd, want);
			ev_io_start(loop, &c->io);
		}
	}
}

static void conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct conn *c = container_of(io, struct conn, io);
	(void)loop;
	if (revents & EV_READ) {
		char buf[READ_CHUNK];
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r == 0 ||
		    (r < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
			conn_close(c);
			return;
		}
		if (c->lingering)
			return; /* discard */
		if (r > 0 && !buf_append(&c->in, buf, (size_t)r)) {
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

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct listener *l = container_of(io, struct listener, io);
	struct control *ctl = l->ctl;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (ctl->nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		struct conn *c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->ctl = ctl;
		c->conf = &l->conf;
		c->trusted = l->trusted;
		http_parser_init(&c->parser, HTTP_REQUEST, NULL);
		buf_init(&c->in, 2 * 1024 * 1024);
		buf_init(&c->out, OUT_MAX);
		c->next = ctl->conns;
		if (ctl->conns)
			ctl->conns->prev = c;
		ctl->conns = c;
		ctl->nconns++;
		ev_timer_init(&c->linger, linger_cb, 2.0, 0);
		c->linger.data = c;
		ev_io_init(&c->io, conn_cb, fd, EV_READ);
		ev_io_start(loop, &c->io);
	}
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
			if (web_action_poll(&ctl->rpc, c->web, &r)) {
				web_action_free(c->web);
				c->web = NULL;
				ctl->npending--;
				send_web(c, &r);
				conn_process(c);
			}
			web_reply_free(&r);
			continue;
		}
		if (!c->pending)
			continue;
		struct rpc_answer a = {0};
		if (!rpc_poll(&ctl->rpc, c->pending, &a))
			continue;
		rpc_pending_free(c->pending);
		c->pending = NULL;
		ctl->npending--;
		send_answer(c, &a);
		rpc_answer_clear(&a);
		conn_process(c);
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
		if (c->tail && c->tail->proc == p)
			conn_close(c); /* its stream has nothing left to follow */
	}
}

static int bind_unix(struct listener *l, const struct http_server_conf *conf, char **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(conf->file) >= sizeof(sa.sun_path)) {
		*err = xasprintf("[unix_http_server] file: '%s' is too long for a unix socket",
				 conf->file);
		return -1;
	}
	/* supervisord binds a temporary name and links it into place, so a client never sees
	 * a socket that does not answer yet */
	char *tmp = xasprintf("%s.%d", conf->file, (int)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tmp);
	unlink(tmp);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 128) < 0) {
		*err = xasprintf("cannot open an HTTP server: socket %s: %s", conf->file,
				 strerror(errno));
		goto fail;
	}
	if (chmod(tmp, (mode_t)conf->chmod) < 0) {
		*err = xasprintf("cannot chmod %s: %s", conf->file, strerror(errno));
		goto fail;
	}
	if (conf->chown) {
		char *user = xstrdup(conf->chown), *group = strchr(user, ':');
		struct user_info ui;
		gid_t gid = (gid_t)-1;
		if (group)
			*group++ = '\0';
		bool ok = user_lookup(user, &ui) == 0 && (!group || group_lookup(group, &gid) == 0);
		if (ok && !group)
			gid = ui.gid;
		if (!ok || chown(tmp, ui.uid, gid) < 0) {
			*err = xasprintf("[unix_http_server] chown: cannot chown %s to %s",
					 conf->file, conf->chown);
			free(user);
			goto fail;
		}
		free(user);
	}
	unlink(conf->file); /* a stale socket of an earlier run */
	if (link(tmp, conf->file) < 0 && rename(tmp, conf->file) < 0) {
		*err = xasprintf("cannot create %s: %s", conf->file, strerror(errno));
		goto fail;
	}
	unlink(tmp);
	free(tmp);
	l->fd = fd;
	l->unix_path = xstrdup(conf->file);
	l->trusted = true;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static bool loopback_host(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
	       !strncmp(host, "127.", 4);
}

static int bind_inet(struct listener *l, const struct http_server_conf *conf, char **err)
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
	if (!loopback_host(host) && !conf->password) {
		*err = xasprintf("[inet_http_server] port: %s listens beyond loopback; set a "
				 "username and password, or use 127.0.0.1:%s",
				 spec, port);
		return -1;
	}
	struct sockaddr_storage sa;
	socklen_t salen;
	const char *why;
	if (net_resolve(host, port, true, &sa, &salen, &why) < 0) {
		*err = xasprintf("[inet_http_server] port: '%s': %s", spec, why);
		return -1;
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 128) < 0) {
		*err = xasprintf("cannot open an HTTP server: port %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->fd = fd;
	l->trusted = loopback_host(host);
	return 0;
}

int control_start(struct supervisor *sv, char **err)
{
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->sv = sv;
	ctl->rpc.sv = sv;
	sv->control = ctl;
	sv->on_process_gone = process_gone;
	ev_prepare_init(&ctl->check, check_cb);
	web_init();
	const struct http_server_conf *confs[2] = {&sv->cfg->unix_server, &sv->cfg->inet_server};
	for (int i = 0; i < 2; i++) {
		if (!confs[i]->enabled)
			continue;
		struct listener *l = &ctl->listeners[ctl->nlisteners];
		l->ctl = ctl;
		l->conf.username = confs[i]->username ? xstrdup(confs[i]->username) : NULL;
		l->conf.password = confs[i]->password ? xstrdup(confs[i]->password) : NULL;
		l->fd = -1;
		if ((i == 0 ? bind_unix(l, confs[i], err) : bind_inet(l, confs[i], err)) < 0) {
			free(l->conf.username);
			free(l->conf.password);
			control_stop(sv);
			return -1;
		}
		ctl->nlisteners++;
		ev_io_init(&l->io, accept_cb, l->fd, EV_READ);
		ev_io_start(sv->loop, &l->io);
		/* listening alone must not keep the loop running at shutdown */
		ev_unref(sv->loop);
	}
	return 0;
}

void control_stop(struct supervisor *sv)
{
	struct control *ctl = sv->control;
	if (!ctl)
		return;
	while (ctl->conns)
		conn_close(ctl->conns);
	for (size_t i = 0; i < ctl->nlisteners; i++) {
		struct listener *l = &ctl->listeners[i];
		ev_ref(sv->loop);
		ev_io_stop(sv->loop, &l->io);
		close(l->fd);
		free(l->conf.username);
		free(l->conf.password);
		if (l->unix_path) {
			unlink(l->unix_path);
			free(l->unix_path);
		}
	}
	ev_prepare_stop(sv->loop, &ctl->check);
	sv->control = NULL;
	sv->on_process_gone = NULL;
	free(ctl);
}
