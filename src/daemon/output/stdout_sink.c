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

#define SINK_LOW       (SINK_CAP / 2)	 /* waiting programs are woken below this */
#define SINK_HARD_MAX  (8 * 1024 * 1024) /* main-log lines are dropped past this */
#define UNITS_TRACKED  64	   /* writes and splices in the pipe told apart; later ones join */
#define PEEK_MIN       (16 * 1024) /* less room than a splice of this: the write path */
#define UNASKED_WRITES 8	   /* PIPE_BUF writes after a room below it, before asking again */

struct pipe_unit {
	unsigned long long end; /* `written` after it */
	long pages;		/* the pipe pages it can hold at most */
	unsigned splices;	/* how many splices it stands for (units join past UNITS_TRACKED) */
};

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
	/* What we put in the pipe, counted in bytes, and the units (writes and splices) whose
	 * bytes may still be there: where each ended, and the pages it can hold (see
	 * pipe_pages_free). A unit is gone once the reader has taken everything up to its end. */
	unsigned long long written;
	struct pipe_unit unit[UNITS_TRACKED];
	unsigned unit_first, units;
	unsigned long long unit_start; /* `written` before the first unit */
	long unit_pages;	       /* the pages of the units, summed */
	unsigned splices;	       /* the splices among them */
	/* Bytes another process wrote may be in the pipe (before ours, or seen since: FIONREAD
	 * grew by more than we put in): the units do not count their pages until the pipe is
	 * seen empty. */
	bool foreign;
	bool shared; /* stdout and stderr are one pipe: each is the other's foreign writer */
	/* FIONREAD last time, and `written` then (0 before the first look, when `foreign` is
	 * set already) */
	unsigned long long seen_q, seen_written;
	/* The room was below 2 PIPE_BUF: this many more writes go at PIPE_BUF, atomic, without
	 * asking it (FIONREAD) each time; a full pipe (EAGAIN) ends that. */
	unsigned unasked;
	/* The pages free that sink_peek found, and `written` then: sink_splice uses them when
	 * nothing was written since (the reader only frees pages meanwhile). */
	long peeked_free;
	unsigned long long peeked_written;
	bool no_splice;	 /* the kernel refused it once: writes only */
	int peek[2];	 /* a pipe of our own that tee(2) copies a program's pipe into */
	long peek_pages; /* its capacity in pages: a tee into it takes at most that many */
	long peek_full;	 /* its capacity when made or deepened (fit_peek_pipe shrinks it) */
	bool peek_tried, peek_deep; /* deepened for the first read larger than LINEBUF_READ */
	struct sink_waiter *waiters;
};

static struct sink sinks[2] = {
    {.fd = 1, .name = "stdout", .saved_flags = -1, .peek = {-1, -1}, .peeked_free = -1},
    {.fd = 2, .name = "stderr", .saved_flags = -1, .peek = {-1, -1}, .peeked_free = -1}};

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
 * The pages of a pipe stdout that are surely free, or -1 when that is unknown. A pipe holds
 * pipe_cap / page pages. Two bounds on the pages in use, of which the smaller counts:
 *
 * - Every unit whose bytes may still be there, by the pages it can hold. A write of w bytes
 *   merges its last w % page bytes into the pipe's last page when they fit there and fills whole
 *   pages with the rest, else fills whole pages and puts the rest in one more: it touches at
 *   most ceil(w / page) pages. A splice moves one page reference for each page of the
 *   program's pipe that its bytes lie in, no more than the tee that copied them took; that tee
 *   filled at most our peek pipe (peek_pages), and at most 2m / page + 3 pages (below).
 * - The bytes queued (FIONREAD): a write fills new pages after merging its last part into the
 *   last page only when that part fits there, so any page followed by another holds, with it,
 *   more than a page of data, and Q bytes use at most 2Q / page + 3 pages, the partly read
 *   first one included, plus two part-filled pages per splice still in the pipe, and two for
 *   the write to come: 2Q / page + 5 + 2 splices.
 *
 * The first is close for the large writes and splices that a busy program's lines make; the
 * second for many small writes (each touches a page of its own in the first).
 */
