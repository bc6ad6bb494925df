/*
 * A byte of a program's output moves here. Each read is one chunk (chan_chunk): it goes at once,
 * as it came, to the program's log file (logfile.c) or tail ring, and to the main log at
 * loglevel debug, as supervisord does. For pidvisor's stdout/stderr (stdout_sink.c) and syslog
 * the chunks go through the line buffer (linebuf.c): everything up to the last newline goes out
 * as one unit, so lines are never split or interleaved with another program's; an unfinished
 * line goes out marked as a piece after PARTIAL_QUIET seconds without output (PARTIAL_MAX_WAIT
 * at most), and the rest of it follows as a continuation.
 *
 * When the program writes to pidvisor's stdout and its reader stalls, the pipe is not read
 * (the program blocks in write), also after the program exits: what it left stays in the pipe,
 * and a restart writes into that same pipe, behind it. So each program costs at most its line
 * buffer and its pipe, however long the reader stalls, and nothing waits in the loop.
 */
#include "child_output.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "line_format.h"
#include "linebuf.h"
#include "log_target.h"
#include "logfile.h"
#include "mainlog.h"
#include "pipe_depth.h"
#include "ready.h"
#include "stdout_sink.h"
#include "supervisor.h"
#include "util.h"

#define RING_BYTES (64 * 1024) /* tail of programs that have no log file */
/* An unfinished line goes to pidvisor's stdout after this long without more output, and never
 * more than PARTIAL_MAX_WAIT after its first byte (docs/logging.md). */
#define PARTIAL_QUIET	 0.1
#define PARTIAL_MAX_WAIT 1.0

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
	struct sink *waiting_on; /* the sink waiter is queued on, when it is */
	struct linebuf lb;	 /* allocated while the pipe is open */
	ev_timer quiet;		 /* sends an unfinished line to the sink (PARTIAL_QUIET) */
	double partial_since;	 /* when the unfinished line in lb began; 0: none */
	bool continued;		 /* the previous piece of this line went out without its end */
	bool dead;		 /* the last child writing to the pipe was reaped */
	bool capture;		 /* capture mode: the bus sees each chunk */
	bool log_events;	 /* *_events_enabled: the bus sees a chunk while a pool wants it */
	bool boundary;		 /* after `owed` more bytes, an earlier run's output ends */
	size_t owed;
	bool scan;	 /* ready=log: its lines are framed and matched even with no sink */
	size_t deep;	 /* the pipe's size when it was deepened (pipe_depth.h), else 0 */
	bool deep_tried; /* once per pipe */
	bool let_drain;	 /* waited once for the sink's queue to be written (must_wait) */
};

/* The loop and the [supervisord] section come from the process's supervisor: after a reload,
 * its new config. */
static struct ev_loop *loop_of(const struct outchan *c)
{
	return c->proc->sv->loop;
}

static const struct supervisord_conf *sd_of(const struct process *p)
{
	return &p->sv->cfg->sd;
}

/* --- the tail ring --- */

