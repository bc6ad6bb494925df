#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"
#include "util.h"

#define CHUNK (64 * 1024)

static struct ev_loop *out_loop;
static const struct supervisord_conf *out_sd;

struct logfile {
	char *path;
	int fd;
	long long size;
	long long maxbytes;
	long long backups;
};

struct outchan {
	ev_io io;
	struct process *proc;
	int channel; /* 1 = stdout, 2 = stderr */
	int fd;
	struct logfile file; /* path NULL: no file */
	struct sink *sink;   /* pidvisor's stdout/stderr, or NULL */
	struct sink_waiter waiter;
	char buf[CHUNK];
	size_t len; /* bytes in buf not yet emitted (a partial line) */
};

void output_init(struct ev_loop *loop, const struct supervisord_conf *sd)
{
	out_loop = loop;
	out_sd = sd;
}

static int logfile_open(struct logfile *lf)
{
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lf->fd < 0)
		return -1;
	struct stat st;
	lf->size = fstat(lf->fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
	if (!S_ISREG(st.st_mode))
		lf->maxbytes = 0; /* a pipe or device: never rotate (no "Illegal seek") */
	return 0;
}

static void logfile_rotate(struct logfile *lf)
{
	close(lf->fd);
	lf->fd = -1;
	if (lf->backups > 0) {
		for (long long i = lf->backups - 1; i >= 1; i--) {
			char *from = xasprintf("%s.%lld", lf->path, i);
			char *to = xasprintf("%s.%lld", lf->path, i + 1);
			rename(from, to);
			free(from);
			free(to);
		}
		char *to = xasprintf("%s.1", lf->path);
		rename(lf->path, to);
		free(to);
	} else if (truncate(lf->path, 0) < 0) {
		log_warn("cannot truncate %s: %s", lf->path, strerror(errno));
	}
	if (logfile_open(lf) < 0)
		log_error("cannot reopen %s: %s", lf->path, strerror(errno));
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Writes whole lines, rotating first whenever the next line would pass maxbytes. */
static void logfile_write(struct logfile *lf, const char *p, size_t n)
{
	if (lf->fd < 0)
		return;
	while (n > 0) {
		size_t take = n;
		if (lf->maxbytes > 0) {
			long long room = lf->maxbytes - lf->size;
			if ((long long)n > room) {
				/* as many whole lines as fit; at least one line on an empty file */
				size_t fit = 0;
				for (size_t i = 0; i < n && (long long)(i + 1) <= room; i++)
					if (p[i] == '\n')
						fit = i + 1;
				if (fit == 0 && lf->size > 0) {
					logfile_rotate(lf);
					if (lf->fd < 0)
						return;
					continue;
				}
				if (fit == 0) {
					const char *nl = memchr(p, '\n', n);
					fit = nl ? (size_t)(nl - p) + 1 : n;
				}
				take = fit;
			}
		}
		write_all(lf->fd, p, take);
		lf->size += (long long)take;
		p += take;
		n -= take;
	}
}

static void emit(struct outchan *c, const char *p, size_t n)
{
	if (c->file.path)
		logfile_write(&c->file, p, n);
	if (c->sink)
		sink_write_line(c->sink, p, n);
}

static void chan_resume(struct sink_waiter *w)
{
	struct outchan *c = container_of(w, struct outchan, waiter);
	if (c->fd >= 0)
		ev_io_start(out_loop, &c->io);
}

/* Reads once; returns bytes read, 0 on EOF, -1 when nothing is there now. */
static ssize_t chan_read(struct outchan *c)
{
	ssize_t r;
	do
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	if (r == 0)
		return 0;
	c->len += (size_t)r;
	/* emit up to the last newline; a full buffer with no newline goes out as one piece */
	size_t upto = 0;
	for (size_t i = c->len; i > 0; i--)
		if (c->buf[i - 1] == '\n') {
			upto = i;
			break;
		}
	if (upto == 0 && c->len == sizeof(c->buf)) {
		emit(c, c->buf, c->len);
		if (c->sink)
			sink_write_line(c->sink, "\n", 1);
		c->len = 0;
	} else if (upto > 0) {
		emit(c, c->buf, upto);
		memmove(c->buf, c->buf + upto, c->len - upto);
		c->len -= upto;
	}
	return r;
}

static void chan_close(struct outchan *c)
{
	if (c->fd < 0)
		return;
	ev_io_stop(out_loop, &c->io);
	if (c->sink)
		sink_cancel(c->sink, &c->waiter);
	close(c->fd);
	c->fd = -1;
	if (c->len > 0) {
		emit(c, c->buf, c->len);
		if (c->sink)
			sink_write_line(c->sink, "\n", 1);
		c->len = 0;
	}
}

static void chan_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct outchan *c = container_of(io, struct outchan, io);
	(void)revents;
	(void)loop;
	/* back-pressure: only read when the shared sink can take a whole buffer */
	if (c->sink && !sink_has_room(c->sink, sizeof(c->buf) + 1)) {
		ev_io_stop(out_loop, io);
		sink_wait(c->sink, &c->waiter);
		return;
	}
	if (chan_read(c) == 0)
		chan_close(c);
}