static long pipe_pages_free(struct sink *s)
{
	int queued;
	if (!s->fifo || s->pipe_cap <= 0 || ioctl(s->fd, FIONREAD, &queued) < 0 || queued < 0)
		return -1;
	/* bytes another writer left there make this smaller, never larger: the room stays sure */
	unsigned long long q = (unsigned long long)queued;
	if (q == 0)
		s->foreign = s->shared;
	else if (q > s->seen_q + (s->written - s->seen_written))
		s->foreign = true; /* more came than we put in: someone else writes there too */
	s->seen_q = q;
	s->seen_written = s->written;
	unsigned long long taken = s->written > q ? s->written - q : 0;
	while (s->units > 0 && s->unit[s->unit_first].end <= taken) {
		struct pipe_unit *u = &s->unit[s->unit_first];
		s->unit_pages -= u->pages;
		s->splices -= u->splices;
		s->unit_start = u->end;
		s->unit_first = (s->unit_first + 1) % UNITS_TRACKED;
		s->units--;
	}
	long unit_pages = s->unit_pages;
	if (s->units > 0 && taken > s->unit_start) {
		/* the reader is inside the oldest unit: no page holds more than a page of its
		 * bytes, so the c it took lay in ceil(c / page) pages or more, all of them gone but
		 * the last */
		long gone = (long)((taken - s->unit_start + (unsigned long long)s->page - 1) /
				   (unsigned long long)s->page) -
			    1;
		long pages = s->unit[s->unit_first].pages;
		unit_pages -= gone < pages ? gone : pages - 1;
	}
	long by_bytes = (2L * queued + s->page - 1) / s->page + 5L + 2L * s->splices;
	long used = !s->foreign && unit_pages < by_bytes ? unit_pages : by_bytes;
	long free_pages = (long)s->pipe_cap / s->page - used;
	return free_pages > 0 ? free_pages : 0;
}

/* What a write may put in the pipe without blocking or cutting it, in bytes, or -1. */
static long pipe_room(struct sink *s)
{
	long free_pages = pipe_pages_free(s);
	return free_pages < 0 ? -1 : free_pages * s->page;
}

/* Counts the w bytes just put in the pipe as a unit of at most `pages` pages (-1: a write's,
 * ceil(w / page)). */
static void unit_add(struct sink *s, size_t w, long pages, unsigned splices)
{
	s->written += (unsigned long long)w;
	if (!s->fifo || s->pipe_cap <= 0)
		return;
	if (pages < 0)
		pages = (long)((w + (size_t)s->page - 1) / (size_t)s->page);
	s->unit_pages += pages;
	s->splices += splices;
	if (s->units == UNITS_TRACKED) {
		/* the newest unit grows: it leaves the pipe later, so it is counted longer */
		struct pipe_unit *u = &s->unit[(s->unit_first + s->units - 1) % UNITS_TRACKED];
		u->end = s->written;
		u->pages += pages;
		u->splices += splices;
		return;
	}
	s->unit[(s->unit_first + s->units++) % UNITS_TRACKED] =
	    (struct pipe_unit){.end = s->written, .pages = pages, .splices = splices};
}

/*
 * One write of whole lines. On a pipe, only as many whole lines as the kernel is sure to take
 * whole (pipe_room), so the pipe never holds part of a line that a reader stalled for good would
 * leave cut at our exit. When the room is less than PIPE_BUF, PIPE_BUF: a write that small is
 * atomic, whole or nothing. When it is less than two of those, the next UNASKED_WRITES go at
 * PIPE_BUF without asking it (FIONREAD) first: the answer would change little. A line longer
 * than the room goes in one write.
 */
