#include "stdout_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linebuf.h"
#include "pipe_depth.h"
#include "util.h"

#define SINK_LOW	(SINK_CAP / 2)	  /* waiting programs are woken below this */
#define SINK_HARD_MAX	(8 * 1024 * 1024) /* main-log lines are dropped past this */
#define SPLICES_TRACKED 64	    /* splices in the pipe at once; past it, lines are written */
#define PEEK_MIN	(16 * 1024) /* less room than a splice of this: the write path */

struct sink {
	int fd;
	const char *name;
	char *buf;
	size_t head, len, cap; /* queued bytes are buf[head .. head+len) */
	unsigned long long dropped;
	struct ev_loop *loop;
	ev_io io;
	int saved_flags;
	bool fifo;    /* a pipe: written in whole lines that fit (see write_lines) */
	int pipe_cap; /* its capacity (F_GETPIPE_SZ), 0 when unknown */
	long page;    /* the page size: a pipe holds pipe_cap / page pages */
	bool broken;  /* the reader went away, or never came back at exit: drop */
	/* Where each splice whose bytes may still be in the pipe ended, counted in the bytes we
	 * ever put there: each can leave two part-filled pages in it, which the room must count,
	 * until the reader has taken everything up to its end. */
	unsigned long long written;
	unsigned long long splice_end[SPLICES_TRACKED];
	unsigned splice_first, splices;
	bool no_splice;		    /* the kernel refused it once: writes only */
	int peek[2];		    /* a pipe of our own that tee(2) copies a program's pipe into */
	bool peek_tried, peek_deep; /* deepened for the first read larger than LINEBUF_READ */
	struct sink_waiter *waiters;
};

static struct sink sinks[2] = {{.fd = 1, .name = "stdout", .saved_flags = -1, .peek = {-1, -1}},
			       {.fd = 2, .name = "stderr", .saved_flags = -1, .peek = {-1, -1}}};

struct sink *sink_stdout(void)
{
	return &sinks[0];
}

struct sink *sink_stderr(void)
{
	return &sinks[1];
}

bool sink_has_room(const struct sink *s, size_t n)
{
	/* an empty queue always takes one more unit, however large (a 4 MiB line) */
	return s->broken || s->len == 0 || s->len + n <= SINK_CAP;
}

bool sink_is_tty(const struct sink *s)
{
	return isatty(s->fd);
}

static void wake_waiters(struct sink *s)
{
	struct sink_waiter *w = s->waiters;
	s->waiters = NULL;
	while (w) {
		struct sink_waiter *next = w->next;
		w->queued = false;
		w->next = NULL;
		w->cb(w);
		w = next;
	}
}

static void drop_queue(struct sink *s)
{
	s->dropped += s->len;
	s->len = 0;
	s->head = 0;
}

/*
 * The bytes a pipe stdout surely has room for, or -1 when that is unknown. A pipe holds
 * pipe_cap / page pages, and a write fills new pages after merging its last part into the last
 * page only when that part fits there: pages are not all full. But any page followed by another
 * holds, with it, more than a page of data (the next page began because what came did not fit),
 * so Q queued bytes (FIONREAD) use at most 2Q / page + 3 pages, the partly read first one
 * included, plus two part-filled pages per splice still in the pipe. A write of n bytes needs
 * at most n / page + 2 pages. Hence the room: pipe_cap - 2Q - (5 + 2 splices) pages.
 */
static long pipe_room(struct sink *s)
{
	int queued;
	if (!s->fifo || s->pipe_cap <= 0 || ioctl(s->fd, FIONREAD, &queued) < 0 || queued < 0)
		return -1;
	/* bytes another writer left there make this smaller, never larger: the room stays sure */
	unsigned long long q = (unsigned long long)queued;
	unsigned long long taken = s->written > q ? s->written - q : 0;
	while (s->splices > 0 && s->splice_end[s->splice_first] <= taken) {
		s->splice_first = (s->splice_first + 1) % SPLICES_TRACKED;
		s->splices--;
	}
	return (long)s->pipe_cap - 2L * queued - (5L + 2L * s->splices) * s->page;
}

/*
 * One write of whole lines. On a pipe, only as many whole lines as the kernel is sure to take
 * whole (pipe_room), so the pipe never holds part of a line that a reader stalled for good would
 * leave cut at our exit. When the room is less than PIPE_BUF, PIPE_BUF: a write that small is
 * atomic, whole or nothing. A line longer than the room goes in one write.
 */
