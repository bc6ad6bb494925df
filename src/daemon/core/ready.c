/*
 * A program's own word that it is ready. ready=notify speaks systemd's sd_notify protocol on a
 * datagram socket of the program's own, in a directory only pidvisor's user can enter (see
 * notify_dir); the kernel's credentials on each datagram say who sent it, and only the
 * program's pid or a descendant of it is heard. ready=fd:N is s6's notification-fd: a newline
 * on a pipe the child has as fd N. ready=log:REGEX matches the program's output lines.
 * watchdog_sec (notify only) is systemd's watchdog: WATCHDOG=1 on the same socket restarts a
 * timer of the program's own; a missed deadline is on_unhealthy's (failfast.c).
 * Every read is bounded (NOTIFY_MAX bytes, NOTIFY_BATCH datagrams a wakeup, SCAN_MAX bytes of a
 * line), so a chatty program cannot hold the loop.
 */
#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "failfast.h"
#include "mainlog.h"
#include "passwd.h"
#include "supervisor.h"
#include "supervisor_internal.h"
#include "util.h"

#define NOTIFY_MAX   4096 /* the longest datagram read; longer ones are dropped */
#define NOTIFY_BATCH 16	  /* datagrams read a wakeup */
#define STATUS_MAX   256  /* STATUS= text kept */
#define SCAN_MAX     4096 /* bytes of a line ready=log matches against */
#define PARENT_DEPTH 32	  /* how far up a sender's parents are followed */

struct readiness {
	struct process *proc;
	ev_io io;     /* the notify socket, or the read end of the fd: pipe */
	int fd;	      /* -1 when none */
	int child_fd; /* fd: the write end, until the child has it */
	char *path;   /* notify: the socket's file */
	regex_t rx;   /* log: */
	bool rx_ok;
	char status[STATUS_MAX];
	pid_t mainpid;
	ev_timer watchdog;    /* watchdog_sec: each WATCHDOG=1 restarts it */
	bool watchdog_missed; /* until the next WATCHDOG=1 or spawn */
};

static char dir_path[PATH_MAX];

/*
 * The notify sockets' directory: pidvisor-notify.<pid> in the control socket's directory, else
 * in /run/pidvisor (root), else in $TMPDIR or /tmp. Mode 0700 and pidvisor's own: a socket in it
 * can only be reached by pidvisor's user (and root), or by a user= program's (its socket is
 * handed over, and the directory made 0711 then).
 */
static const char *notify_dir(struct supervisor *sv, char **err)
{
	if (dir_path[0])
		return dir_path;
	const struct http_server_conf *u = &sv->cfg->unix_server;
	const char *tmp = getenv("TMPDIR");
	char base[PATH_MAX] = "";
	if (u->enabled && u->file) {
		const char *slash = strrchr(u->file, '/');
		snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - u->file) : 1,
			 slash ? (slash == u->file ? "/" : u->file) : ".");
	} else if (geteuid() == 0 && (mkdir("/run/pidvisor", 0711) == 0 || errno == EEXIST)) {
		/* 0711: a user= program passes through it to its own socket; nothing can be listed
		 */
		strcpy(base, "/run/pidvisor");
	} else {
		snprintf(base, sizeof(base), "%s", tmp && *tmp == '/' ? tmp : "/tmp");
	}
	char real[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	if (!realpath(base, real) || (size_t)snprintf(dir, sizeof(dir), "%s/pidvisor-notify.%d",
						      real, (int)getpid()) >= sizeof(dir)) {
		*err = xasprintf("no directory for notify sockets in '%s'", base);
		return NULL;
	}
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || lstat(dir, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || chmod(dir, 0700) < 0) {
		*err =
		    xasprintf("cannot make '%s', pidvisor's own directory for notify sockets", dir);
		return NULL;
	}
	memcpy(dir_path, dir, sizeof(dir));
	return dir_path;
}

/* The first directory above the notify directory that ui's user cannot search (its path in
 * out), or false when every one can be passed: owner, group (any of the user's) or others x. */
