/*
 * pidvisor's own stdout and stderr, shared by every program that logs there and by the main log.
 * Writes are queued whole (a line, or a run of whole lines) in a bounded buffer and flushed when
 * the fd is writable, so lines from different programs never interleave and a slow reader
 * pushes back on the programs instead of growing memory.
 */
#ifndef PIDVISOR_SINK_H
#define PIDVISOR_SINK_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

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
/* Back to plain blocking writes (after the loop ends); flushes what is queued. */
void sink_detach(void);

bool sink_is_tty(const struct sink *s);
/* Room for n more bytes without passing the high-water mark. */
bool sink_has_room(const struct sink *s, size_t n);
/* Queues whole lines as one unit, never blocking the loop. Programs' output checks
 * sink_has_room() first; main-log lines are dropped only past a hard limit (a reader stuck
 * for good). */
void sink_write_line(struct sink *s, const char *buf, size_t n);
/* Calls w->cb once when the sink has room again. */
void sink_wait(struct sink *s, struct sink_waiter *w);
void sink_cancel(struct sink *s, struct sink_waiter *w);
/* Writes everything queued, blocking. */
void sink_flush(struct sink *s);

#endif
