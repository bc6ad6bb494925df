/*
 * Where a process changes state. Every change goes one way: an event (a tick, a timer, an exit,
 * a request) goes to the pure state machine (fsm.c), the main log says what happened, the
 * machine's actions are carried out (spawn, signal), and every observer hears from -> to
 * (supervisor_observe: the event bus, fail-fast, dependencies, waiting requests).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "child_output.h"
#include "deps.h"
#include "failfast.h"
#include "fcgi.h"
#include "mainlog.h"
#include "ready.h"
#include "schedule.h"
#include "signals.h"
#include "supervisor.h"
#include "supervisor_internal.h"

/* Starts and restarts are off while shutting down, and for a group a reload replaces. */
static bool may_start(const struct process *p)
{
	if (p->sv->mood <= MOOD_RESTARTING || p->group->replaced)
		return false;
	/* depends_on holds back the first start only; restarts are the state machine's */
	return p->fsm.state != PS_STOPPED || p->fsm.ever_started || deps_ready(p, NULL, 0);
}
/* "exit status 1" / "terminated by SIGTERM", and the exit status supervisord records (-1 for a
 * signal). */
int describe_status(int status, char *buf, size_t n)
{
	if (WIFEXITED(status)) {
		snprintf(buf, n, "exit status %d", WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status)) {
		const char *name = signal_name(WTERMSIG(status));
		if (name)
			snprintf(buf, n, "terminated by SIG%s%s", name,
				 WCOREDUMP(status) ? " (core dumped)" : "");
		else
			snprintf(buf, n, "terminated by signal %d", WTERMSIG(status));
		return -1;
	}
	snprintf(buf, n, "unknown status %d", status);
	return -1;
}

static void log_note(struct process *p, const struct fsm_actions *a, const char *status_text)
{
	const char *name = p->conf->name;
	switch (a->note) {
	case NOTE_RUNNING:
		if (p->params.need_ready)
			log_info("success: %s entered RUNNING state, process is ready (ready=%s) "
				 "and has stayed up for > than %lld seconds (startsecs)",
				 name, p->conf->ready.text, (long long)p->params.startsecs);
		else
			log_info("success: %s entered RUNNING state, process has stayed up for > "
				 "than %lld seconds (startsecs)",
				 name, (long long)p->params.startsecs);
		break;
	case NOTE_NOT_READY:
		log_warn("not ready: %s did not say it is ready within %g seconds (ready_timeout): "
			 "stopping it with SIG%s",
			 name, p->params.ready_timeout, signal_name(a->signal));
		break;
	case NOTE_GAVE_UP:
		log_info("gave up: %s entered FATAL state, too many start retries too quickly",
			 name);
		break;
	case NOTE_EXITED_EXPECTED:
		log_info("exited: %s (%s; expected)", name, status_text);
		break;
	case NOTE_EXITED_UNEXPECTED:
	case NOTE_EXITED_TOO_QUICKLY:
		log_warn("exited: %s (%s; not expected)", name, status_text);
		break;
	case NOTE_STOPPED:
		if (a->expected)
			log_info("stopped: %s (%s)", name, status_text);
		else
			log_warn("stopped: %s (%s)", name, status_text);
		break;
	case NOTE_KILLING:
		log_warn("killing '%s' (%d) with SIGKILL", name, (int)p->pid);
		break;
	case NOTE_SPAWN_ERROR:
		log_info("spawnerr: %s", p->fsm.spawnerr);
		break;
	case NOTE_STOPPED_FROM_BACKOFF:
		log_debug("stopped %s while in BACKOFF state", name);
		break;
	case NOTE_STOPPING:
		log_debug("killing %s (pid %d) %swith signal SIG%s", name, (int)p->pid,
			  a->to_group ? "process group " : "", signal_name(a->signal));
		break;
	case NOTE_UNKNOWN:
	case NOTE_SPAWNING:
	case NOTE_NONE:
		break;
	}
}

static void arm_timer(struct process *p)
{
	struct supervisor *sv = p->sv;
	double at = fsm_deadline(&p->fsm, &p->params);
	ev_timer_stop(sv->loop, &p->timer);
	if (at <= 0)
		return;
	/* a hair late so the machine sees the deadline as passed */
	double in = at - ev_now(sv->loop) + 0.001;
	ev_timer_set(&p->timer, in > 0 ? in : 0, 0);
	ev_timer_start(sv->loop, &p->timer);
}

/* Spawns p; false with *err (malloc'd, the machine's next event) when it could not. */
static bool do_spawn(struct process *p, char **err)
{
	struct supervisor *sv = p->sv;

	/* an fcgi-program's socket first, as supervisord's before_spawn() */
	pid_t pid = fcgi_acquire(p, err) < 0 ? -1 : process_spawn(p, err);
	if (pid < 0) {
		fcgi_release(p);
		return false;
	}
	p->pid = pid;
	p->start_wall = time(NULL);
	p->spawns++;
	health_start(p);
	resources_start(p);
	supervisor_pid_add(sv, p);
	log_info("spawned: '%s' with pid %d", p->conf->name, (int)pid);
	/* not a change of state: STARTING holds, and the startsecs clock starts */
	struct fsm_event ev = {.type = FSM_SPAWNED, .now = ev_now(sv->loop)};
	struct fsm_actions a;
	fsm_step(&p->fsm, &p->params, &ev, &a);
	return true;
}

/* Signals p; false when the kill failed (the machine's next event). */
static bool do_signal(struct process *p, const struct fsm_actions *a)
{
	if (p->pid <= 0)
		return true;
	if (kill(a->to_group ? -p->pid : p->pid, a->signal) == 0 || errno == ESRCH)
		return true;
	log_crit("unknown problem killing %s (%d): %s", p->conf->name, (int)p->pid,
		 strerror(errno));
	return false;
}