static bool unsearchable_above(const struct user_info *ui, char *out, size_t n)
{
	snprintf(out, n, "%s", dir_path);
	for (char *slash; (slash = strrchr(out, '/')) && slash != out;) {
		*slash = '\0';
		struct stat st;
		if (stat(out, &st) < 0)
			return true;
		mode_t bit = S_IXOTH;
		if (st.st_uid == ui->uid)
			bit = S_IXUSR;
		else
			for (size_t i = 0; i < ui->ngroups; i++)
				if (st.st_gid == ui->groups[i] || st.st_gid == ui->gid)
					bit = S_IXGRP;
		if (!(st.st_mode & bit))
			return true;
	}
	return false;
}

/* A user= program reaches its socket: the socket is its user's, the directory searchable; a
 * directory above it that the user cannot pass is said (the program would never be ready). */
static void hand_over(const struct process *p, const char *path)
{
	struct user_info ui;
	char above[PATH_MAX];
	if (!p->conf->user || user_lookup(p->conf->user, &ui) < 0 || ui.uid == geteuid())
		return;
	if (lchown(path, ui.uid, ui.gid) < 0 || chmod(dir_path, 0711) < 0)
		log_warn("%s: cannot hand its notify socket to user %s: %s", p->conf->name,
			 p->conf->user, strerror(errno));
	else if (unsearchable_above(&ui, above, sizeof(above)))
		log_warn("%s: user %s cannot reach its notify socket %s: it cannot pass the "
			 "directory %s (give it o+x, or move the control socket to a directory the "
			 "user can pass)",
			 p->conf->name, p->conf->user, path, above);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold anything, ')' too: the fields follow the last one */
	const char *end = strrchr(buf, ')');
	int ppid = 0;
	if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

/* The sender is the program or one of its descendants. */
static bool from_program(const struct process *p, pid_t pid)
{
	for (int depth = 0; p->pid > 0 && pid > 1 && depth < PARENT_DEPTH; depth++) {
		if (pid == p->pid)
			return true;
		pid = parent_of(pid);
	}
	return false;
}

/* The watchdog runs while the program does (STARTING once it sent a WATCHDOG=1, RUNNING). */
static bool watchdog_wanted(const struct process *p)
{
	return p->conf->watchdog_sec > 0 && p->pid > 0 &&
	       (p->fsm.state == PS_STARTING || p->fsm.state == PS_RUNNING);
}

static void watchdog_kick(struct readiness *r)
{
	struct process *p = r->proc;
	if (!watchdog_wanted(p))
		return;
	if (r->watchdog_missed)
		log_info("watchdog: %s sends WATCHDOG=1 again", p->conf->name);
	r->watchdog_missed = false;
	r->watchdog.repeat = p->conf->watchdog_sec;
	ev_timer_again(p->sv->loop, &r->watchdog);
}

/* A missed deadline is what a failed healthcheck is: on_unhealthy decides. */
static void watchdog_missed(struct readiness *r, const char *why)
{
	struct process *p = r->proc;
	ev_timer_stop(p->sv->loop, &r->watchdog);
	r->watchdog_missed = true;
	log_warn("watchdog: %s %s", p->conf->name, why);
	failfast_unhealthy(p, "missed its watchdog (watchdog_sec)");
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct readiness *r = container_of(t, struct readiness, watchdog);
	char why[128];
	(void)loop;
	(void)revents;
	snprintf(why, sizeof(why), "sent no WATCHDOG=1 within %g seconds (watchdog_sec)",
		 r->proc->conf->watchdog_sec);
	watchdog_missed(r, why);
}

static bool assignment(const char *line, const char *key, const char **value)
{
	size_t n = strlen(key);
	if (strncmp(line, key, n) != 0)
		return false;
	*value = line + n;
	return true;
}

/* One datagram: newline-separated assignments. Returns whether it said READY=1. */
static bool notify_message(struct readiness *r, char *msg)
{
	struct process *p = r->proc;
	const char *v;
	bool ready = false;
	char *save = NULL;
	for (char *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "READY=1")) {
			ready = true;
		} else if (assignment(line, "STATUS=", &v)) {
			snprintf(r->status, sizeof(r->status), "%s", v);
			for (char *c = r->status; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = ' ';
		} else if (!strcmp(line, "STOPPING=1")) {
			log_info("%s says it is stopping (STOPPING=1)", p->conf->name);
		} else if (assignment(line, "MAINPID=", &v)) {
			r->mainpid = (pid_t)atoi(v);
			log_info("%s says its main pid is %d (MAINPID=)", p->conf->name,
				 (int)r->mainpid);
		} else if (assignment(line, "EXTEND_TIMEOUT_USEC=", &v)) {
			process_extend(p, strtod(v, NULL) / 1e6);
		} else if (!strcmp(line, "WATCHDOG=1")) {
			watchdog_kick(r);
		} else if (!strcmp(line, "WATCHDOG=trigger") && watchdog_wanted(p) &&
			   !r->watchdog_missed) {
			watchdog_missed(r, "asks for its watchdog to fire (WATCHDOG=trigger)");
		}
	}
	return ready;
}