static ssize_t write_lines(struct sink *s, const char *p, size_t n)
{
	if (s->fifo && n > PIPE_BUF) {
		long r = -1;
		if (s->unasked > 0)
			s->unasked--;
		else if ((r = pipe_room(s)) >= 0 && r < 2 * PIPE_BUF)
			s->unasked = UNASKED_WRITES;
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
		unit_add(s, (size_t)w, -1, 0);
	else
		s->unasked = 0;
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
	struct stat st[ARRAY_SIZE(sinks)];
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		s->loop = loop;
		s->saved_flags = fcntl(s->fd, F_GETFL);
		/* a pipe (docker's, a log shipper's): deeper, so a slow moment of the reader costs
		 * fewer round trips through the loop; failure keeps the default */
		s->fifo = fstat(s->fd, &st[i]) == 0 && S_ISFIFO(st[i].st_mode);
		if (s->fifo) {
			fcntl(s->fd, F_SETPIPE_SZ, 1024 * 1024);
			s->pipe_cap = fcntl(s->fd, F_GETPIPE_SZ);
			s->page = sysconf(_SC_PAGESIZE);
			if (s->page < PIPE_BUF)
				s->pipe_cap = 0; /* unknown: PIPE_BUF writes */
			/* what is there already (start-up lines, an entrypoint's echo) was not
			 * counted in units */
			s->foreign = true;
		}
		if (s->saved_flags >= 0)
			fcntl(s->fd, F_SETFL, s->saved_flags | O_NONBLOCK);
		ev_io_init(&s->io, sink_io_cb, s->fd, EV_WRITE);
		if (s->len > 0) /* start-up lines an inherited non-blocking fd did not take */
			ev_io_start(loop, &s->io);
	}
	bool one = sinks[0].fifo && sinks[1].fifo && st[0].st_dev == st[1].st_dev &&
		   st[0].st_ino == st[1].st_ino;
	sinks[0].shared = sinks[1].shared = one;
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

bool sink_splices(const struct sink *s)
{
	return s->fifo && s->pipe_cap > 0 && s->loop && !s->broken && !s->no_splice;
}

bool sink_can_splice(const struct sink *s)
{
	return sink_splices(s) && s->len == 0;
}

bool sink_draining(const struct sink *s)
{
	return s->len > 0 && s->len <= SINK_LOW;
}

/* The pages a splice of n bytes can put in our pipe: as many as the program's pipe held them
 * in, which the tee that copied them filled our peek pipe with (see pipe_pages_free). */
static long splice_pages(const struct sink *s, size_t n)
{
	long by_bytes = (long)(2 * n / (size_t)s->page) + 3L;
	return s->peek_pages > 0 && s->peek_pages < by_bytes ? s->peek_pages : by_bytes;
}

/* How many bytes one splice may move with free_pages free: any the peek took when the pipe
 * has as many pages free as the peek pipe holds, else as many as 2n / page + 3 pages allow;
 * -1 when unknown. */
static long splice_room(const struct sink *s, long free_pages)
{
	if (free_pages < 0)
		return -1;
	if (s->peek_pages > 0 && free_pages >= s->peek_pages)
		return LONG_MAX;
	return (free_pages - 3L) * s->page / 2;
}

static void peek_pipe_size(struct sink *s)
{
	int sz = fcntl(s->peek[0], F_GETPIPE_SZ);
	s->peek_pages = sz > 0 ? sz / s->page : 0;
}

/* The peek pipe holds no more pages than the pipe has free, a power of two of them from its
 * full size down to PEEK_MIN: a tee into it then takes only pages that the splice of its lines
 * finds free, and splice_room counts them whole instead of halving the bytes. */
static void fit_peek_pipe(struct sink *s, long free_pages)
{
	if (free_pages < 0 || s->peek_full <= 0)
		return;
	long pages = s->peek_full;
	while (pages > free_pages && pages * s->page > PEEK_MIN)
		pages /= 2;
	if (pages == s->peek_pages)
		return;
	int sz = fcntl(s->peek[0], F_SETPIPE_SZ, (int)(pages * s->page));
	if (sz > 0)
		s->peek_pages = sz / s->page;
}

ssize_t sink_peek(struct sink *s, int from, char *buf, size_t n, bool *full)
{
	if (s->peek[0] < 0) {
		if (pipe2(s->peek, O_CLOEXEC | O_NONBLOCK) < 0)
			return -2;
		peek_pipe_size(s);
		s->peek_full = s->peek_pages;
	}
	if (n > LINEBUF_READ && !s->peek_tried) {
		s->peek_tried = true;
		s->peek_deep = pipe_deepen(s->peek[0]) > 0;
		peek_pipe_size(s);
		s->peek_full = s->peek_pages;
	}
	/* a peek costs a copy out of the kernel, and what the splice cannot take is copied out
	 * again and written: so no more than the splice can take (counted with the peek pipe's
	 * size, just set), and when the reader is behind (little room), the write path alone (one
	 * copy out and one in) */
	s->peeked_free = pipe_pages_free(s);
	s->peeked_written = s->written;
	fit_peek_pipe(s, s->peeked_free);
	long room = splice_room(s, s->peeked_free);
	if (room < PEEK_MIN)
		return -2;
	if ((size_t)room < n)
		n = (size_t)room;
	/* no more than the peek pipe holds, so that *full compares with what the tee can take */
	if (s->peek_pages > 0 && (size_t)s->peek_pages * (size_t)s->page < n)
		n = (size_t)s->peek_pages * (size_t)s->page;
	ssize_t t = tee(from, s->peek[1], n, SPLICE_F_NONBLOCK);
	if (t < 0)
		return errno == EAGAIN ? -1 : -2;
	if (t == 0)
		return -2;	   /* the end of the pipe: read(2) says so */
	*full = (size_t)t > n / 2; /* a busy program: its pipe likely holds more */
	ssize_t got = read(s->peek[0], buf, (size_t)t);
	if (got == t)
		return t;
	/* cannot happen (our pipe holds what tee put there); start again clean, by read(2) */
	close(s->peek[0]);
	close(s->peek[1]);
	s->peek[0] = s->peek[1] = -1;
	s->peek_pages = s->peek_full = 0;
	pipe_deep_closed(s->peek_deep ? PIPE_DEEP : 0);
	s->peek_tried = s->peek_deep = false;
	return -2;
}

/* Moves the first n bytes of `from`, which sink_peek copied to p, cut after a line to what
 * the pipe surely has pages for (splice_room). */
size_t sink_splice(struct sink *s, int from, const char *p, size_t n)
{
	long free_pages = s->peeked_free >= 0 && s->peeked_written == s->written
			      ? s->peeked_free
			      : pipe_pages_free(s);
	s->peeked_free = -1;
	long r = splice_room(s, free_pages);
	if (r <= 0)
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
		unit_add(s, (size_t)m, splice_pages(s, (size_t)m), 1);
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
