#include "endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "control.h"
#include "mainlog.h"
#include "net.h"
#include "passwd.h"
#include "util.h"

#define BACKLOG 1024 /* a burst of 500 connects is queued, not refused */
#define RETRY_S 1.0  /* accept again after EMFILE even if none of ours closed */

/* supervisord's GET action URLs are taken where no stranger's page can reach them: a unix
 * socket, or loopback (with a password they are taken anywhere). */
bool endpoint_trusted(const struct endpoint *ep)
{
	if (ep->kind == EP_UNIX)
		return true;
	return ep->port && net_port_is_loopback(ep->port);
}

const struct http_server_conf *endpoint_conf(const struct endpoint *ep)
{
	const struct config *cfg = ep->ctl->sv->cfg;
	return ep->kind == EP_UNIX ? &cfg->unix_server : &cfg->inet_server;
}

const char *endpoint_section(const struct endpoint *ep)
{
	return ep->kind == EP_UNIX ? "[unix_http_server]" : "[inet_http_server]";
}

/* A connection owed an answer is never closed to make room, so they may hold at most half of
 * max_connections: the other half is always there for ctl (1,100 starts waiting on a program
 * that never became ready locked every client out). */
size_t endpoint_pending_max(const struct endpoint *ep)
{
	return (size_t)endpoint_conf(ep)->max_connections / 2;
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
	/* repeating: stays active, so the unref holds */
	ev_timer_set(&ep->retry, RETRY_S, RETRY_S);
	endpoint_watch(ep, true);
}

void endpoint_resume(struct endpoint *ep)
{
	if (!ep->paused || ep->fd < 0)
		return;
	endpoint_watch(ep, false);
	ep->paused = false;
	endpoint_watch(ep, true);
}

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

void endpoint_close(struct endpoint *ep, bool unlink_path)
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
 * listens. It runs at every reload, so nothing here may abort: what fails is the caller's to
 * log. */
int endpoint_open(struct endpoint *ep, const struct http_server_conf *conf, char *err, size_t errsz)
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
bool endpoint_unix_answers(const char *path)
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
			if (conn_evict_one(ep))
				continue;
			endpoint_pause(ep, errno);
			return;
		}
		ep->told = false;
		if (ep->nconns >= (size_t)endpoint_conf(ep)->max_connections &&
		    !conn_evict_one(ep)) {
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

void endpoint_init(struct endpoint *ep, struct control *ctl, enum endpoint_kind kind)
{
	ep->ctl = ctl;
	ep->kind = kind;
	ep->fd = -1;
	ev_init(&ep->io, accept_cb);
	ev_init(&ep->retry, retry_cb);
}

/* Credentials and limits are read from the live config at each use; here the socket follows
 * it. */
void endpoint_reload(struct endpoint *ep)
{
	const struct http_server_conf *conf = endpoint_conf(ep);
	if (!conf->enabled) {
		if (ep->fd >= 0)
			log_info("control: %s removed: no longer listening", endpoint_section(ep));
		endpoint_close(ep, true);
		return;
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
		return;
	char err[ENDPOINT_ERR_MAX];
	if (endpoint_open(ep, conf, err, sizeof(err)) < 0) {
		log_error("control: %s: %s; %s", endpoint_section(ep), err,
			  ep->fd >= 0 ? "still listening as before" : "not listening");
		return;
	}
	log_info("control: %s listening on %s", endpoint_section(ep),
		 ep->kind == EP_UNIX ? ep->unix_path : ep->port);
}
