/* The daemon: the event loop, process groups, reaping, signals, shutdown and reload. */
#ifndef PIDVISOR_SUPERVISOR_H
#define PIDVISOR_SUPERVISOR_H

#include <ev.h>
#include <stdbool.h>

#include "config.h"
#include "eventtypes.h"
#include "process.h"

/* supervisord's "mood" */
enum mood { MOOD_FATAL = 2, MOOD_RUNNING = 1, MOOD_RESTARTING = 0, MOOD_SHUTDOWN = -1 };

#define PID_BUCKETS 1024

/*
 * Who hears of a state change. Every change a process makes, whatever caused it (a spawn, an
 * exit, a timer, a request), goes through process_apply() in transition.c, and each observer
 * then sees the same from -> to, in registration order: the event bus, fail-fast and the
 * programs waiting on dependencies, the requests waiting on a state. pid: the process's pid
 * when it changed (the exited one for an exit).
 */
struct state_observer {
	void (*changed)(void *ctx, struct process *p, enum proc_state from, bool expected,
			pid_t pid);
	void *ctx;
};
#define MAX_STATE_OBSERVERS 4

/*
 * What the event bus (src/daemon/events/) takes from core, set by daemon.c: core calls these
 * and includes nothing of the bus, so calls go one way. Each may be NULL (no bus: the unit
 * tests, or no listener).
 */
struct event_bus;
struct bus_hooks {
	struct event_bus *ctx; /* the bus's own state, given back to each hook; opaque here */
	/* a child of p is gone, before its state changes (a listener's event goes back) */
	void (*child_gone)(struct event_bus *bus, struct process *p);
	/* a chunk of p's output, n bytes at data with room for BUS_HELD_MAX more: PROCESS_LOG_*
	 * events, and capture mode, which takes bytes out and puts back what it held, rewriting the
	 * chunk in place. Returns what the logs get, at data. Called only for a channel in capture
	 * mode, or with events on while some pool subscribes to its PROCESS_LOG_* (wanted). */
	size_t (*output)(struct event_bus *bus, struct process *p, int channel, char *data,
			 size_t n);
/* How many bytes capture mode may hold back and give back with the next chunk (a capture
 * token's length minus one): what output() can return beyond what it was given. */
#define BUS_HELD_MAX 23
	/* an event listener's stdout: its side of the protocol */
	void (*listener_output)(struct event_bus *bus, struct process *p, const char *data,
				size_t n);
	void (*group_changed)(struct event_bus *bus, struct pgroup *g, bool added);
	void (*supervisor_state)(struct event_bus *bus, enum event_type t);
	/* the types some pool subscribes to (the union of their masks), kept by the bus: a chunk
	 * of output goes to it only when this or capture mode asks */
	event_mask wanted;
};

struct supervisor {
	struct ev_loop *loop;
	struct config *cfg;
	struct config *pending; /* a reloaded config, applied once everything has stopped */
	const char *config_path;
	const struct config_overrides *overrides;
	struct pgroup **groups; /* sorted by priority, then name */
	size_t ngroups;
	enum mood mood;
	bool is_pid1;
	time_t start_wall; /* when pidvisor started */
	struct strvec env; /* pidvisor's start-up environment */
	char *server_url;  /* SUPERVISOR_SERVER_URL for children */
	struct process *pids[PID_BUCKETS];
	ev_signal sigs[24];
	size_t nsigs;
	ev_timer shutdown_timer; /* ticks while stopping, for leftovers and progress */
	double leftovers_deadline;
	double last_shutdown_report; /* when "waiting for ... to die" was last said */
	bool leftovers_signalled;
	bool leftovers_killed;
	int exit_status;
	struct state_observer observers[MAX_STATE_OBSERVERS];
	size_t nobservers;
	struct bus_hooks bus;
	void (*on_process_gone)(struct supervisor *sv, struct process *p);
	/* after a reload applied a new config (the control server follows it), if set */
	void (*on_reload)(struct supervisor *sv);
	void *control;		 /* the control server (control.c), if any */
	bool control_observed;	 /* its state observer is registered */
	struct config *latest;	 /* the config last read by reloadConfig, if not cfg */
	int name_width;		 /* the longest process name, for prefixed output */
	struct deps_index *deps; /* deps.c: who depends on whom; NULL until used after a change */
};

/* Sets up everything but does not start programs. Returns 0, or -1 (already logged; free it with
 * supervisor_free). */
int supervisor_init(struct supervisor *sv, struct ev_loop *loop, struct config *cfg);
/* Starts autostart programs and runs until shut down. Returns the exit status. */
int supervisor_run(struct supervisor *sv);
void supervisor_free(struct supervisor *sv);

/* Requests used by signals and the control socket. */
void supervisor_shutdown(struct supervisor *sv);
/* Re-reads the config and applies only what changed: changed and removed groups stop, then
 * changed and added ones start; the others keep running. A config with errors changes
 * nothing: -1, with *why (malloc'd) when why is not NULL. */
int supervisor_reload(struct supervisor *sv, char **why);
struct process *supervisor_find(struct supervisor *sv, const char *group, const char *name);
struct pgroup *supervisor_find_group(struct supervisor *sv, const char *name);
/* start/stop one process; return false when the state does not allow it */
bool supervisor_start_process(struct supervisor *sv, struct process *p);
bool supervisor_stop_process(struct supervisor *sv, struct process *p);

/* Adds an observer of every state change (at start-up; at most MAX_STATE_OBSERVERS). */
void supervisor_observe(struct supervisor *sv,
			void (*changed)(void *ctx, struct process *p, enum proc_state from,
					bool expected, pid_t pid),
			void *ctx);

/* Lets the state machine act now (autostart of a newly added group, for one). */
void supervisor_tick_process(struct supervisor *sv, struct process *p);

/* Groups can be added and removed at run time (update). Adding gives NULL, logged, when memory
 * runs out: nothing is added and PID 1 goes on. */
struct pgroup *supervisor_add_group(struct supervisor *sv, struct group_conf *gc);
void supervisor_remove_group(struct supervisor *sv, struct pgroup *g);

#endif