static char *auto_logfile(struct process *p, int channel)
{
	char *tmpl = xasprintf("%s/%s-%s---%s-XXXXXX.log", out_sd->childlogdir, p->conf->name,
			       channel == 1 ? "stdout" : "stderr", out_sd->identifier);
	int fd = mkstemps(tmpl, 4);
	if (fd < 0) {
		log_error("cannot create a log file in %s: %s", out_sd->childlogdir,
			  strerror(errno));
		free(tmpl);
		return NULL;
	}
	close(fd);
	return tmpl;
}

static struct outchan *chan_new(struct process *p, int channel, const struct log_conf *lc)
{
	struct outchan *c = xcalloc(1, sizeof(*c));
	c->proc = p;
	c->channel = channel;
	c->fd = -1;
	c->file.fd = -1;
	c->waiter.cb = chan_resume;
	const char *lf = lc->logfile;
	if (!lf) {
		/* NONE */
	} else if (!strcmp(lf, "/dev/stdout") || !strcmp(lf, "/dev/fd/1")) {
		c->sink = sink_stdout();
	} else if (!strcmp(lf, "/dev/stderr") || !strcmp(lf, "/dev/fd/2")) {
		c->sink = sink_stderr();
	} else if (!strcmp(lf, "syslog")) {
		/* deprecated supervisord value: same as stdout_syslog */
	} else {
		c->file.path = !strcmp(lf, "AUTO") ? auto_logfile(p, channel) : xstrdup(lf);
		c->file.maxbytes = lc->maxbytes;
		c->file.backups = lc->backups;
		if (c->file.path && logfile_open(&c->file) < 0)
			log_error("cannot open %s for %s: %s", c->file.path, p->conf->name,
				  strerror(errno));
	}
	return c;
}

int output_prepare(struct process *p, int child_fds[3], char **err)
{
	int in[2], out[2], errp[2] = {-1, -1};

	if (pipe2(in, O_CLOEXEC) < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	if (!p->conf->redirect_stderr && pipe2(errp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	child_fds[0] = in[0];
	child_fds[1] = out[1];
	child_fds[2] = p->conf->redirect_stderr ? out[1] : errp[1];
	p->stdin_fd = in[1];
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	const struct log_conf *lcs[2] = {&p->conf->out, &p->conf->err};
	int rds[2] = {out[0], errp[0]};
	for (int i = 0; i < 2; i++) {
		if (rds[i] < 0)
			continue;
		if (!p->chan[i])
			p->chan[i] = chan_new(p, i + 1, lcs[i]);
		p->chan[i]->fd = rds[i];
		p->chan[i]->len = 0;
		fcntl(rds[i], F_SETFL, O_NONBLOCK);
		ev_io_init(&p->chan[i]->io, chan_io_cb, rds[i], EV_READ);
	}
	return 0;
fail:
	*err = xasprintf("too many open files to spawn '%s'", p->conf->name);
	return -1;
}

void output_started(struct process *p, const int child_fds[3])
{
	close(child_fds[0]);
	close(child_fds[1]);
	if (child_fds[2] != child_fds[1])
		close(child_fds[2]);
	for (int i = 0; i < 2; i++)
		if (p->chan[i] && p->chan[i]->fd >= 0)
			ev_io_start(out_loop, &p->chan[i]->io);
}

void output_abort(struct process *p, const int child_fds[3])
{
	output_started(p, child_fds);
	output_finished(p);
}

void output_finished(struct process *p)
{
	for (int i = 0; i < 2; i++) {
		struct outchan *c = p->chan[i];
		if (!c || c->fd < 0)
			continue;
		/* what the child wrote before it died is still in the pipe */
		for (int guard = 0; guard < 1024; guard++) {
			if (c->sink && !sink_has_room(c->sink, sizeof(c->buf) + 1))
				sink_flush(c->sink);
			if (chan_read(c) <= 0)
				break;
		}
		chan_close(c);
	}
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
}

void output_reopen(struct process *p)
{
	for (int i = 0; i < 2; i++) {
		struct outchan *c = p->chan[i];
		if (!c || !c->file.path)
			continue;
		if (c->file.fd >= 0)
			close(c->file.fd);
		if (logfile_open(&c->file) < 0)
			log_error("cannot reopen %s: %s", c->file.path, strerror(errno));
	}
}

const char *output_logfile(const struct process *p, int channel)
{
	const struct outchan *c = p->chan[channel == 2 ? 1 : 0];
	if (c)
		return c->file.path;
	const struct log_conf *lc = channel == 2 ? &p->conf->err : &p->conf->out;
	if (channel == 2 && p->conf->redirect_stderr)
		return NULL;
	/* not spawned yet: a plain path is known, AUTO is named at the first spawn */
	if (!lc->logfile || !strcmp(lc->logfile, "AUTO") || !strcmp(lc->logfile, "syslog") ||
	    !strncmp(lc->logfile, "/dev/", 5))
		return NULL;
	return lc->logfile;
}

void output_free(struct process *p)
{
	output_finished(p);
	for (int i = 0; i < 2; i++) {
		struct outchan *c = p->chan[i];
		if (!c)
			continue;
		if (c->file.fd >= 0)
			close(c->file.fd);
		free(c->file.path);
		free(c);
		p->chan[i] = NULL;
	}
}
