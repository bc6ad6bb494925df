#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SINK_CAP      (1024 * 1024)	 /* producers wait for room past this */
#define SINK_LOW      (SINK_CAP / 2)	 /* and are woken below this */
#define SINK_HARD_MAX (64 * 1024 * 1024) /* main-log lines are dropped past this */

struct sink {
	int fd;
	char *buf;
	size_t head, len, cap; /* queued bytes are buf[head .. head+len) */
	size_t dropped;
	struct ev_loop *loop;
	ev_io io;
	int saved_flags;
	bool broken; /* the reader went away: drop output instead of blocking forever */
	struct sink_waiter *waiters;
};

static struct sink sinks[2] = {{.fd = 1, .saved_flags = -1}, {.fd = 2, .saved_flags = -1}};

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

/* Writes what it can without blocking; returns -1 when the fd would block. */
static int drain(struct sink *s)
{
	while (s->len > 0) {
		ssize_t w = write(s->fd, s->buf + s->head, s->len);
		if (w > 0) {
			s->head += (size_t)w;
			s->len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1;
		s->broken = true; /* EPIPE, EBADF...: nobody reads; don't stall PID 1 */
		s->len = 0;
		break;
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
		if (fstat(s->fd, &st) == 0 && S_ISFIFO(st.st_mode))
			fcntl(s->fd, F_SETPIPE_SZ, 1024 * 1024);
		if (s->saved_flags >= 0)
			fcntl(s->fd, F_SETFL, s->saved_flags | O_NONBLOCK);
		ev_io_init(&s->io, sink_io_cb, s->fd, EV_WRITE);
	}
}

void sink_flush(struct sink *s)
{
	while (s->len > 0 && !s->broken) {
		if (drain(s) == 0)
			break;
		struct pollfd p = {.fd = s->fd, .events = POLLOUT};
		poll(&p, 1, 1000);
	}
	s->head = 0;
}

void sink_detach(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
		struct sink *s = &sinks[i];
		if (s->loop)
			ev_io_stop(s->loop, &s->io);
		sink_flush(s);
		if (s->saved_flags >= 0)
			fcntl(s->fd, F_SETFL, s->saved_flags);
		s->loop = NULL;
		s->saved_flags = -1;
	}
}

/* Appends to the queue, growing it: programs' output checks sink_has_room() before reading,
 * so the queue passes SINK_CAP by at most one read per program plus main-log lines. */
static void enqueue(struct sink *s, const char *buf, size_t n)
{
	if (s->len + n > SINK_HARD_MAX) {
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
		s->buf = xrealloc(s->buf, cap);
		s->cap = cap;
	}
	memcpy(s->buf + s->head + s->len, buf, n);
	s->len += n;
	ev_io_start(s->loop, &s->io);
}

void sink_write_line(struct sink *s, const char *buf, size_t n)
{
	if (s->broken || n == 0)
		return;
	if (!s->loop) {
		/* not event-driven (start-up, shutdown, the client): plain writes */
		while (n > 0) {
			ssize_t w = write(s->fd, buf, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				struct pollfd p = {.fd = s->fd, .events = POLLOUT};
				poll(&p, 1, 1000);
				continue;
			}
			if (w <= 0)
				return;
			buf += w;
			n -= (size_t)w;
		}
		return;
	}
	if (s->len == 0) {
		/* fast path: nothing queued, write straight through */
		ssize_t w;
		do
			w = write(s->fd, buf, n);
		while (w < 0 && errno == EINTR);
		if (w == (ssize_t)n)
			return;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			s->broken = true;
			return;
		}
		if (w > 0) {
			buf += w;
			n -= (size_t)w;
		}
	}
	enqueue(s, buf, n);
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
