#include "fcgi.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mainlog.h"
#include "passwd.h"

/* an error text, "Could not create FastCGI socket " and the url around it fit in a message */
enum { MSG_MAX = 512, URL_MAX = 320 };

struct fcgi {
	char url[URL_MAX]; /* fcgi_url() */
	bool is_unix;
	struct sockaddr_storage addr; /* tcp: */
	socklen_t addrlen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix: normalised */
	bool chown;						/* unix: to uid, gid */
	uid_t uid;
	gid_t gid; /* -1: unchanged */
	mode_t mode;
	int backlog;
	char owner_err[128]; /* socket_owner or user= could not be found: every spawn fails */
	int fd;		     /* -1 while closed */
};

bool fcgi_normpath(const char *path, char *out, size_t n)
{
	/* POSIX lets "//" mean something else than "/", so Python keeps exactly two */
	size_t lead = path[0] == '/' && path[1] == '/' && path[2] != '/' ? 2 : 1, len = lead;
	if (n <= lead)
		return false;
	memset(out, '/', lead);
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		size_t k = strcspn(s, "/");
		if (k == 2 && s[0] == '.' && s[1] == '.') {
			while (len > lead && out[len - 1] != '/')
				len--;
			if (len > lead)
				len--; /* the '/' before the component dropped */
		} else if (k > 0 && !(k == 1 && s[0] == '.')) {
			if (len + (len > lead) + k >= n)
				return false;
			if (len > lead)
				out[len++] = '/';
			memcpy(out + len, s, k);
			len += k;
		}
		s += k;
	}
	out[len] = '\0';
	return true;
}

/* supervisord's ('tcp://%s:%d' % (host.lower(), port)); the config checked the syntax */
static void tcp_url(const char *url, char *out, size_t n)
{
	const char *host = url + strlen("tcp://"), *colon = strrchr(host, ':');
	snprintf(out, n, "tcp://%.*s:%ld", (int)(colon - host), host, strtol(colon + 1, NULL, 10));
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

/* supervisord's owner: socket_owner (user, or user:group), else user= when it is not pidvisor's
 * own uid, with that user's group */
static void resolve_owner(struct fcgi *f, const struct proc_conf *pc)
{
	struct user_info ui;
	if (pc->socket_owner) {
		char user[256];
		const char *group = strchr(pc->socket_owner, ':');
		snprintf(user, sizeof(user), "%.*s", (int)strcspn(pc->socket_owner, ":"),
			 pc->socket_owner);
		gid_t gid = (gid_t)-1;
		if (user_lookup(user, &ui) < 0 || (group && group_lookup(group + 1, &gid) < 0)) {
			snprintf(f->owner_err, sizeof(f->owner_err),
				 "Invalid user:group definition %s", pc->socket_owner);
			return;
		}
		f->chown = true;
		f->uid = ui.uid;
		f->gid = gid;
	} else if (pc->user) {
		if (user_lookup(pc->user, &ui) < 0) {
			snprintf(f->owner_err, sizeof(f->owner_err), "Invalid user name %s",
				 pc->user);
			return;
		}
		if (ui.uid != getuid()) {
			f->chown = true;
			f->uid = ui.uid;
			f->gid = ui.gid;
		}
	}
}

/* Python's str() of an OSError: "[Errno 98] Address already in use", with the file when there
 * is one */
static void os_error(char *msg, const char *prefix, int e, const char *file)
{
	snprintf(msg, MSG_MAX, "%s[Errno %d] %s%s%s%s", prefix, e, strerror(e), file ? ": '" : "",
		 file ? file : "", file ? "'" : "");
}

/* supervisord's UnixStreamSocketConfig.create_and_bind(): unlink, bind, chown, chmod */
static int bind_unix(struct fcgi *f, int fd, char *msg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	if (stat(f->path, &st) == 0 && unlink(f->path) < 0) {
		os_error(msg, "", errno, f->path);
		return -1;
	}
	/* until the chmod, no one else may connect */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		os_error(msg, "", errno, NULL);
		return -1;
	}
	if (f->chown && chown(f->path, f->uid, f->gid) < 0)
		os_error(msg, "Could not change ownership of socket file: ", errno, f->path);
	else if (chmod(f->path, f->mode) < 0)
		os_error(msg, "Could not change permissions of socket file: ", errno, f->path);
	else
		return 0;
	unlink(f->path);
	return -1;
}