void supervisor_observe(struct supervisor *sv,
			void (*changed)(void *ctx, struct process *p, enum proc_state from,
					bool expected, pid_t pid),
			void *ctx)
{
	if (sv->nobservers >= MAX_STATE_OBSERVERS)
		abort(); /* a start-up wiring mistake, not a run-time condition */
	sv->observers[sv->nobservers++] = (struct state_observer){changed, ctx};
}

/*
 * The one path of a state change: the machine takes ev, the log says what happened, the
 * actions are carried out, and every observer sees from -> to, in that order, once the
 * actions are done (a dependent on "started" sees the spawn). A spawn or kill that failed is
 * the machine's next event, applied the same way: observers see STOPPED -> STARTING, then
 * STARTING -> BACKOFF, as the event bus does. Returns whether the state or an action moved.
 */
static bool process_apply(struct process *p, const struct fsm_event *ev, const char *status_text,
			  pid_t pid, struct fsm_event *next)
{
	struct supervisor *sv = p->sv;
	enum proc_state from = p->fsm.state;
	struct fsm_actions a;
	bool changed = fsm_step(&p->fsm, &p->params, ev, &a);
	log_note(p, &a, status_text);
	*next = (struct fsm_event){.type = FSM_TICK, .now = ev_now(sv->loop)};
	char *err = NULL;
	if ((a.flags & FSM_DO_SIGNAL) && !do_signal(p, &a))
		next->type = FSM_KILL_FAILED;
	if ((a.flags & FSM_DO_SPAWN) && !do_spawn(p, &err)) {
		next->type = FSM_SPAWN_FAILED;
		next->error = err; /* the caller frees it once applied */
	}
	if (p->fsm.state != from)
		for (size_t i = 0; i < sv->nobservers; i++)
			sv->observers[i].changed(sv->observers[i].ctx, p, from, a.expected,
						 pid > 0 ? pid : p->pid);
	return changed || (a.flags & (FSM_DO_SPAWN | FSM_DO_SIGNAL));
}

/* Applies an event, then lets the machine settle (a spawn error may lead straight to FATAL, an
 * exit straight to a restart). status_text and pid describe the first event (an exit's). */
void process_drive(struct process *p, const struct fsm_event *first, const char *status_text,
		   pid_t pid)
{
	struct fsm_event ev = *first;
	for (int round = 0; round < 16; round++) {
		struct fsm_event next;
		bool moved = process_apply(p, &ev, round == 0 ? status_text : "",
					   round == 0 ? pid : 0, &next);
		bool was_tick = ev.type == FSM_TICK;
		if (ev.type == FSM_SPAWN_FAILED)
			free((char *)ev.error);
		ev = next;
		if (ev.type == FSM_TICK) {
			if (!moved && was_tick)
				break;
			ev.may_start = may_start(p);
		}
	}
	if (ev.type == FSM_SPAWN_FAILED)
		free((char *)ev.error);
	arm_timer(p);
	ready_watch(p);
}

void supervisor_tick_process(struct supervisor *sv, struct process *p)
{
	(void)sv;
	process_tick(p);
}

void process_tick(struct process *p)
{
	struct fsm_event ev = {
	    .type = FSM_TICK, .now = ev_now(p->sv->loop), .may_start = may_start(p)};
	process_drive(p, &ev, "", 0);
}

void process_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct process *p = container_of(t, struct process, timer);
	(void)loop;
	(void)revents;
	process_tick(p);
	supervisor_progress(p->sv);
}

void process_ready(struct process *p, const char *how)
{
	if (p->fsm.state != PS_STARTING || p->fsm.ready || p->fsm.unready_kill)
		return;
	log_info("ready: %s says it is ready (ready=%s)", p->conf->name, how);
	struct fsm_event ev = {
	    .type = FSM_READY, .now = ev_now(p->sv->loop), .may_start = may_start(p)};
	process_drive(p, &ev, "", 0);
}

void process_extend(struct process *p, double secs)
{
	if (!(secs > 0) || p->fsm.state != PS_STARTING)
		return;
	log_info("%s asks for %g more seconds to get ready (EXTEND_TIMEOUT_USEC)", p->conf->name,
		 secs);
	struct fsm_event ev = {.type = FSM_EXTEND, .now = ev_now(p->sv->loop), .extend = secs};
	process_drive(p, &ev, "", 0);
}

void process_exited(struct process *p, int status)
{
	struct supervisor *sv = p->sv;
	char text[64];
	int es = describe_status(status, text, sizeof(text));
	pid_t pid = p->pid;

	supervisor_pid_del(sv, p);
	/* killasgroup: what the program leaves in its process group dies with it (nginx's or
	 * php-fpm's workers would keep the port and fail the restart); supervisord leaves them */
	if (p->conf->killasgroup && kill(-p->pid, SIGKILL) == 0)
		log_info("killed what %s left in its process group", p->conf->name);
	if (sv->bus.child_gone)
		sv->bus.child_gone(sv->bus.ctx, p);
	output_finished(p);
	p->pid = 0;
	p->stop_wall = time(NULL);
	p->exited = true;
	p->wait_status = status;
	health_stop(p);
	resources_stop(p);

	fcgi_release(p);
	struct fsm_event ev = {.type = FSM_EXITED,
			       .now = ev_now(sv->loop),
			       .exitstatus = es,
			       .may_start = may_start(p)};
	bool oom_killed = resources_exited(p);
	process_drive(p, &ev, text, pid);
	schedule_exited(p);
	if (oom_killed)
		failfast_memory_killed_then(p);
}
