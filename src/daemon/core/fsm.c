#include "fsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fsm_init(struct fsm *f)
{
	memset(f, 0, sizeof(*f));
	f->state = PS_STOPPED;
	f->spawnerr = "";
}

void fsm_free(struct fsm *f)
{
	if (f->spawnerr_owned)
		free((char *)f->spawnerr);
	f->spawnerr = "";
	f->spawnerr_owned = false;
}

/* The whole message up to FSM_SPAWNERR_MAX, on the heap; without memory, a constant says so.
 * The old text is freed last: an argument may point into it. */
__attribute__((format(printf, 2, 3))) static void set_spawnerr(struct fsm *f, const char *fmt, ...)
{
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	size_t size = n < 0 ? 1 : (size_t)n < FSM_SPAWNERR_MAX ? (size_t)n + 1 : FSM_SPAWNERR_MAX;
	char *s = malloc(size);
	if (s && vsnprintf(s, size, fmt, again) < 0)
		s[0] = '\0';
	va_end(again);
	fsm_free(f);
	f->spawnerr = s ? s : "spawn error (no memory for its text)";
	f->spawnerr_owned = s != NULL;
}

void fsm_params_from_conf(struct fsm_params *fp, const struct proc_conf *pc)
{
	fp->autostart = pc->autostart;
	fp->autorestart = pc->autorestart;
	fp->exitcodes = pc->exitcodes;
	fp->startsecs = (double)pc->startsecs;
	fp->startretries = pc->startretries;
	fp->exponential = pc->restart_backoff == BACKOFF_EXPONENTIAL;
	fp->backoff_max = pc->restart_backoff_max;
	fp->retry_forever = pc->retry_forever;
	fp->stopsignal = pc->stopsignal;
	fp->stopwaitsecs = (double)pc->stopwaitsecs;
	fp->stopasgroup = pc->stopasgroup;
	fp->killasgroup = pc->killasgroup;
	fp->need_ready = pc->ready.kind != READY_NONE;
	fp->ready_timeout = pc->ready_timeout;
}

/* supervisord's change_state(): entering BACKOFF counts a retry and sets its delay. */
static bool change_state(struct fsm *f, const struct fsm_params *p, enum proc_state to, double now)
{
	if (f->state == to)
		return false;
	f->state = to;
	if (to == PS_BACKOFF) {
		f->backoff++;
		f->delay = now + fsm_backoff_delay(p, f->backoff);
	}
	return true;
}

double fsm_backoff_delay(const struct fsm_params *p, int retry)
{
	/* supervisord's 1, 2, 3 s, exactly; or 1, 2, 4, 8 s. backoff_max caps the doubling, and
	 * the linear wait only when it never gives up (retry_forever) */
	double d = retry;
	if (p->exponential) {
		d = 1;
		for (int i = 1; i < retry && d < p->backoff_max; i++)
			d *= 2;
	}
	bool capped = p->exponential || p->retry_forever;
	return capped && p->backoff_max > 0 && d > p->backoff_max ? p->backoff_max : d;
}

static bool begin_spawn(struct fsm *f, double now, struct fsm_actions *out)
{
	f->laststart = now;
	f->ever_started = true;
	out->flags |= FSM_DO_SPAWN;
	out->note = NOTE_SPAWNING;
	return change_state(f, NULL, PS_STARTING, now);
}

static bool send_stop(struct fsm *f, const struct fsm_params *p, int sig, double now,
		      struct fsm_actions *out)
{
	/* in STOPPING the signal is the final SIGKILL, aimed by killasgroup */
	out->to_group = f->state == PS_STOPPING ? p->killasgroup : p->stopasgroup;
	out->flags |= FSM_DO_SIGNAL;
	out->signal = sig;
	f->killing = true;
	f->delay = now + p->stopwaitsecs;
	return change_state(f, p, PS_STOPPING, now);
}

