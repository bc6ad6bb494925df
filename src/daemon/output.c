/*
 * A byte of a program's output moves here: pipe -> line buffer -> (log file, pidvisor's
 * stdout/stderr, syslog, tail ring). Reads are batched: everything up to the last newline of
 * a read goes out as one unit, so lines are never split or interleaved with another program's.
 */
#include "output.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "sink.h"
#include "util.h"

#define READ_CHUNK     (64 * 1024)
#define LINE_MAX_BYTES (4 * 1024 * 1024) /* longer lines go out in marked pieces */
#define RING_BYTES     (64 * 1024)	 /* tail of programs that have no log file */

static struct ev_loop *out_loop;
static const struct supervisord_conf *out_sd;
static int name_width; /* widest process name, for aligned prefixes */
static struct buf scratch;

struct logfile {
	char *path;
	int fd;
	long long size;
	long long maxbytes;
	long long backups;
};

struct ring {
	char *data;
	size_t cap;
	unsigned long long total; /* bytes ever written */
};

struct outchan {
	ev_io io;
	struct process *proc;
	int channel; /* 1 = stdout, 2 = stderr */
	int fd;
	struct logfile file; /* path NULL: no file */
	struct sink *sink;   /* pidvisor's stdout/stderr, or NULL */
	bool syslog;
	struct ring ring; /* only for channels with no log file */
	struct sink_waiter waiter;
	char *buf; /* allocated while the pipe is open */
	size_t len, cap;
	bool continued; /* the previous piece of this line went out without its end */
};

void output_init(struct ev_loop *loop, const struct supervisord_conf *sd)
{
	out_loop = loop;
	out_sd = sd;
}

void output_set_name_width(int width)
{
	name_width = width;
}

/* --- log files --- */