static ssize_t write_lines(struct sink *s, const char *p, size_t n)
{
	if (s->fifo && n > PIPE_BUF) {
		long r = pipe_room(s);
		size_t room = r > PIPE_BUF ? (size_t)r : PIPE_BUF;
		if (n > room) {
			const char *nl = memrchr(p, '\n', room);
			if (!nl)
				nl = memchr(p + room, '\n', n - room);
			if (nl)
				n = (size_t)(nl - p) + 1;
		}
	}
	ssize_t w;
	do
		w = write(s->fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w > 0)
		s->written += (unsigned long long)w;
	return w;
}

/* Writes what it can without blocking; -1 when the fd would block with bytes still queued. */
static int drain(struct sink *s)
{
	while (s->len > 0) {
		ssize_t w = write_lines(s, s->buf + s->head, s->len);
		if (w > 0) {
			s->head += (size_t)w;
			s->len -= (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1;
		s->broken = true; /* EPIPE, EBADF...: nobody reads; don't stall PID 1 */
		drop_queue(s);
	}
	s->head = 0;
	return 0;
}

static void sink_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sink *s = container_of(io, struct sink, io);
	(void)revents;
	if (drain(s) == 0)
		ev_io_stop(loop, io);
	if (s->len <= SINK_LOW && s->waiters)
		wake_waiters(s);
}

void sink_attach(struct ev_loop *loop)
{
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		s->loop = loop;
		s->saved_flags = fcntl(s->fd, F_GETFL);
		/* a pipe (docker's, a log shipper's): deeper, so a slow moment of the reader costs
		 * fewer round trips through the loop; failure keeps the default */
		struct stat st;
		s->fifo = fstat(s->fd, &st) == 0 && S_ISFIFO(st.st_mode);
		if (s->fifo) {
			fcntl(s->fd, F_SETPIPE_SZ, 1024 * 1024);
			s->pipe_cap = fcntl(s->fd, F_GETPIPE_SZ);
			s->page = sysconf(_SC_PAGESIZE);
			if (s->page < PIPE_BUF)
				s->pipe_cap = 0; /* unknown: PIPE_BUF writes */
		}
		if (s->saved_flags >= 0)
			fcntl(s->fd, F_SETFL, s->saved_flags | O_NONBLOCK);
		ev_io_init(&s->io, sink_io_cb, s->fd, EV_WRITE);
		if (s->len > 0) /* start-up lines an inherited non-blocking fd did not take */
			ev_io_start(loop, &s->io);
	}
}

static void exit_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void exit_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sink *s = io->data;
	(void)revents;
	if (drain(s) == 0)
		ev_io_stop(loop, io);
	if (!ev_is_active(&sinks[0].io) && !ev_is_active(&sinks[1].io))
		ev_break(loop, EVBREAK_ALL);
}

/* Every program has stopped: a loop of its own that only waits for the reader, for
 * SINK_EXIT_GRACE seconds at most. */
static void drain_before_exit(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (!loop)
		return;
	bool waiting = false;
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		ev_io_init(&s->io, exit_io_cb, s->fd, EV_WRITE);
		s->io.data = s;
		if (s->len > 0 && !s->broken) {
			ev_io_start(loop, &s->io);
			waiting = true;
		}
	}
	ev_timer timer;
	ev_timer_init(&timer, exit_timer_cb, SINK_EXIT_GRACE, 0);
	if (waiting) {
		ev_timer_start(loop, &timer);
		ev_run(loop, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++)
		ev_io_stop(loop, &sinks[i].io);
	ev_timer_stop(loop, &timer);
	ev_loop_destroy(loop);
}

void sink_detach(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		if (s->loop)
			ev_io_stop(s->loop, &s->io);
		s->loop = NULL;
		s->waiters = NULL;
	}
	drain_before_exit();
	unsigned long long left[2] = {sinks[0].len, sinks[1].len};
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++)
		if (left[i]) {
			/* the reader did not come back: later writes must not block either */
			drop_queue(&sinks[i]);
			sinks[i].broken = true;
		}
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		if (!left[i])
			continue;
		char line[200];
		int n =
		    snprintf(line, sizeof(line),
			     "pidvisor: dropped %llu bytes of output queued for its %s: nothing "
			     "read them within %.0f s of exit\n",
			     left[i], sinks[i].name, SINK_EXIT_GRACE);
		sink_write_line(&sinks[1 - i], line, (size_t)n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		/* blocking again for the shell that shares the terminal, unless a stalled reader
		 * shares it: the fds may be one file */
		if (!left[0] && !left[1] && !s->len && s->saved_flags >= 0)
			fcntl(s->fd, F_SETFL, s->saved_flags);
		s->saved_flags = -1;
		free(s->buf);
		s->buf = NULL;
		s->cap = s->len = s->head = 0;
	}
}

/* Appends to the queue, growing it: programs' output checks sink_has_room() before reading,
 * so the queue passes SINK_CAP by at most one read per program plus main-log lines. */