/* STARTING and not ready: at ready_timeout the stop signal, stopwaitsecs later SIGKILL, then
 * the exit is a failed start (exited()). The state stays STARTING, as for an early exit. */
static bool unready_tick(struct fsm *f, const struct fsm_params *p, double now,
			 struct fsm_actions *out)
{
	if (!f->unready_kill) {
		if (p->ready_timeout <= 0 || now < f->ready_deadline)
			return false;
		f->unready_kill = true;
		out->note = NOTE_NOT_READY;
		out->signal = p->stopsignal;
		out->to_group = p->stopasgroup;
	} else {
		if (now < f->delay)
			return false;
		out->note = NOTE_KILLING;
		out->signal = 9 /* SIGKILL */;
		out->to_group = p->killasgroup;
	}
	out->flags |= FSM_DO_SIGNAL;
	f->delay = now + p->stopwaitsecs;
	return false;
}

static bool tick(struct fsm *f, const struct fsm_params *p, const struct fsm_event *ev,
		 struct fsm_actions *out)
{
	double now = ev->now;
	bool changed = false;

	if (f->state == PS_EXITED && f->delay > 0 && now >= f->delay)
		f->delay = 0;
	if (ev->may_start) {
		if (f->state == PS_EXITED && f->delay == 0) {
			bool restart = p->autorestart == AUTORESTART_TRUE ||
				       (p->autorestart == AUTORESTART_UNEXPECTED &&
					!exitcodes_has(&p->exitcodes, f->exitstatus));
			if (restart)
				return begin_spawn(f, now, out);
		} else if (f->state == PS_STOPPED && !f->ever_started) {
			if (p->autostart)
				return begin_spawn(f, now, out);
		} else if (f->state == PS_BACKOFF) {
			if ((f->backoff <= p->startretries || p->retry_forever) && now >= f->delay)
				return begin_spawn(f, now, out);
		}
	}
	if (f->state == PS_STARTING && f->alive) {
		if (p->need_ready && (!f->ready || f->unready_kill))
			return unready_tick(f, p, now, out);
		if (now - f->laststart >= p->startsecs) {
			f->delay = 0;
			f->backoff = 0;
			out->note = NOTE_RUNNING;
			changed = change_state(f, p, PS_RUNNING, now);
		}
	} else if (f->state == PS_BACKOFF && f->backoff > p->startretries && !p->retry_forever) {
		f->delay = 0;
		f->backoff = 0;
		out->note = NOTE_GAVE_UP;
		changed = change_state(f, p, PS_FATAL, now);
	} else if (f->state == PS_STOPPING && f->alive && now >= f->delay) {
		out->note = NOTE_KILLING;
		send_stop(f, p, 9 /* SIGKILL */, now, out);
	}
	return changed;
}

static bool exited(struct fsm *f, const struct fsm_params *p, const struct fsm_event *ev,
		   struct fsm_actions *out)
{
	double now = ev->now;
	bool too_quickly = now > f->laststart && now - f->laststart < p->startsecs;
	bool expected = exitcodes_has(&p->exitcodes, ev->exitstatus);
	bool changed;

	f->alive = false;
	f->laststop = now;
	out->expected = expected;
	if (f->killing) {
		f->killing = false;
		f->delay = 0;
		f->exitstatus = ev->exitstatus;
		out->note = NOTE_STOPPED;
		return change_state(f, p, PS_STOPPED, now);
	}
	bool unready = p->need_ready && (!f->ready || f->unready_kill);
	if ((too_quickly || unready) && f->state == PS_STARTING) {
		f->exitstatus = 0;
		if (f->unready_kill)
			set_spawnerr(f, "not ready within %g seconds (ready_timeout)",
				     p->ready_timeout);
		else if (unready)
			set_spawnerr(f,
				     "Exited before it was ready (process log may have details)");
		else
			set_spawnerr(f, "Exited too quickly (process log may have details)");
		out->note = NOTE_EXITED_TOO_QUICKLY;
		return change_state(f, p, PS_BACKOFF, now);
	}
	f->backoff = 0;
	f->exitstatus = ev->exitstatus;
	/* a restart waits until FSM_RESTART_INTERVAL after this start (crash loops); never longer,
	 * should the clock have gone back since the start */
	double wait = f->laststart + FSM_RESTART_INTERVAL - now;
	f->delay =
	    wait <= 0 ? 0 : now + (wait < FSM_RESTART_INTERVAL ? wait : FSM_RESTART_INTERVAL);
	changed = change_state(f, p, PS_RUNNING, now);
	if (expected) {
		out->note = NOTE_EXITED_EXPECTED;
	} else {
		set_spawnerr(f, "Bad exit code %d", ev->exitstatus);
		out->note = NOTE_EXITED_UNEXPECTED;
	}
	return change_state(f, p, PS_EXITED, now) || changed;
}

