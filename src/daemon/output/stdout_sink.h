/*
 * pidvisor's own stdout and stderr, shared by every program that logs there and by the main log.
 * Writes are queued whole (a line, or a run of whole lines) in a bounded buffer and written when
 * the fd is writable, so lines from different programs never interleave, a slow reader pushes
 * back on the programs instead of growing memory, and nothing here ever blocks the loop.
 */
#ifndef PIDVISOR_STDOUT_SINK_H
#define PIDVISOR_STDOUT_SINK_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Programs wait for room once this much is queued, and are woken below half of it. */
#define SINK_CAP (1024 * 1024)
/* At exit, output queued for a reader that does not take it is dropped after this long. */
#define SINK_EXIT_GRACE 2.0

struct sink;

struct sink_waiter {
	void (*cb)(struct sink_waiter *w);
	struct sink_waiter *next;
	bool queued;
};

struct sink *sink_stdout(void);
struct sink *sink_stderr(void);

/* Switches both sinks to non-blocking, event-driven writing on loop. */
void sink_attach(struct ev_loop *loop);
/* After the loop ends: gives what is queued SINK_EXIT_GRACE seconds to go out, drops the rest
 * with one line on stderr saying how much, and leaves the sinks dropping from then on. */
void sink_detach(void);

bool sink_is_tty(const struct sink *s);
/* Room for n more bytes without passing SINK_CAP (an empty queue always has room). */
bool sink_has_room(const struct sink *s, size_t n);
/* Queues whole lines as one unit, never blocking. Programs' output checks sink_has_room()
 * first; main-log lines are dropped only past a hard limit (a reader stuck for good). */
void sink_write_line(struct sink *s, const char *buf, size_t n);
/*
 * Moving a program's lines without copying them out of and back into the kernel, when the sink
 * is a pipe (sink_splices) with nothing queued (sink_can_splice; sink_draining: something is,
 * SINK_LOW or less, so that the next wake-up of waiters finds it written or nearly).
 * sink_peek copies what is at the front of the pipe `from`, up to n bytes, into buf without
 * taking it from the pipe (tee(2) into a pipe of the sink's, then a read): the bytes, -1 when
 * there are none yet, -2 when it cannot (read(2) instead); *full tells that it took more than
 * half of what it could, so that the pipe likely holds more after it. sink_splice then moves
 * the first bytes of `from`, which are p[0..n) and end with a newline, to the sink: only as
 * many whole lines as the pipe surely has room for, so the kernel takes them whole. Returns how
 * many it moved (0: none, write them instead); when that ends inside a line, the caller writes
 * the rest of it next, before anything else can.
 */
bool sink_splices(const struct sink *s);
bool sink_can_splice(const struct sink *s);
bool sink_draining(const struct sink *s);
ssize_t sink_peek(struct sink *s, int from, char *buf, size_t n, bool *full);
size_t sink_splice(struct sink *s, int from, const char *p, size_t n);
/* Calls w->cb once when the sink has room again. */
void sink_wait(struct sink *s, struct sink_waiter *w);
void sink_cancel(struct sink *s, struct sink_waiter *w);

#endif
