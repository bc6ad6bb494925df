#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_output.h"
#include "mainlog.h"
#include "process.h"
#include "resolver.h"
#include "util.h"

#define OUTPUT_MAX     4096	   /* of a check command's output, kept for the log */
#define READ_MAX       (64 * 1024) /* of a check command's output per wake-up; the rest waits */
#define HTTP_HEAD_MAX  1024	   /* enough for a status line */
#define STARTING_EVERY 1.0	   /* seconds between checks while starting, at most */
#define RUNNING_SLOTS  256	   /* buckets of the table of check commands by pid */

extern char **environ;

static struct ev_loop *loop;
static health_change_fn changed;
/* cmd checks whose child is not reaped yet, by pid: a reap costs the same with 10 or 10,000
 * checks */
static struct health *running[RUNNING_SLOTS];

static struct health **running_slot(pid_t pid)
{
	return &running[(unsigned)pid % RUNNING_SLOTS];
}

static void running_add(struct health *h)
{
	struct health **slot = running_slot(h->pid);
	h->next_running = *slot;
	*slot = h;
}

/* The check command's entry, unlinked; NULL when pid is not one. */
static struct health *running_take(pid_t pid)
{
	for (struct health **link = running_slot(pid); *link; link = &(*link)->next_running) {
		struct health *h = *link;
		if (h->pid == pid) {
			*link = h->next_running;
			h->next_running = NULL;
			return h;
		}
	}
	return NULL;
}

static const char *const status_names[] = {"starting", "healthy", "unhealthy"};

const char *health_status_name(enum health_status s)
{
	return status_names[s];
}

const char *health_of(const struct process *p)
{
	return p->conf->health.kind != HEALTH_NONE && p->health.active
		   ? status_names[p->health.status]
		   : NULL;
}

static void schedule(struct health *h)
{
	double every = h->p->conf->health_interval;
	if (h->status == HEALTH_STARTING && every > STARTING_EVERY)
		every = STARTING_EVERY;
	ev_timer_set(&h->tick, every, 0);
	ev_timer_start(loop, &h->tick);
}

static void end_io(struct health *h)
{
	if (h->lookup)
		resolver_cancel(h->lookup);
	h->lookup = NULL;
	ev_io_stop(loop, &h->io);
	ev_timer_stop(loop, &h->timeout);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* One check's verdict. `why` says what failed, for the log. */
static void verdict(struct health *h, bool ok, const char *why)
{
	end_io(h);
	h->in_flight = false;
	buf_reset(&h->got);
	if (!h->active)
		return;
	struct process *p = h->p;
	enum health_status from = h->status;
	if (ok) {
		h->failures = 0;
		h->status = HEALTH_HEALTHY;
	} else {
		bool grace = ev_now(loop) - h->spawned < p->conf->health_start_period;
		char line[OUTPUT_MAX + 160];
		snprintf(line, sizeof(line), "healthcheck: %s%s", why,
			 grace ? " (within healthcheck_start_period: not counted)" : "");
		output_note(p, line);
		if (!grace && ++h->failures >= p->conf->health_retries)
			h->status = HEALTH_UNHEALTHY;
	}
	if (h->status != from) {
		log_info("%s is %s", p->conf->name, status_names[h->status]);
		changed(p, from);
	}
	if (h->active)
		schedule(h);
}

static void timeout_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct health *h = w->data;
	char why[320];
	if (h->lookup)
		snprintf(why, sizeof(why), "no address for %s within %gs (name lookup)",
			 h->p->conf->health.name, h->p->conf->health_timeout);
	else
		snprintf(why, sizeof(why), "no answer within %gs", h->p->conf->health_timeout);
	if (h->pid > 0)
		kill(-h->pid, SIGKILL); /* reaped through health_reaped */
	verdict(h, false, why);
}

/* http: and tcp: */
static void socket_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct health *h = w->data;
	const struct health_spec *spec = &h->p->conf->health;
	if (revents & EV_WRITE) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			char why[128];
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			verdict(h, false, why);
			return;
		}
		if (spec->kind == HEALTH_TCP) {
			verdict(h, true, NULL);
			return;
		}
		char req[1024];
		int n =
		    snprintf(req, sizeof(req),
			     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: pidvisor-healthcheck\r\n"
			     "Connection: close\r\n\r\n",
			     spec->path, spec->host);
		/* a fresh socket's buffer takes a request this small whole */
		if (n < 0 || (size_t)n >= sizeof(req) ||
		    send(h->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			verdict(h, false, "cannot send the request");
			return;
		}
		ev_io_stop(loop, &h->io);
		ev_io_set(&h->io, h->fd, EV_READ);
		ev_io_start(loop, &h->io);
		return;
	}
	char chunk[512];
	ssize_t got = recv(h->fd, chunk, sizeof(chunk), 0);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got > 0)
		buf_append(&h->got, chunk, (size_t)got);
	const char *line_end = h->got.data ? memchr(h->got.data, '\n', h->got.len) : NULL;
	if (!line_end && got > 0 && !h->got.failed)
		return;
	int status = 0;
	if (!h->got.data || sscanf(h->got.data, "HTTP/%*d.%*d %d", &status) != 1) {
		verdict(h, false, got < 0 ? strerror(errno) : "not an HTTP answer");
		return;
	}
	char why[64];
	snprintf(why, sizeof(why), "HTTP status %d", status);
	verdict(h, status >= 200 && status < 400, why);
}

static bool start_socket(struct health *h, const struct sockaddr_storage *addr, socklen_t len)
{
	h->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return false;
	if (connect(h->fd, (const struct sockaddr *)addr, len) < 0 && errno != EINPROGRESS)
		return false;
	ev_io_set(&h->io, h->fd, EV_WRITE);
	ev_io_start(loop, &h->io);
	return true;
}