static int logfile_open(struct logfile *lf)
{
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lf->fd < 0)
		return -1;
	struct stat st;
	if (fstat(lf->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		lf->size = st.st_size;
	} else {
		lf->size = 0;
		lf->maxbytes = 0; /* a pipe or a device: never rotate (no "Illegal seek") */
	}
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

/* Writes whole lines, rotating first whenever the next line would pass maxbytes: a file
 * never exceeds maxbytes unless a single line does. */
static void logfile_write(struct logfile *lf, const char *p, size_t n)
{
	while (n > 0 && lf->fd >= 0) {
		size_t take = n;
		if (lf->maxbytes > 0 && (long long)n > lf->maxbytes - lf->size) {
			long long room = lf->maxbytes - lf->size;
			size_t fit = 0;
			for (size_t i = 0; i < n && (long long)(i + 1) <= room; i++)
				if (p[i] == '\n')
					fit = i + 1;
			if (fit == 0 && lf->size > 0) {
				logfile_rotate(lf);
				continue;
			}
			if (fit == 0) {
				const char *nl = memchr(p, '\n', n);
				fit = nl ? (size_t)(nl - p) + 1 : n;
			}
			take = fit;
		}
		write_all(lf->fd, p, take);
		lf->size += (long long)take;
		p += take;
		n -= take;
	}
}

/* --- the tail ring --- */

static void ring_write(struct ring *r, const char *p, size_t n)
{
	if (!r->data) {
		r->cap = RING_BYTES;
		r->data = xmalloc(r->cap);
	}
	r->total += n;
	if (n >= r->cap) {
		p += n - r->cap;
		n = r->cap;
	}
	size_t at = (size_t)((r->total - n) % r->cap);
	size_t first = n < r->cap - at ? n : r->cap - at;
	memcpy(r->data + at, p, first);
	memcpy(r->data, p + first, n - first);
}

/* --- formats for pidvisor's stdout/stderr --- */

static int format_of(const struct outchan *c)
{
	int f = c->proc->conf->log_format;
	return f >= 0 ? f : out_sd->log_format;
}

static void timestamp(struct buf *sb, bool iso)
{
	struct timeval tv;
	struct tm tm;
	char buf[64];
	gettimeofday(&tv, NULL);
	if (iso) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_printf(sb, "%s.%03dZ", buf, (int)(tv.tv_usec / 1000));
	} else {
		localtime_r(&tv.tv_sec, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
		buf_printf(sb, "%s,%03d ", buf, (int)(tv.tv_usec / 1000));
	}
}

static const char *const colors[] = {"\033[36m", "\033[32m", "\033[33m", "\033[35m",
				     "\033[34m", "\033[96m", "\033[92m", "\033[93m"};

/* "name | " (or "name + " for the continuation of a line too long for one piece), padded to the
 * widest name and coloured when asked: built once per batch of lines, not per line. */
struct prefix {
	char text[2][320]; /* [0] starts a line, [1] continues one */
	size_t len[2];
};

static void prefix_build(const struct outchan *c, struct prefix *pf)
{
	const char *name = c->proc->conf->name;
	bool color = out_sd->log_color && sink_is_tty(c->sink);
	unsigned hash = 0;
	for (const char *q = name; *q; q++)
		hash = hash * 31 + (unsigned char)*q;
	for (int k = 0; k < 2; k++) {
		int n = snprintf(pf->text[k], sizeof(pf->text[k]), "%s%-*.*s %c %s",
				 color ? colors[hash % ARRAY_SIZE(colors)] : "", name_width, 256,
				 name, k ? '+' : '|', color ? "\033[0m" : "");
		if (n < 0)
			n = 0;
		pf->len[k] = MIN((size_t)n, sizeof(pf->text[k]) - 1);
	}
}

/* One line (without its newline) in the prefix or JSON format. partial: a piece of a line
 * longer than LINE_MAX_BYTES whose end comes in a later piece. */
static void format_line(struct outchan *c, int fmt, const struct prefix *pf, const char *p,
			size_t n, bool partial, struct buf *sb)
{
	const char *name = c->proc->conf->name;
	if (fmt == LOG_FORMAT_JSON) {
		buf_puts(sb, "{\"ts\":\"");
		timestamp(sb, true);
		buf_puts(sb, "\",\"program\":");
		json_string(sb, name, strlen(name));
		buf_printf(sb,
			   ",\"stream\":\"%s\",\"line\":", c->channel == 2 ? "stderr" : "stdout");
		json_string(sb, p, n);
		if (partial || c->continued)
			buf_printf(sb, ",\"partial\":%s", partial ? "true" : "false");
		buf_puts(sb, "}\n");
		return;
	}
	if (out_sd->log_timestamp)
		timestamp(sb, false);
	if (fmt == LOG_FORMAT_PREFIX) /* plain with log_timestamp: the time, then the line */
		buf_append(sb, pf->text[c->continued], pf->len[c->continued]);
	buf_append(sb, p, n);
	buf_putc(sb, '\n');
}

/* Sends a batch of whole lines (or one piece, when partial) to pidvisor's stdout/stderr. */
static void to_sink(struct outchan *c, const char *p, size_t n, bool partial)
{
	int fmt = format_of(c);
	if (fmt == LOG_FORMAT_PLAIN && !out_sd->log_timestamp) {
		sink_write_line(c->sink, p, n);
		if (partial)
			sink_write_line(c->sink, "\n", 1); /* keep other programs' lines apart */
		return;
	}
	struct prefix pf;
	if (fmt == LOG_FORMAT_PREFIX)
		prefix_build(c, &pf);
	scratch.len = 0;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		format_line(c, fmt, &pf, p, len, !nl && partial, &scratch);
		c->continued = !nl && partial;
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
	sink_write_line(c->sink, scratch.data, scratch.len);
}

static void strip_ansi(char *p, size_t *n)
{
	size_t o = 0;
	for (size_t i = 0; i < *n; i++) {
		if (p[i] == '\033' && i + 1 < *n && p[i + 1] == '[') {
			size_t j = i + 2;
			while (j < *n &&
			       (isdigit((unsigned char)p[j]) || p[j] == ';' || p[j] == '?'))
				j++;
			if (j < *n) {
				i = j; /* the final byte of the sequence */
				continue;
			}
		}
		p[o++] = p[i];
	}
	*n = o;
}

static void to_syslog(struct outchan *c, const char *p, size_t n)
{
	static int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	if (fd < 0) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (fd >= 0)
				close(fd);
			fd = -1;
			return; /* no syslog here: nothing to do, as supervisord */
		}
	}
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		char msg[2048];
		/* user.info, tagged with the program's name like supervisord's "name output" */
		int m = snprintf(msg, sizeof(msg), "<14>%s: %.*s", c->proc->conf->name,
				 (int)(len > 1900 ? 1900 : len), p);
		if (m > 0 && send(fd, msg, (size_t)m, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
			close(fd);
			fd = -1;
			return;
		}
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

static void emit(struct outchan *c, char *p, size_t n, bool partial)
{
	if (out_sd->strip_ansi)
		strip_ansi(p, &n);
	if (c->file.path)
		logfile_write(&c->file, p, n);
	else
		ring_write(&c->ring, p, n);
	if (c->sink)
		to_sink(c, p, n, partial);
	if (c->syslog)
		to_syslog(c, p, n);
}

/* --- reading the pipes --- */

static void chan_resume(struct sink_waiter *w)
{
	struct outchan *c = container_of(w, struct outchan, waiter);
	if (c->fd >= 0)
		ev_io_start(out_loop, &c->io);
}

/* Emits every whole line in the buffer; a buffer that is full with no newline grows up to
 * LINE_MAX_BYTES, then goes out as a marked piece. */
static void flush_lines(struct outchan *c)
{
	const char *last = c->len ? memrchr(c->buf, '\n', c->len) : NULL;
	if (last) {
		size_t upto = (size_t)(last - c->buf) + 1;
		emit(c, c->buf, upto, false);
		c->continued = false;
		memmove(c->buf, c->buf + upto, c->len - upto);
		c->len -= upto;
		return;
	}
	if (c->len < c->cap)
		return;
	if (c->cap < LINE_MAX_BYTES) {
		c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
		return;
	}
	emit(c, c->buf, c->len, true);
	c->len = 0;
}

/* Reads once; returns bytes read, 0 on EOF, -1 when nothing is there now. */
static ssize_t chan_read(struct outchan *c)
{
	if (!c->buf) {
		c->cap = READ_CHUNK;
		c->buf = xmalloc(c->cap);
	}
	if (c->cap - c->len < READ_CHUNK / 4 && c->cap < LINE_MAX_BYTES) {
		c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	ssize_t r;
	do
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	if (r == 0)
		return 0;
	c->len += (size_t)r;
	flush_lines(c);
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
		/* a last line without its newline: files get it as written; the shared stdout
		 * gets a newline after it, so the next program's line starts on its own */
		c->buf[c->len++] = '\n';
		struct sink *s = c->sink;
		c->sink = NULL;
		emit(c, c->buf, c->len - 1, false);
		c->sink = s;
		if (s)
			to_sink(c, c->buf, c->len, false);
		c->len = 0;
	}
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

static void chan_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct outchan *c = container_of(io, struct outchan, io);
	(void)revents;
	(void)loop;
	/* back-pressure: only read when the shared sink can take what one read may produce */
	if (c->sink && !sink_has_room(c->sink, c->cap + READ_CHUNK)) {
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

static bool is_dev(const char *path, const char *a, const char *b)
{
	return !strcmp(path, a) || !strcmp(path, b);
}

static struct outchan *chan_new(struct process *p, int channel, const struct log_conf *lc)
{
	struct outchan *c = xcalloc(1, sizeof(*c));
	c->proc = p;
	c->channel = channel;
	c->fd = -1;
	c->file.fd = -1;
	c->waiter.cb = chan_resume;
	c->syslog = lc->syslog;
	const char *lf = lc->logfile;
	if (!lf) {
		/* NONE: only the tail ring */
	} else if (is_dev(lf, "/dev/stdout", "/dev/fd/1")) {
		c->sink = sink_stdout();
	} else if (is_dev(lf, "/dev/stderr", "/dev/fd/2")) {
		c->sink = sink_stderr();
	} else if (!strcmp(lf, "syslog")) {
		c->syslog = true; /* supervisord's deprecated spelling of *_syslog */
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
		p->chan[i]->continued = false;
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
		/* what the child wrote before it died is still in the pipe: take it all (the
		 * pipe holds at most 64 KiB unless grandchildren keep writing) */
		for (int guard = 0; guard < 64; guard++) {
			if (c->sink && !sink_has_room(c->sink, c->cap + READ_CHUNK))
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

bool output_has_tail(const struct process *p, int channel)
{
	const struct outchan *c = p->chan[channel == 2 ? 1 : 0];
	return c && !c->file.path;
}

unsigned long long output_tail_size(const struct process *p, int channel)
{
	const struct outchan *c = p->chan[channel == 2 ? 1 : 0];
	return c ? c->ring.total : 0;
}

size_t output_tail_read(const struct process *p, int channel, unsigned long long offset,
			size_t length, char *out)
{
	const struct outchan *c = p->chan[channel == 2 ? 1 : 0];
	if (!c || !c->ring.data)
		return 0;
	const struct ring *r = &c->ring;
	unsigned long long first = r->total > r->cap ? r->total - r->cap : 0;
	if (offset < first)
		offset = first; /* older bytes are gone: give what is kept */
	if (offset >= r->total)
		return 0;
	if (length > r->total - offset)
		length = (size_t)(r->total - offset);
	for (size_t i = 0; i < length; i++)
		out[i] = r->data[(offset + i) % r->cap];
	return length;
}

void output_tail_clear(struct process *p, int channel)
{
	struct outchan *c = p->chan[channel == 2 ? 1 : 0];
	if (c && c->ring.data) {
		free(c->ring.data);
		c->ring.data = NULL;
		c->ring.total = 0;
	}
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
		free(c->ring.data);
		free(c);
		p->chan[i] = NULL;
	}
}

void output_cleanup_auto_logs(const struct supervisord_conf *sd)
{
	/* supervisord deletes old AUTO logs at start unless nocleanup: *---<identifier>-*.log* */
	DIR *d = opendir(sd->childlogdir);
	if (!d)
		return;
	char *pat = xasprintf("---%s-", sd->identifier);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *at = strstr(e->d_name, pat);
		if (at && strstr(at, ".log")) {
			char *path = xasprintf("%s/%s", sd->childlogdir, e->d_name);
			unlink(path);
			free(path);
		}
	}
	free(pat);
	closedir(d);
}