static void ring_write(struct ring *r, const char *p, size_t n)
{
	if (!r->data) {
		r->data = malloc(RING_BYTES);
		if (!r->data)
			return; /* the tail only: the lines still go out */
		r->cap = RING_BYTES;
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

/* --- pidvisor's stdout/stderr --- */

static int format_of(const struct outchan *c)
{
	int f = c->proc->conf->log_format;
	return f >= 0 ? f : sd_of(c->proc)->log_format;
}

/* Sends a batch of whole lines (or one piece, when partial) to pidvisor's stdout/stderr, in the
 * program's format (line_format.c). */
static void to_sink(struct outchan *c, const char *p, size_t n, bool partial)
{
	int fmt = format_of(c);
	const struct supervisord_conf *sd = sd_of(c->proc);
	struct line_style st = {.name = c->proc->conf->name,
				.channel = c->channel,
				.format = fmt,
				.timestamp = sd->log_timestamp,
				.color = fmt == LOG_FORMAT_PREFIX && sd->log_color &&
					 sink_is_tty(c->sink),
				.name_width = c->proc->sv->name_width};
	lines_to_sink(c->sink, &st, &c->continued, p, n, partial);
}

/* Bytes as they came: counted, and to the log file or the tail ring. */
static void deliver_raw(struct outchan *c, const char *p, size_t n)
{
	int i = c->channel == 2;
	c->proc->log_bytes[i] += n;
	c->proc->log_lines[i] += count_newlines(p, n);
	if (c->file.path)
		logfile_write(&c->file, p, n);
	else
		ring_write(&c->ring, p, n);
}

/* Whole lines, or a piece of one (partial), to pidvisor's stdout/stderr and syslog. */
static void lines_out(struct outchan *c, const char *p, size_t n, bool partial)
{
	if (c->sink)
		to_sink(c, p, n, partial);
	if (c->syslog)
		syslog_send(c->proc->conf->name, p, n);
}

/* The program's own lines: ready=log looks at them on their way out. */
static void deliver_lines(struct outchan *c, const char *p, size_t n, bool partial)
{
	if (c->scan)
		ready_scan(c->proc, p, n);
	lines_out(c, p, n, partial);
}

/* Whether the event bus sees this channel's chunks: always in capture mode, else only while a
 * pool subscribes to its PROCESS_LOG_* (a mask test, no call). */
static bool bus_sees(const struct outchan *c)
{
	const struct bus_hooks *bus = &c->proc->sv->bus;
	if (!bus->output)
		return false;
	return c->capture ||
	       (c->log_events &&
		event_type_matches(bus->wanted, c->channel == 2 ? EV_PROCESS_LOG_STDERR
								: EV_PROCESS_LOG_STDOUT));
}

/*
 * A chunk of a program's output, as one read got it, n bytes at p with room for BUS_HELD_MAX
 * more: the one place every byte of a channel passes, in order, before any framing. Returns the
 * length of what the logs get (after strip_ansi and capture mode), rewritten in place at p.
 */
static size_t chan_chunk(struct outchan *c, char *p, size_t n)
{
	if (sd_of(c->proc)->strip_ansi)
		strip_ansi(p, &n);
	/* PROCESS_LOG_* events; capture mode takes PROCESS_COMMUNICATION bytes out */
	if (bus_sees(c)) {
		n = c->proc->sv->bus.output(c->proc->sv->bus.ctx, c->proc, c->channel, p, n);
		if (n == 0)
			return 0;
	}
	deliver_raw(c, p, n);
	log_child_output(c->proc->conf->name, c->channel == 2 ? "stderr" : "stdout", p, n);
	return n;
}

void output_note(struct process *p, const char *text)
{
	struct outchan *c = p->chan[0];
	if (!c)
		return;
	struct buf line = {0};
	buf_printf(&line, "%s\n", text);
	if (!line.failed) {
		deliver_raw(c, line.data, line.len);
		lines_out(c, line.data, line.len, false);
	}
	buf_free(&line);
}

/* --- reading the pipes --- */

/* An unfinished line in the line buffer goes out when the quiet timer fires, unless more
 * output comes first. */
static void partial_arm(struct outchan *c)
{
	if (c->lb.len == 0) {
		ev_timer_stop(loop_of(c), &c->quiet);
		return;
	}
	double now = ev_now(loop_of(c));
	if (!c->partial_since)
		c->partial_since = now;
	double in = MIN(PARTIAL_QUIET, c->partial_since + PARTIAL_MAX_WAIT - now);
	ev_timer_stop(loop_of(c), &c->quiet);
	ev_timer_set(&c->quiet, in > 0 ? in : 0, 0);
	ev_timer_start(loop_of(c), &c->quiet);
}

/* Sends every unit the line buffer has ready; an unfinished line is left to the quiet timer. */
static void emit_ready(struct outchan *c)
{
	bool partial;
	size_t n;
	while ((n = linebuf_next(&c->lb, &partial)) > 0) {
		deliver_lines(c, c->lb.data, n, partial);
		if (!partial)
			c->continued = false;
		linebuf_consume(&c->lb, n);
		c->partial_since = 0;
	}
	partial_arm(c);
}

static void quiet_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	struct outchan *c = container_of(t, struct outchan, quiet);
	/* not quiet: the rest of the line is in the pipe, and the next read re-arms this (when
	 * a stalled reader makes the program wait, the line waits whole with it, and chan_resume
	 * re-arms this) */
	int queued;
	if (c->waiting_on || (ioctl(c->fd, FIONREAD, &queued) == 0 && queued > 0))
		return;
	if (c->lb.len > 0)
		deliver_lines(c, c->lb.data, c->lb.len, true);
	c->lb.len = 0;
	c->partial_since = 0;
}

/* Whether a channel's whole lines go to pidvisor's stdout by splice: they go there as they
 * came, and nothing but the log file and the tail needs them (both get the peeked copy). They
 * may be spliced while nothing is queued for that stdout (may_splice). */
static bool splicer(const struct outchan *c)
{
	const struct supervisord_conf *sd = sd_of(c->proc);
	return c->sink && sink_splices(c->sink) && format_of(c) == LOG_FORMAT_PLAIN &&
	       !sd->log_timestamp && !sd->strip_ansi && !c->syslog && !c->scan && !c->capture &&
	       !bus_sees(c) && !log_enabled(LOG_LEVEL_DEBUG) &&
	       !(c->channel == 1 && c->proc->conf->kind == KIND_EVENTLISTENER);
}

static bool may_splice(const struct outchan *c)
{
	return splicer(c) && sink_can_splice(c->sink);
}

/* Takes n bytes from the pipe that sink_peek() already copied to at: they land on themselves. */
static bool chan_take(struct outchan *c, char *at, size_t n)
{
	while (n > 0) {
		ssize_t r = read(c->fd, at, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		at += r;
		n -= (size_t)r;
	}
	return true;
}

/*
 * One chunk with the copy out of the kernel and back in saved: the chunk is peeked into the
 * line buffer (for the counts, the tail, the log file, and to find the lines), and its whole
 * lines are spliced from the program's pipe to pidvisor's stdout. Only the end of a line begun
 * in an earlier chunk, and what the splice did not take, are taken from the pipe and written as
 * usual, in order: a line that the splice cut goes on at once. A line that the chunk cut stays
 * in the pipe when more likely follows it there (the peek took more than half of what it
 * could), to start the next chunk whole: its end is then not read and written on its own. Returns
 * the bytes taken from the pipe, as chan_read, or -2 when the chunk must be read the usual way
 * (nothing of it was taken or delivered).
 */
static ssize_t chan_splice(struct outchan *c, char *at, size_t want)
{
	bool full = false;
	ssize_t t = sink_peek(c->sink, c->fd, at, want, &full);
	if (t < 0)
		return t;
	size_t n = (size_t)t;
	size_t held = c->lb.len, first = 0, lines = 0;
	const char *last = memrchr(at, '\n', n);
	if (last && held) /* the end of the held line goes with it, written */
		first = (size_t)((const char *)memchr(at, '\n', n) - at) + 1;
	if (last)
		lines = (size_t)(last - at) + 1 - first;
	if (first) {
		if (!chan_take(c, at, first)) {
			deliver_raw(c, at, n);
			return 0;
		}
		linebuf_added(&c->lb, first);
		emit_ready(c); /* ends with a newline: all of it goes, the line buffer is empty */
	}
	/* the chunk's bytes still in the pipe are at + first .. at + n */
	size_t moved = 0;
	if (lines && sink_can_splice(c->sink))
		moved = sink_splice(c->sink, c->fd, at + first, lines);
	size_t rest = n - first - moved;
	if (moved && moved == lines && full && !c->boundary && !c->dead)
		rest = 0; /* the cut line stays in the pipe */
	deliver_raw(c, at, first + moved + rest);
	char *to = c->lb.data + c->lb.len;
	memmove(to, at + first + moved, rest);
	if (!chan_take(c, to, rest))
		return 0;
	linebuf_added(&c->lb, rest);
	emit_ready(c);
	return (ssize_t)(first + moved + rest);
}

/* What one read takes at most: more from a pipe that was deepened. */
static size_t read_max(const struct outchan *c)
{
	return c->deep ? c->deep : LINEBUF_READ;
}

/* Reads once, at most `limit` bytes; returns bytes read, 0 on EOF, -1 when nothing is there. */
static ssize_t chan_read(struct outchan *c, size_t limit)
{
	size_t room;
	char *at = linebuf_space(&c->lb, read_max(c), &room);
	char spare[4096];
	if (!at) {
		/* no memory for the line buffer: pass the bytes on unframed rather than stall */
		at = spare;
		room = sizeof(spare);
	}
	if (c->capture && at != spare && room < 2 * BUS_HELD_MAX) {
		/* a line as long as the buffer's max: its start goes out as a piece, so that
		 * capture mode has room to give back what it held */
		deliver_lines(c, c->lb.data, c->lb.len, true);
		c->lb.len = 0;
		c->partial_since = 0;
		at = linebuf_space(&c->lb, read_max(c), &room);
	}
	/* capture mode may give back up to BUS_HELD_MAX held bytes with this chunk: read that
	 * much less, so what it returns is framed in place, after any unfinished line */
	size_t want = c->capture ? room - BUS_HELD_MAX : room;
	if (want > limit)
		want = limit;
	if (at != spare && may_splice(c)) {
		ssize_t t = chan_splice(c, at, want);
		if (t != -2)
			return t;
	}
	ssize_t r;
	do
		r = read(c->fd, at, want);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	if (r == 0)
		return 0;
	if (c->channel == 1 && c->proc->conf->kind == KIND_EVENTLISTENER &&
	    c->proc->sv->bus.listener_output)
		c->proc->sv->bus.listener_output(c->proc->sv->bus.ctx, c->proc, at, (size_t)r);
	size_t n = chan_chunk(c, at, (size_t)r);
	if (n == 0)
		return r; /* all of it was captured (PROCESS_COMMUNICATION) */
	if (at == spare)
		deliver_lines(c, at, n, true); /* no line buffer (out of memory) */
	else if (c->sink || c->syslog || c->scan) {
		linebuf_added(&c->lb, n);
		emit_ready(c);
	}
	return r;
}

/* A run's last line without its newline (files have it already): pidvisor's stdout gets it
 * with a newline (to_sink), so the next program's line starts on its own. */
static void end_of_run(struct outchan *c)
{
	c->boundary = false;
	ev_timer_stop(loop_of(c), &c->quiet);
	if (c->lb.len > 0)
		deliver_lines(c, c->lb.data, c->lb.len, false);
	c->lb.len = 0;
	c->partial_since = 0;
	c->continued = false;
}

static void chan_close(struct outchan *c)
{
	if (c->fd < 0)
		return;
	ev_io_stop(loop_of(c), &c->io);
	if (c->waiting_on)
		sink_cancel(c->waiting_on, &c->waiter);
	c->waiting_on = NULL;
	close(c->fd);
	c->fd = -1;
	pipe_deep_closed(c->deep);
	c->deep = 0;
	c->deep_tried = false;
	end_of_run(c);
	c->dead = false;
	linebuf_free(&c->lb);
}

/* The shared sink to wait for before the next read, or NULL: only read when it can take what
 * one read may produce, as lines or (at loglevel debug) as a main-log copy. A channel whose
 * lines are spliced also lets a queue that is draining (SINK_LOW or less) be written first,
 * once: its output stays in its pipe, to be spliced once the queue is written, rather than be
 * copied into it. Once: the next write of the queue wakes it, and it then reads even if
 * programs that write to the queue keep it from emptying. */
static struct sink *must_wait(struct outchan *c)
{
	if (c->sink && !sink_has_room(c->sink, c->lb.cap + read_max(c)))
		return c->sink;
	if (c->sink && !c->let_drain && sink_draining(c->sink) && splicer(c)) {
		c->let_drain = true;
		return c->sink;
	}
	struct sink *copy = log_enabled(LOG_LEVEL_DEBUG) ? log_copy_sink() : NULL;
	if (copy && !sink_has_room(copy, 2 * read_max(c)))
		return copy;
	return NULL;
}

/*
 * Reads while it may: one read for a running program (the loop stays fair), everything up to
 * its end for one that was reaped. With force, the sink's room is not asked (the program is
 * being removed: what is in its pipe, at most the pipe's size, is all queued).
 */
static void chan_pump(struct outchan *c, bool force)
{
	while (c->fd >= 0) {
		if (c->boundary && c->owed == 0) {
			end_of_run(c);
			if (c->dead) {
				chan_close(c);
				return;
			}
		}
		struct sink *full = force ? NULL : must_wait(c);
		if (full) {
			ev_io_stop(loop_of(c), &c->io);
			sink_wait(full, &c->waiter);
			c->waiting_on = full;
			return;
		}
		ssize_t r = chan_read(c, c->boundary ? c->owed : SIZE_MAX);
		if (r == 0) {
			chan_close(c);
			return;
		}
		if (r < 0 && !c->boundary)
			return;
		if (r >= LINEBUF_READ - LINEBUF_READ / 8 && c->sink && !c->deep_tried) {
			/* the pipe was (nearly) full: its program writes faster than we read */
			c->deep_tried = true;
			c->deep = pipe_deepen(c->fd);
		}
		if (r > 0)
			c->let_drain = false;
		if (r < 0)
			c->owed = 0; /* the pipe is empty: that run has ended */
		else if (c->boundary)
			c->owed -= (size_t)r;
		if (!c->dead && !c->boundary)
			return;
	}
}

static void chan_resume(struct sink_waiter *w)
{
	struct outchan *c = container_of(w, struct outchan, waiter);
	c->waiting_on = NULL;
	if (c->fd < 0)
		return;
	ev_io_start(loop_of(c), &c->io);
	partial_arm(c); /* a line cut short while waiting goes out even if nothing more comes */
	if (c->dead || c->boundary)
		chan_pump(c, false);
}

static void chan_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	chan_pump(container_of(io, struct outchan, io), false);
}

/* An AUTO log file, created empty as supervisord's tempfile.mkstemp does when it reads the
 * config: DIR/NAME-stdout---IDENTIFIER-XXXXXXXX.log, 8 random characters from Python's set, and
 * one slash between the directory and the name. */
static char *auto_logfile(struct process *p, int channel)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
	const struct supervisord_conf *sd = sd_of(p);
	const char *dir = sd->childlogdir;
	size_t dn = strlen(dir);
	int saved = ENOENT;
	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned char rnd[8];
		char suffix[9];
		if (getentropy(rnd, sizeof(rnd)) < 0)
			return NULL;
		for (int i = 0; i < 8; i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[8] = '\0';
		char *path;
		if (asprintf(&path, "%.*s/%s-%s---%s-%s.log",
			     (int)(dn > 1 && dir[dn - 1] == '/' ? dn - 1 : dn), dir, p->conf->name,
			     channel == 1 ? "stdout" : "stderr", sd->identifier, suffix) < 0)
			return NULL;
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			return path;
		}
		saved = errno;
		free(path);
		if (saved != EEXIST)
			break;
	}
	log_error("cannot create a log file in %s: %s", dir, strerror(saved));
	return NULL;
}