/* The sender's pid, from its credentials; descriptors sent along are closed. */
static pid_t sender_of(struct msghdr *m)
{
	pid_t pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			pid = uc.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfd; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				close(fd);
			}
		}
	}
	return pid;
}

static void notify_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct readiness *r = container_of(io, struct readiness, io);
	struct process *p = r->proc;
	(void)loop;
	(void)revents;
	for (int i = 0; i < NOTIFY_BATCH; i++) {
		char buf[NOTIFY_MAX + 1];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
		} ctl;
		struct iovec iov = {buf, NOTIFY_MAX};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = &ctl,
				   .msg_controllen = sizeof(ctl)};
		ssize_t n = recvmsg(r->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		pid_t pid = sender_of(&m);
		if ((m.msg_flags & MSG_TRUNC) || n > NOTIFY_MAX) {
			log_warn("%s: a notify message over %d bytes, ignored", p->conf->name,
				 NOTIFY_MAX);
			continue;
		}
		if (!from_program(p, pid)) {
			log_warn("%s: ignored a notify message from pid %d, not the program's",
				 p->conf->name, (int)pid);
			continue;
		}
		buf[n] = '\0';
		/* a change of state may start others: this wakeup ends here */
		if (notify_message(r, buf)) {
			process_ready(p, "notify");
			return;
		}
	}
}

static int notify_open(struct readiness *r, char **err)
{
	struct process *p = r->proc;
	const char *dir = notify_dir(p->sv, err);
	if (!dir)
		return -1;
	char spec[512];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s.sock", dir,
			     process_namespec(p, spec, sizeof(spec))) >= sizeof(a.sun_path)) {
		*err =
		    xasprintf("notify socket path for '%s' too long in '%s'", p->conf->name, dir);
		return -1;
	}
	int one = 1, fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(a.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		*err = xasprintf("cannot make notify socket '%s': %s", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	hand_over(p, a.sun_path);
	r->path = xstrdup(a.sun_path);
	r->fd = fd;
	ev_io_init(&r->io, notify_cb, fd, EV_READ);
	ev_io_start(p->sv->loop, &r->io);
	return 0;
}

static void close_reader(struct readiness *r)
{
	if (r->fd < 0)
		return;
	ev_io_stop(r->proc->sv->loop, &r->io);
	close(r->fd);
	r->fd = -1;
}

/* fd:N's pipe: a newline is ready; the rest is read and dropped until the writers are gone. */
static void pipe_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct readiness *r = container_of(io, struct readiness, io);
	char buf[512];
	(void)loop;
	(void)revents;
	ssize_t n = read(r->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_reader(r);
		return;
	}
	if (memchr(buf, '\n', (size_t)n))
		process_ready(r->proc, "fd");
}

static int pipe_open(struct readiness *r, char **err)
{
	int fds[2];
	close_reader(r);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err = xasprintf("cannot make the ready=fd pipe for '%s': %s", r->proc->conf->name,
				 strerror(errno));
		return -1;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r->fd = fds[0];
	r->child_fd = fds[1];
	ev_io_init(&r->io, pipe_cb, r->fd, EV_READ);
	ev_io_start(r->proc->sv->loop, &r->io);
	return 0;
}

