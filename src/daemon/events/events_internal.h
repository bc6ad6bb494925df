/* What the event bus's files share: the event, a pool's FIFO, a process's part of the bus, and
 * the calls between the bus (events.c), capture mode and PROCESS_LOG_* (capture.c). */
#ifndef PIDVISOR_EVENTS_INTERNAL_H
#define PIDVISOR_EVENTS_INTERNAL_H

#include <ev.h>

#include "buf.h"
#include "events.h"
#include "listener.h"
#include "supervisor.h"

/* A result kept for the supervisor_stdout handler (an event's payload: one read of output) */
#define RESULT_KEEP_MAX (256 * 1024)

struct event {
	int refs;
	enum event_type type;
	long long serial; /* -1 until a pool takes it */
	size_t len;	  /* payload bytes */
	char payload[];
};

struct qent {
	struct qent *next;
	struct event *ev;
	long long pool_serial;
};

struct pool {
	struct pool *next;
	struct event_bus *bus;
	struct pgroup *group;
	event_mask mask;
	long long serial;
	long long cap; /* buffer_size */
	struct qent *head, *tail;
	size_t n;
};

/* capture mode on one channel (supervisord's POutputDispatcher capturelog) */
struct capture {
	bool on;
	char held[BUS_HELD_MAX]; /* the end of the last chunk, which may begin a token */
	size_t nheld;
	struct buf data; /* what was captured so far */
};

struct proc_events {
	struct event_bus *bus;
	struct process *proc;
	struct capture cap[2];
	/* an [eventlistener:x] */
	struct pool *pool;
	struct listener_proto proto;
	struct qent *cur; /* the event it is busy with */
	bool gone;	  /* its child was reaped with cur still set */
	ev_io wio;	  /* its stdin, while an envelope is partly written */
	struct buf out;
	size_t off;
	struct buf result; /* result_handler=supervisor_stdout:event_handler: the result's text */
};

/* The bus of one supervisor (sv->bus.ctx): its pools in the order they subscribed, the serial
 * of the last event, the ticks and the payload being made. */
struct event_bus {
	struct supervisor *sv;
	struct pool *pools;
	long long serial; /* -1 before the first event a pool takes */
	ev_periodic tick_w;
	long long tick_last[3];
	struct buf payload; /* reset by events_notify_payload */
};

/* Whether any pool subscribes to t (or a parent of it); false with no bus. */
bool events_wanted(const struct event_bus *bus, enum event_type t);
/* Makes the event from the payload built in bus->payload (which is reset), and sends it. */
void events_notify_payload(struct event_bus *bus, enum event_type t);

/* capture.c: leaves capture mode and drops what a channel held or captured */
void capture_clear(struct capture *c);

#endif