void output_name_auto_logs(struct process *p)
{
	const struct log_conf *lcs[2] = {&p->conf->out, &p->conf->err};
	for (int i = 0; i < (p->conf->redirect_stderr ? 1 : 2); i++)
		if (!p->auto_log[i] && log_target_of(lcs[i]->logfile) == LOG_TARGET_AUTO)
			p->auto_log[i] = auto_logfile(p, i + 1);
}

/* NULL when memory runs out (the spawn fails, PID 1 does not). */
static struct outchan *chan_new(struct process *p, int channel, const struct log_conf *lc)
{
	struct outchan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->proc = p;
	c->channel = channel;
	c->fd = -1;
	c->file.fd = -1;
	c->waiter.cb = chan_resume;
	ev_timer_init(&c->quiet, quiet_cb, 0, 0);
	c->syslog = lc->syslog;
	c->scan = p->conf->ready.kind == READY_LOG;
	/* an event listener's stdout is its protocol, never a log event */
	bool protocol = channel == 1 && p->conf->kind == KIND_EVENTLISTENER;
	c->capture = lc->capture_maxbytes > 0 && !protocol;
	c->log_events = lc->events_enabled && !protocol;
	switch (log_target_of(lc->logfile)) {
	case LOG_TARGET_NONE:
		break; /* only the tail ring */
	case LOG_TARGET_STDOUT:
		c->sink = sink_stdout();
		break;
	case LOG_TARGET_STDERR:
		c->sink = sink_stderr();
		break;
	case LOG_TARGET_SYSLOG:
		c->syslog = true; /* supervisord's deprecated spelling of *_syslog */
		break;
	case LOG_TARGET_AUTO:
		/* named when the process was added; else (no room then) now */
		c->file.path =
		    p->auto_log[channel - 1] ? p->auto_log[channel - 1] : auto_logfile(p, channel);
		p->auto_log[channel - 1] = NULL;
		break;
	case LOG_TARGET_FILE:
		c->file.path = strdup(lc->logfile);
		break;
	}
	if (c->file.path) {
		c->file.maxbytes = lc->maxbytes;
		c->file.backups = lc->backups;
		logfile_start(&c->file);
	}
	return c;
}