int ready_prepare(struct process *p, char **err)
{
	const struct ready_spec *spec = &p->conf->ready;
	if (spec->kind == READY_NONE)
		return 0;
	struct readiness *r = p->rd;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			*err = xasprintf("out of memory to spawn '%s'", p->conf->name);
			return -1;
		}
		r->proc = p;
		r->fd = r->child_fd = -1;
		ev_init(&r->watchdog, watchdog_cb);
		/* checked when the config was read */
		r->rx_ok = spec->kind == READY_LOG &&
			   regcomp(&r->rx, spec->regex, REG_EXTENDED | REG_NOSUB) == 0;
		p->rd = r;
	}
	r->status[0] = '\0';
	r->mainpid = 0;
	ev_timer_stop(p->sv->loop, &r->watchdog);
	r->watchdog_missed = false;
	if (spec->kind == READY_NOTIFY && r->fd < 0)
		return notify_open(r, err);
	if (spec->kind == READY_FD)
		return pipe_open(r, err);
	return 0;
}

int ready_child_fd(const struct process *p)
{
	return p->rd ? p->rd->child_fd : -1;
}

const char *ready_notify_path(const struct process *p)
{
	return p->rd && p->conf->ready.kind == READY_NOTIFY ? p->rd->path : NULL;
}

long long ready_watchdog_usec(const struct process *p)
{
	return ready_notify_path(p) && p->conf->watchdog_sec > 0
		   ? (long long)(p->conf->watchdog_sec * 1e6 + 0.5) /* 2.01 s is 2010000 */
		   : 0;
}

bool ready_watchdog_missed(const struct process *p)
{
	return p->rd && p->rd->watchdog_missed && watchdog_wanted(p);
}

void ready_watch(struct process *p)
{
	struct readiness *r = p->rd;
	if (!r || p->conf->watchdog_sec <= 0)
		return;
	if (!watchdog_wanted(p))
		ev_timer_stop(p->sv->loop, &r->watchdog);
	else if (p->fsm.state == PS_RUNNING && !ev_is_active(&r->watchdog) && !r->watchdog_missed)
		watchdog_kick(r);
}

void ready_spawned(struct process *p)
{
	if (p->rd && p->rd->child_fd >= 0) {
		close(p->rd->child_fd);
		p->rd->child_fd = -1;
	}
}

void ready_scan(struct process *p, const char *data, size_t n)
{
	struct readiness *r = p->rd;
	if (!r || !r->rx_ok || p->fsm.state != PS_STARTING || p->fsm.ready)
		return;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t len = nl ? (size_t)(nl - data) : n;
		char line[SCAN_MAX + 1];
		size_t k = len < SCAN_MAX ? len : SCAN_MAX;
		memcpy(line, data, k);
		line[k] = '\0';
		if (regexec(&r->rx, line, 0, NULL, 0) == 0) {
			process_ready(p, "log");
			return;
		}
		size_t used = nl ? len + 1 : n;
		data += used;
		n -= used;
	}
}

void ready_describe(const struct process *p, char *buf, size_t n)
{
	if (p->conf->ready.kind == READY_NONE)
		return;
	size_t len = strlen(buf);
	const char *status = ready_status_text(p);
	if (p->fsm.state == PS_STARTING && p->pid > 0 && !p->fsm.ready && len < n)
		len += (size_t)snprintf(buf + len, n - len, "%snot ready yet (ready=%s)",
					len ? ", " : "", p->conf->ready.text);
	if (ready_watchdog_missed(p) && len < n)
		len += (size_t)snprintf(buf + len, n - len, "%swatchdog missed (watchdog_sec)",
					len ? ", " : "");
	if (*status && len < n && (p->fsm.state == PS_STARTING || p->fsm.state == PS_RUNNING))
		snprintf(buf + len, n - len, "%s%s", len ? ", " : "", status);
}

const char *ready_status_text(const struct process *p)
{
	return p->rd ? p->rd->status : "";
}

void ready_free(struct process *p)
{
	struct readiness *r = p->rd;
	if (!r)
		return;
	close_reader(r);
	ready_spawned(p);
	ev_timer_stop(p->sv->loop, &r->watchdog);
	if (r->path) {
		unlink(r->path);
		rmdir(dir_path); /* the last one takes the directory along */
		free(r->path);
	}
	if (r->rx_ok)
		regfree(&r->rx);
	free(r);
	p->rd = NULL;
}