/* InetStreamSocketConfig.create_and_bind() */
static int bind_tcp(struct fcgi *f, int fd, char *msg)
{
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    bind(fd, (struct sockaddr *)&f->addr, f->addrlen) == 0)
		return 0;
	os_error(msg, "", errno, NULL);
	return -1;
}

/* SocketManager._prepare_socket(): the listening socket, or -1 with msg. It stays blocking:
 * the children share its file status flags, and php-cgi or uvicorn accept() on it as it is. */
static int create_socket(struct fcgi *f, char *msg)
{
	if (f->owner_err[0]) {
		snprintf(msg, MSG_MAX, "%s", f->owner_err);
		return -1;
	}
	log_info("Creating socket %s", f->url);
	int fd = socket(f->is_unix ? AF_UNIX : f->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		os_error(msg, "", errno, NULL);
		return -1;
	}
	if (f->is_unix ? bind_unix(f, fd, msg) < 0 : bind_tcp(f, fd, msg) < 0) {
		close(fd);
		return -1;
	}
	if (listen(fd, f->backlog) < 0) {
		os_error(msg, "", errno, NULL);
		close(fd);
		return -1;
	}
	return fd;
}

static void close_socket(struct fcgi *f)
{
	log_info("Closing socket %s", f->url);
	close(f->fd);
	f->fd = -1;
}

int fcgi_new(const struct group_conf *gc, struct fcgi **out)
{
	*out = NULL;
	if (gc->kind != KIND_FCGI || gc->nprocs == 0)
		return 0;
	const struct proc_conf *pc = gc->procs[0];
	struct fcgi *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->fd = -1;
	f->is_unix = pc->socket.is_unix;
	f->backlog = pc->socket_backlog > 0 ? (int)pc->socket_backlog : SOMAXCONN;
	if (f->is_unix) {
		/* the config checked that the path fits; normalising only shortens it */
		fcgi_normpath(pc->socket.path, f->path, sizeof(f->path));
		snprintf(f->url, sizeof(f->url), "unix://%s", f->path);
		f->mode = pc->socket_mode >= 0 ? (mode_t)pc->socket_mode : 0700;
		resolve_owner(f, pc);
	} else {
		tcp_url(pc->socket.url, f->url, sizeof(f->url));
		f->addr = pc->socket.addr;
		f->addrlen = pc->socket.addrlen;
	}
	char msg[MSG_MAX];
	f->fd = create_socket(f, msg);
	if (f->fd < 0)
		log_error("Could not create FastCGI socket %s: %s", f->url, msg);
	else
		close_socket(f);
	*out = f;
	return 0;
}

void fcgi_free(struct fcgi *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

const char *fcgi_url(const struct fcgi *f)
{
	return f->url;
}

int fcgi_acquire(struct process *p, char **err)
{
	struct fcgi *f = p->group->fcgi;
	char msg[MSG_MAX];
	*err = NULL;
	if (!f || f->fd >= 0)
		return 0;
	f->fd = create_socket(f, msg);
	if (f->fd >= 0)
		return 0;
	if (asprintf(err, "Could not create FastCGI socket %s: %s", f->url, msg) < 0)
		*err = NULL;
	return -1;
}

int fcgi_child_stdin(struct process *p, int child_fds[3], char **err)
{
	struct fcgi *f = p->group->fcgi;
	if (!f || f->fd < 0)
		return 0;
	/* a copy: the caller closes the child's ends once it has spawned */
	int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		if (asprintf(err, "too many open files to spawn '%s'", p->conf->name) < 0)
			*err = NULL;
		return -1;
	}
	close(child_fds[0]);
	child_fds[0] = fd;
	if (p->stdin_fd >= 0)
		close(p->stdin_fd);
	p->stdin_fd = -1;
	return 0;
}

void fcgi_release(struct process *p)
{
	struct fcgi *f = p->group->fcgi;
	if (!f || f->fd < 0)
		return;
	for (size_t i = 0; i < p->group->nprocs; i++)
		if (p->group->procs[i]->pid > 0)
			return;
	close_socket(f);
}