static void enqueue(struct sink *s, const char *buf, size_t n)
{
	if (s->len > 0 && s->len + n > SINK_HARD_MAX) {
		s->dropped += n; /* only main-log lines can get here: a reader stuck for good */
		return;
	}
	if (s->head > 0 && s->head + s->len + n > s->cap) {
		memmove(s->buf, s->buf + s->head, s->len);
		s->head = 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		while (cap < s->len + n)
			cap *= 2;
		char *grown = realloc(s->buf, cap);
		if (!grown) {
			s->dropped += n;
			return;
		}
		s->buf = grown;
		s->cap = cap;
	}
	memcpy(s->buf + s->head + s->len, buf, n);
	s->len += n;
	if (s->loop)
		ev_io_start(s->loop, &s->io);
}

void sink_write_line(struct sink *s, const char *buf, size_t n)
{
	if (s->broken) {
		s->dropped += n;
		return;
	}
	if (n == 0)
		return;
	while (s->len == 0 && n > 0) {
		/* nothing queued: straight through (before the loop, a blocking fd blocks, as
		 * any start-up write does) */
		ssize_t w = write_lines(s, buf, n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			s->broken = true;
			s->dropped += n;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
	if (n == 0)
		return;
	enqueue(s, buf, n);
}

bool sink_can_splice(const struct sink *s)
{
	return s->fifo && s->pipe_cap > 0 && s->loop && !s->broken && !s->no_splice && s->len == 0;
}

/* How much one splice may move now: half the room less three pages (see sink_splice). */
static long splice_room(struct sink *s)
{
	long r = pipe_room(s);
	return r < 0 ? -1 : (r - 3L * s->page) / 2;
}

ssize_t sink_peek(struct sink *s, int from, char *buf, size_t n)
{
	/* a peek costs a copy out of the kernel, and what the splice cannot take is copied out
	 * again and written: so no more than the splice can take, and when the reader is behind
	 * (little room), the write path alone (one copy out and one in) */
	long room = splice_room(s);
	if (room < PEEK_MIN)
		return -2;
	if ((size_t)room < n)
		n = (size_t)room;
	if (s->peek[0] < 0 && pipe2(s->peek, O_CLOEXEC | O_NONBLOCK) < 0)
		return -2;
	if (n > LINEBUF_READ && !s->peek_tried) {
		s->peek_tried = true;
		s->peek_deep = pipe_deepen(s->peek[0]) > 0;
	}
	ssize_t t = tee(from, s->peek[1], n, SPLICE_F_NONBLOCK);
	if (t < 0)
		return errno == EAGAIN ? -1 : -2;
	if (t == 0)
		return -2; /* the end of the pipe: read(2) says so */
	ssize_t got = read(s->peek[0], buf, (size_t)t);
	if (got == t)
		return t;
	/* cannot happen (our pipe holds what tee put there); start again clean, by read(2) */
	close(s->peek[0]);
	close(s->peek[1]);
	s->peek[0] = s->peek[1] = -1;
	pipe_deep_closed(s->peek_deep ? PIPE_DEEP : 0);
	s->peek_tried = s->peek_deep = false;
	return -2;
}

/*
 * Splicing n bytes from a pipe takes at most 2n / page + 3 of our pipe's pages (see
 * pipe_room: the source pipe's pages are filled the same way), so at most half the room less
 * three pages is moved, cut after a line.
 */
size_t sink_splice(struct sink *s, int from, const char *p, size_t n)
{
	long r = splice_room(s);
	if (s->splices == SPLICES_TRACKED || r <= 0)
		return 0;
	if (n > (size_t)r) {
		const char *nl = memrchr(p, '\n', (size_t)r);
		if (!nl)
			return 0;
		n = (size_t)(nl - p) + 1;
	}
	ssize_t m;
	do
		m = splice(from, NULL, s->fd, NULL, n, SPLICE_F_NONBLOCK);
	while (m < 0 && errno == EINTR);
	if (m > 0) {
		s->written += (unsigned long long)m;
		s->splice_end[(s->splice_first + s->splices++) % SPLICES_TRACKED] = s->written;
		return (size_t)m;
	}
	if (m < 0 && errno != EAGAIN)
		s->no_splice = true; /* EPIPE and the like: the write path finds out and drops */
	return 0;
}

void sink_wait(struct sink *s, struct sink_waiter *w)
{
	if (w->queued)
		return;
	w->queued = true;
	w->next = s->waiters;
	s->waiters = w;
}

void sink_cancel(struct sink *s, struct sink_waiter *w)
{
	for (struct sink_waiter **p = &s->waiters; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->queued = false;
	w->next = NULL;
}
