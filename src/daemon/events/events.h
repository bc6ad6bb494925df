/*
 * supervisord's event bus: events (process states, output, remote messages, ticks, groups) go to
 * the [eventlistener:x] pools that subscribe to their type, each pool keeps them in a FIFO of
 * buffer_size (the oldest dropped with supervisord's log line), and hands the oldest to one of
 * its listeners that is RUNNING and READY (listener.h). Nothing here blocks: an event goes to a
 * listener's stdin without blocking, one at a time, and a listener that does not read only
 * fills its pool's buffer.
 *
 * Core does not call this room: events_attach() hands core the bus's hooks (struct bus_hooks)
 * and subscribes to state changes, so calls go one way, events -> core.
 */
#ifndef PIDVISOR_EVENTS_H
#define PIDVISOR_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "eventtypes.h"
#include "states.h"

struct supervisor;
struct event_bus;
struct process;
struct pgroup;
struct buf;

/* Before the first group is added: makes sv's bus (sv->bus.ctx, which every call below gets
 * back), sets sv->bus's hooks and observes sv's state changes. events_free() when pidvisor
 * exits, after the groups are gone. */
void events_attach(struct supervisor *sv);
void events_free(struct supervisor *sv);

/* A group was added (a listener pool subscribes), or is about to be removed (a pool
 * unsubscribes): PROCESS_GROUP_ADDED/REMOVED. */
void events_group_added(struct event_bus *bus, struct pgroup *g);
void events_group_removed(struct event_bus *bus, struct pgroup *g);

/* p went from `from` to its current state: PROCESS_STATE_*. pid: its child's, also once
 * reaped; expected: the exit status was in exitcodes. */
void events_process_state(struct event_bus *bus, struct process *p, enum proc_state from,
			  bool expected, pid_t pid);
/* p's child was reaped, before its pipes close: a listener's event in flight is given back. */
void events_child_gone(struct event_bus *bus, struct process *p);

/* A chunk of p's output on channel 1 or 2, n bytes at data, about to be logged: PROCESS_LOG_*
 * events, and capture mode (PROCESS_COMMUNICATION_*), which rewrites the chunk in place (data
 * has room for BUS_HELD_MAX more bytes, in supervisor.h: what it held from the last chunk goes
 * in front). Returns what the logs get, at data. */
size_t events_output(struct event_bus *bus, struct process *p, int channel, char *data, size_t n);
/* Bytes a listener wrote on its stdout: its side of the protocol. */
void events_listener_output(struct event_bus *bus, struct process *p, const char *data, size_t n);

/* SUPERVISOR_STATE_CHANGE_RUNNING / _STOPPING */
void events_supervisor_state(struct event_bus *bus, enum event_type t);
/* sendRemoteCommEvent: REMOTE_COMMUNICATION (nothing when sv has no bus). */
void events_remote(struct supervisor *sv, const char *type, size_t type_len, const char *data,
		   size_t data_len);

/* supervisord's tick(): the TICK_5/60/3600 whose time slice changed from last[] to the one now
 * is in; last[] is updated (-1: not seen yet, nothing is due). Returns how many, their types in
 * types[] and slices in when[]. */
int events_ticks_due(long long last[3], double now, enum event_type types[3], long long when[3]);

/* The payload rules, for the unit tests: the text of data as supervisord puts bytes in a
 * payload (as they are when valid UTF-8, else "Undecodable: b'...'"), and the length the
 * header gives (Python characters). */
bool events_append_text(struct buf *b, const char *data, size_t n);
size_t events_payload_chars(const char *p, size_t n);

#endif