bool fsm_step(struct fsm *f, const struct fsm_params *p, const struct fsm_event *ev,
	      struct fsm_actions *out)
{
	memset(out, 0, sizeof(*out));
	switch (ev->type) {
	case FSM_TICK:
		return tick(f, p, ev, out);
	case FSM_START:
		/* the caller refuses a start in the running set (ALREADY_STARTED) */
		if (proc_state_running(f->state) || f->state == PS_STOPPING || f->alive)
			return false;
		return begin_spawn(f, ev->now, out);
	case FSM_SPAWNED:
		f->alive = true;
		fsm_free(f);
		f->delay = ev->now + p->startsecs;
		f->ready = false;
		f->unready_kill = false;
		f->ready_deadline = ev->now + p->ready_timeout;
		return false;
	case FSM_READY:
		if (f->state != PS_STARTING || !f->alive || f->ready || f->unready_kill)
			return false;
		f->ready = true;
		return tick(f, p, ev, out);
	case FSM_EXTEND:
		if (f->state == PS_STARTING && !f->ready && !f->unready_kill &&
		    ev->now + ev->extend > f->ready_deadline)
			f->ready_deadline = ev->now + ev->extend;
		return false;
	case FSM_SPAWN_FAILED:
		set_spawnerr(f, "%s", ev->error ? ev->error : "");
		out->note = NOTE_SPAWN_ERROR;
		return change_state(f, p, PS_BACKOFF, ev->now);
	case FSM_STOP:
		if (!f->alive) {
			if (f->state == PS_BACKOFF) {
				out->note = NOTE_STOPPED_FROM_BACKOFF;
				return change_state(f, p, PS_STOPPED, ev->now);
			}
			return false;
		}
		if (!proc_state_signallable(f->state))
			return false;
		out->note = NOTE_STOPPING;
		return send_stop(f, p, p->stopsignal, ev->now, out);
	case FSM_EXITED:
		return exited(f, p, ev, out);
	case FSM_GIVE_UP:
		if (f->state != PS_BACKOFF)
			return false;
		f->delay = 0;
		f->backoff = 0;
		out->note = NOTE_GAVE_UP;
		return change_state(f, p, PS_FATAL, ev->now);
	case FSM_KILL_FAILED:
		f->killing = false;
		f->delay = 0;
		out->note = NOTE_UNKNOWN;
		return change_state(f, p, PS_UNKNOWN, ev->now);
	}
	return false;
}

double fsm_deadline(const struct fsm *f, const struct fsm_params *p)
{
	switch (f->state) {
	case PS_STARTING:
		if (!f->alive)
			return 0;
		if (p->need_ready && f->unready_kill)
			return f->delay;
		if (p->need_ready && !f->ready)
			return p->ready_timeout > 0 ? f->ready_deadline : 0;
		return f->laststart + p->startsecs;
	case PS_BACKOFF:
		return f->backoff <= p->startretries || p->retry_forever ? f->delay : 0;
	case PS_STOPPING:
		return f->alive ? f->delay : 0;
	case PS_EXITED:
		return f->delay;
	default:
		return 0;
	}
}