/* The write end for a channel's next child: the pipe a stalled reader left unread, when there
 * is one, so the new run's output queues behind the old run's in the kernel; else a new pipe.
 * -1 on failure. */
static int chan_pipe(struct outchan *c)
{
	if (c->fd >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fd);
		int w = open(path, O_WRONLY | O_CLOEXEC);
		if (w >= 0) {
			c->dead = false;
			return w;
		}
		/* no /proc: what is left is queued now (at most a pipe's worth), then a new pipe */
		chan_pump(c, true);
		chan_close(c);
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	c->fd = fds[0];
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	ev_io_init(&c->io, chan_io_cb, c->fd, EV_READ);
	return fds[1];
}

int output_prepare(struct process *p, int child_fds[3], char **err)
{
	int in[2], wr[2] = {-1, -1};
	const struct log_conf *lcs[2] = {&p->conf->out, &p->conf->err};
	const char *why = "too many open files";

	if (pipe2(in, O_CLOEXEC) < 0)
		goto fail;
	for (int i = 0; i < (p->conf->redirect_stderr ? 1 : 2); i++) {
		if (!p->chan[i])
			p->chan[i] = chan_new(p, i + 1, lcs[i]);
		if (!p->chan[i])
			why = "out of memory";
		if (!p->chan[i] || (wr[i] = chan_pipe(p->chan[i])) < 0) {
			close(in[0]);
			close(in[1]);
			if (wr[0] >= 0)
				close(wr[0]);
			goto fail;
		}
	}
	child_fds[0] = in[0];
	child_fds[1] = wr[0];
	child_fds[2] = p->conf->redirect_stderr ? wr[0] : wr[1];
	p->stdin_fd = in[1];
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	return 0;
fail:
	if (asprintf(err, "%s to spawn '%s'", why, p->conf->name) < 0)
		*err = NULL;
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
			ev_io_start(p->sv->loop, &p->chan[i]->io);
}

