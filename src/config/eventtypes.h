/*
 * supervisord's event types: the names an [eventlistener:x] `events` line subscribes to, and
 * their hierarchy (a listener subscribed to PROCESS_STATE gets every PROCESS_STATE_*; to EVENT,
 * every event). The single list, used by the config to check `events` and by the daemon's event
 * bus to match and name what it sends.
 */
#ifndef PIDVISOR_EVENTTYPES_H
#define PIDVISOR_EVENTTYPES_H

#include <stdbool.h>
#include <stdint.h>

enum event_type {
	EV_EVENT,
	EV_PROCESS_STATE,
	EV_PROCESS_STATE_STOPPED,
	EV_PROCESS_STATE_EXITED,
	EV_PROCESS_STATE_STARTING,
	EV_PROCESS_STATE_STOPPING,
	EV_PROCESS_STATE_BACKOFF,
	EV_PROCESS_STATE_FATAL,
	EV_PROCESS_STATE_RUNNING,
	EV_PROCESS_STATE_UNKNOWN,
	EV_PROCESS_COMMUNICATION,
	EV_PROCESS_COMMUNICATION_STDOUT,
	EV_PROCESS_COMMUNICATION_STDERR,
	EV_PROCESS_LOG,
	EV_PROCESS_LOG_STDOUT,
	EV_PROCESS_LOG_STDERR,
	EV_REMOTE_COMMUNICATION,
	EV_SUPERVISOR_STATE_CHANGE,
	EV_SUPERVISOR_STATE_CHANGE_RUNNING,
	EV_SUPERVISOR_STATE_CHANGE_STOPPING,
	EV_TICK,
	EV_TICK_5,
	EV_TICK_60,
	EV_TICK_3600,
	EV_PROCESS_GROUP,
	EV_PROCESS_GROUP_ADDED,
	EV_PROCESS_GROUP_REMOVED,
	EV_NTYPES,
};

/* A set of event types, one bit per enum event_type. */
typedef uint32_t event_mask;

/* "PROCESS_STATE_RUNNING" */
const char *event_type_name(enum event_type t);
/* The type a name (any case) names, or -1. */
int event_type_by_name(const char *name);
/* The type t is a kind of (EV_EVENT for the top ones); EV_EVENT's own is EV_EVENT. */
enum event_type event_type_parent(enum event_type t);
/* Whether a listener subscribed to the types in mask gets an event of type t: t or one of the
 * types it is a kind of is in mask. */
bool event_type_matches(event_mask mask, enum event_type t);

#endif