static void cannot_start(struct health *h, const char *what)
{
	char why[400];
	snprintf(why, sizeof(why), "cannot start the check: %s", what);
	verdict(h, false, why);
}

/* Called only for a lookup still wanted: one given up (timeout, stop, free) is cancelled. */
static void looked_up(void *owner, const char *err, const struct sockaddr_storage *addr,
		      socklen_t len)
{
	struct health *h = owner;
	h->lookup = NULL;
	if (err) {
		char why[320];
		snprintf(why, sizeof(why), "no address for %s: %s", h->p->conf->health.name, err);
		verdict(h, false, why);
	} else if (!start_socket(h, addr, len)) {
		cannot_start(h, strerror(errno));
	}
}

static bool start_lookup(struct health *h)
{
	const struct health_spec *spec = &h->p->conf->health;
	h->lookup = resolver_start(spec->name, spec->port, looked_up, h);
	return h->lookup != NULL;
}

/* cmd: output is collected (bounded) for the log; the verdict comes with the exit. */
static void output_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct health *h = w->data;
	char chunk[4096];
	for (size_t total = 0; total < READ_MAX;) {
		ssize_t got = read(h->fd, chunk, sizeof(chunk));
		if (got > 0) {
			buf_append(&h->got, chunk, (size_t)got); /* past the cap: dropped */
			total += (size_t)got;
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		ev_io_stop(loop, &h->io);
		close(h->fd);
		h->fd = -1;
		return;
	}
}

static bool start_command(struct health *h)
{
	const struct health_spec *spec = &h->p->conf->health;
	int pipefd[2];
	/* only our end is non-blocking: the command's writes wait for us, they do not fail */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return false;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	pid_t pid;
	int rc = posix_spawnp(&pid, spec->argv.v[0], &fa, &attr, spec->argv.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		errno = rc;
		return false;
	}
	h->pid = pid;
	h->fd = pipefd[0];
	running_add(h);
	ev_io_set(&h->io, h->fd, EV_READ);
	ev_set_cb(&h->io, output_cb);
	ev_io_start(loop, &h->io);
	return true;
}

static void tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct health *h = w->data;
	if (!h->active || h->in_flight || h->pid > 0) {
		if (h->active)
			schedule(h); /* the last check's command is still being reaped */
		return;
	}
	h->in_flight = true;
	buf_reset(&h->got);
	ev_set_cb(&h->io, socket_cb);
	const struct health_spec *spec = &h->p->conf->health;
	bool started = spec->kind == HEALTH_CMD ? start_command(h)
		       : spec->name		? start_lookup(h)
						: start_socket(h, &spec->addr, spec->addrlen);
	if (!started) {
		char why[200];
		if (spec->kind == HEALTH_CMD)
			snprintf(why, sizeof(why), "'%s': %s", spec->argv.v[0], strerror(errno));
		else if (spec->name && errno == EAGAIN)
			snprintf(why, sizeof(why), "%d name lookups are running already",
				 RESOLVER_MAX);
		else
			snprintf(why, sizeof(why), "%s", strerror(errno));
		cannot_start(h, why);
		return;
	}
	ev_timer_set(&h->timeout, h->p->conf->health_timeout, 0);
	ev_timer_start(loop, &h->timeout);
}

void health_init(struct ev_loop *l, health_change_fn on_change)
{
	loop = l;
	changed = on_change;
	resolver_init(l);
}

void health_start(struct process *p)
{
	struct health *h = &p->health;
	if (p->conf->health.kind == HEALTH_NONE)
		return;
	if (!h->p) {
		h->p = p;
		h->fd = -1;
		buf_init(&h->got, OUTPUT_MAX > HTTP_HEAD_MAX ? OUTPUT_MAX : HTTP_HEAD_MAX);
		ev_timer_init(&h->tick, tick_cb, 0, 0);
		ev_timer_init(&h->timeout, timeout_cb, 0, 0);
		ev_init(&h->io, socket_cb);
		h->tick.data = h->timeout.data = h->io.data = h;
	}
	h->active = true;
	h->status = HEALTH_STARTING;
	h->failures = 0;
	h->spawned = ev_now(loop);
	schedule(h);
}

void health_stop(struct process *p)
{
	struct health *h = &p->health;
	if (!h->p || !h->active)
		return;
	h->active = false;
	ev_timer_stop(loop, &h->tick);
	if (h->pid > 0)
		kill(-h->pid, SIGKILL);
	end_io(h);
	h->in_flight = false;
}

void health_free(struct process *p)
{
	struct health *h = &p->health;
	health_stop(p);
	/* stopped earlier, its command may still wait to be reaped: it is a stranger now */
	if (h->pid > 0)
		running_take(h->pid);
	h->pid = 0;
	buf_free(&h->got);
}

bool health_reaped(pid_t pid, int status)
{
	struct health *h = running_take(pid);
	if (!h)
		return false;
	h->pid = 0;
	if (!h->in_flight)
		return true; /* timed out or stopped: already judged */
	/* what is left in the pipe belongs to this check */
	if (h->fd >= 0)
		output_cb(loop, &h->io, EV_READ);
	char why[OUTPUT_MAX + 64];
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	size_t n = h->got.len;
	while (n && (h->got.data[n - 1] == '\n' || h->got.data[n - 1] == '\r'))
		n--;
	snprintf(why, sizeof(why), "exit status %d%s%.*s", code, n ? ": " : "", (int)n,
		 h->got.data ? h->got.data : "");
	/* the exit status alone decides: the output is only for the log */
	verdict(h, WIFEXITED(status) && WEXITSTATUS(status) == 0, why);
	return true;
}