void output_abort(struct process *p, const int child_fds[3])
{
	output_started(p, child_fds);
	output_finished(p);
}

/* The child is gone: what is still in the pipe is the rest of its run (and of an earlier
 * run's, when a stalled reader left that one unread too). */
static void chan_child_gone(struct outchan *c)
{
	int n;
	c->owed = ioctl(c->fd, FIONREAD, &n) == 0 && n >= 0 ? (size_t)n : SIZE_MAX;
	c->boundary = true;
	c->dead = true;
}

void output_finished(struct process *p)
{
	for (int i = 0; i < 2; i++) {
		struct outchan *c = p->chan[i];
		if (!c || c->fd < 0)
			continue;
		chan_child_gone(c);
		chan_pump(c, false);
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
		if (c && c->file.path)
			logfile_reopen(&c->file);
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
	/* not spawned yet: a plain path is known, AUTO was named when the process was added */
	if (log_target_of(lc->logfile) == LOG_TARGET_AUTO)
		return p->auto_log[channel == 2 ? 1 : 0];
	if (log_target_of(lc->logfile) != LOG_TARGET_FILE || !strncmp(lc->logfile, "/dev/", 5))
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
	for (int i = 0; i < 2; i++) {
		free(p->auto_log[i]);
		p->auto_log[i] = NULL;
	}
	for (int i = 0; i < 2; i++) {
		struct outchan *c = p->chan[i];
		if (!c)
			continue;
		if (c->fd >= 0) {
			/* removed, or pidvisor exits: its pipe's rest is queued, not waited for */
			chan_child_gone(c);
			chan_pump(c, true);
			chan_close(c);
		}
		logfile_close(&c->file);
		free(c->file.path);
		free(c->ring.data);
		free(c);
		p->chan[i] = NULL;
	}
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
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
