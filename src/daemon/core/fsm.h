/*
 * supervisord's process state machine, pure: an event and the current state in, the new state
 * and the actions to take out. No fork, no clock, no I/O: the caller passes the time and carries
 * out the actions (spawn, signal, arm a timer). Unit tests drive it directly.
 */
#ifndef PIDVISOR_FSM_H
#define PIDVISOR_FSM_H

#include <limits.h>
#include <stdbool.h>

#include "config.h"
#include "states.h"

/* What the machine needs from a program's config. */
struct fsm_params {
	bool autostart;
	enum autorestart autorestart;
	struct exitcodes exitcodes;
	double startsecs;
	long long startretries;
	bool retry_forever; /* BACKOFF never gives up (pidvisor's retry_forever) */
	bool exponential;   /* restart_backoff=exponential: 1, 2, 4... s */
	double backoff_max; /* no retry waits longer (0: no cap) */
	int stopsignal;
	double stopwaitsecs;
	bool stopasgroup;
	bool killasgroup;
	bool need_ready;      /* ready=: STARTING until the program says it is ready */
	double ready_timeout; /* not ready this long after a spawn: a failed start (0: never) */
};

/*
 * The shortest time from one start to an automatic restart. supervisord restarts an exited
 * program on the next pass of its loop, and a pass waits for I/O or one second: a program
 * with startsecs=0 that exits at once is restarted one to five times a second there, never in a
 * tight loop. pidvisor's timers are exact, so the pace is a deadline instead: at most five
 * automatic starts a second. startsecs >= 1 never meets it (an early exit is BACKOFF, 1 s or
 * more), and start requests are not delayed.
 */
#define FSM_RESTART_INTERVAL 0.2

/* How long BACKOFF waits before retry number `retry` (1, 2, ...). */
double fsm_backoff_delay(const struct fsm_params *p, int retry);
void fsm_params_from_conf(struct fsm_params *fp, const struct proc_conf *pc);

struct fsm {
	enum proc_state state;
	bool alive;	   /* a child process exists (spawned, not yet reaped) */
	bool ever_started; /* supervisord's laststart != 0: autostart only applies before */
	bool killing;	   /* a stop signal was sent */
	int backoff;
	double delay; /* BACKOFF: retry after; STOPPING: SIGKILL at; EXITED: restart after */
	double laststart;
	double laststop;
	int exitstatus; /* -1: killed by a signal */
	/* Why it is in BACKOFF or FATAL, supervisord's whole message ("" when none): a constant,
	 * or the fsm's own copy on the heap (spawnerr_owned), at most FSM_SPAWNERR_MAX bytes. */
	const char *spawnerr;
	bool spawnerr_owned;
	bool ready;	       /* need_ready: it said so since its last spawn */
	bool unready_kill;     /* ready_timeout passed: stopping it, then BACKOFF */
	double ready_deadline; /* need_ready: the ready_timeout (EXTEND_TIMEOUT_USEC moves it) */
};

/* The longest spawn error kept: a PATH_MAX path ("command at '...' is not executable") and
 * its text. Only a program that failed holds one, for as long as it keeps failing. */
#define FSM_SPAWNERR_MAX (PATH_MAX + 256)

/* A program's machine before its first event: STOPPED, no spawn error. */
void fsm_init(struct fsm *f);
/* Frees the spawn error's text. */
void fsm_free(struct fsm *f);

enum fsm_event_type {
	FSM_TICK,	  /* time passed / loop pass: autostart, autorestart, retries, timeouts */
	FSM_START,	  /* start request (RPC or command) */
	FSM_STOP,	  /* stop request */
	FSM_SPAWNED,	  /* the caller's spawn succeeded */
	FSM_SPAWN_FAILED, /* the caller's spawn failed; text in event.error */
	FSM_EXITED,	  /* the child was reaped; event.exitstatus (-1 = signal) */
	FSM_GIVE_UP,	  /* supervisor is stopping everything: BACKOFF -> FATAL */
	FSM_KILL_FAILED,  /* kill() failed with an unexpected error -> UNKNOWN */
	FSM_READY,	  /* the program says it is ready (ready=) */
	FSM_EXTEND,	  /* not ready yet: wait event.extend more seconds from now */
};

struct fsm_event {
	enum fsm_event_type type;
	double now;
	bool may_start;	   /* supervisor mood allows (re)starts (not shutting down or restarting) */
	int exitstatus;	   /* FSM_EXITED */
	const char *error; /* FSM_SPAWN_FAILED */
	double extend;	   /* FSM_EXTEND */
};

enum fsm_action_flags {
	FSM_DO_SPAWN = 1 << 0,	/* fork and exec; then report FSM_SPAWNED or FSM_SPAWN_FAILED */
	FSM_DO_SIGNAL = 1 << 1, /* send signal (to the process group if to_group) */
};

/* Why a transition happened, for the log line the caller writes. */
enum fsm_note {
	NOTE_NONE,
	NOTE_SPAWNING,
	NOTE_RUNNING,		/* success: entered RUNNING after startsecs */
	NOTE_GAVE_UP,		/* entered FATAL, too many retries */
	NOTE_EXITED_EXPECTED,	/* exited: (exit status N; expected) */
	NOTE_EXITED_UNEXPECTED, /* exited: ...; not expected */
	NOTE_EXITED_TOO_QUICKLY,
	NOTE_STOPPED,  /* stopped: x (exit status N) after a stop request */
	NOTE_KILLING,  /* stopwaitsecs passed: SIGKILL */
	NOTE_STOPPING, /* the stop signal was sent */
	NOTE_STOPPED_FROM_BACKOFF,
	NOTE_SPAWN_ERROR,
	NOTE_UNKNOWN,
	NOTE_NOT_READY, /* ready_timeout passed: the stop signal was sent */
};

struct fsm_actions {
	unsigned flags;
	int signal;
	bool to_group;
	enum fsm_note note;
	bool expected; /* NOTE_STOPPED / NOTE_EXITED_*: the exit status was in exitcodes */
};

/* Applies one event. Returns true if the state changed. */
bool fsm_step(struct fsm *f, const struct fsm_params *p, const struct fsm_event *ev,
	      struct fsm_actions *out);

/* When the next FSM_TICK can change something; 0 if no timer is needed. */
double fsm_deadline(const struct fsm *f, const struct fsm_params *p);

#endif
