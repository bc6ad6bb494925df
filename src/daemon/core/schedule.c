#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "diag.h"
#include "mainlog.h"
#include "process.h"
#include "supervisor.h"
#include "util.h"

/* A uniform 0..max seconds (schedule_jitter) */
static double jitter(double max)
{
	uint64_t r;
	if (max <= 0)
		return 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)(ev_time() * 1e9) * 0x9e3779b97f4a7c15ULL;
	return max * (double)(r >> 11) / 9007199254740992.0; /* 53 bits: [0, 1) */
}

/* Arms the timer for the first due time after `after` in the program's zone, plus its jitter.
 * An absolute ev_periodic: it fires when the wall clock reaches the time, so a time the clock
 * jumped over, or that passed while pidvisor was stopped, fires at once and due() sees how
 * late it is. */
static void plan(struct process *p, struct schedule *s, time_t after)
{
	const struct proc_conf *c = p->conf;
	time_t t = schedule_next(&c->schedule, after, c->schedule_timezone);
	/* never due (30 February): far enough never to fire */
	s->base = t < 0 ? (double)after + 1e9 : (double)t;
	s->at = s->base + jitter(c->schedule_jitter);
	ev_periodic_set(&s->timer, s->at, 0, NULL);
	ev_periodic_start(p->sv->loop, &s->timer);
	if (t < 0)
		return;
	char at[32], base[32];
	const char *fmt = "%Y-%m-%d %H:%M:%S";
	schedule_format((time_t)s->at, c->schedule_timezone, fmt, at, sizeof(at));
	schedule_format(t, c->schedule_timezone, fmt, base, sizeof(base));
	if (c->schedule_jitter > 0)
		log_debug("%s: next run %s.%03d: due %s, plus %.3f s of schedule_jitter", c->name,
			  at, (int)((s->at - (double)(time_t)s->at) * 1000), base, s->at - s->base);
	else
		log_debug("%s: next run %s", c->name, at);
}

static bool still_going(const struct process *p)
{
	return p->pid > 0 || proc_state_running(p->fsm.state) || p->fsm.state == PS_STOPPING;
}

static void start_run(struct process *p)
{
	/* a group a reload is replacing starts nothing */
	if (!p->group->replaced && supervisor_start_process(p->sv, p))
		p->sched->runs++;
}

/* The timer woke late by more than a quarter of the time to the following run (1 s to 1 min):
 * pidvisor was stopped (SIGSTOP, a suspended VM) or the wall clock jumped forward, where a busy
 * machine's lag is less. True when that run is skipped. */
static bool missed(struct process *p, struct schedule *s, double now, double period)
{
	double late = now - s->at, grace = period / 4;
	grace = grace < SCHEDULE_LATE_MIN   ? SCHEDULE_LATE_MIN
		: grace > SCHEDULE_LATE_MAX ? SCHEDULE_LATE_MAX
					    : grace;
	if (late <= grace)
		return false;
	char when[64];
	bool skip = p->conf->schedule_missed == MISSED_SKIP;
	schedule_format((time_t)s->at, p->conf->schedule_timezone, "%Y-%m-%d %H:%M:%S %Z", when,
			sizeof(when));
	log_warn("%s: scheduled run due %s missed by %.0f s (pidvisor was stopped or the clock "
		 "jumped): %s (schedule_missed=%s)",
		 p->conf->name, when, late, skip ? "skipped" : "running it once now",
		 skip ? "skip" : "run_once");
	s->missed++;
	return skip;
}

static void due(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct process *p = w->data;
	struct schedule *s = container_of(w, struct schedule, timer);
	double now = ev_now(loop);
	(void)revents;
	time_t was = (time_t)s->base;
	time_t following = schedule_next(&p->conf->schedule, was, p->conf->schedule_timezone);
	bool skip = missed(p, s, now, following < 0 ? 1e9 : (double)(following - was));
	/* @every counts from the due time, not the (jittered) wake-up; due times that passed are
	 * not made up for */
	plan(p, s, following >= 0 && following <= (time_t)now ? (time_t)now : was);
	if (skip)
		return;
	if (!still_going(p)) {
		start_run(p);
		return;
	}
	enum sched_overlap o = p->conf->schedule_overlap;
	if (o == OVERLAP_SKIP || s->queued) {
		s->skipped++;
		log_warn("%s: scheduled run skipped: the previous run is still going "
			 "(schedule_overlap=%s)",
			 p->conf->name,
			 o == OVERLAP_SKIP ? "skip" : "queue, one run queued already");
		return;
	}
	s->queued = true;
	if (o == OVERLAP_QUEUE) {
		log_info("%s: scheduled run queued: the previous run is still going",
			 p->conf->name);
	} else {
		log_warn("%s: stopping the previous run: the next is due (schedule_overlap=kill)",
			 p->conf->name);
		supervisor_stop_process(p->sv, p);
	}
}

void schedule_exited(struct process *p)
{
	if (p->sched && p->sched->queued && !still_going(p)) {
		p->sched->queued = false;
		start_run(p);
	}
}

int schedule_attach(struct process *p)
{
	if (!p->conf->schedule.set)
		return 0;
	/* a one-shot: started by its timer only (and at start-up with schedule_run_on_start, in
	 * priority and depends_on order as autostart is), and an exit is the end of a run,
	 * whatever autostart, autorestart and startsecs say */
	p->params.autostart = p->conf->schedule_run_on_start;
	p->params.autorestart = AUTORESTART_FALSE;
	p->params.startsecs = 0;
	p->sched = calloc(1, sizeof(*p->sched));
	if (!p->sched)
		return -1;
	ev_periodic_init(&p->sched->timer, due, 0, 0, NULL);
	p->sched->timer.data = p;
	p->sched->runs = p->conf->schedule_run_on_start; /* a run asked for, as start_run counts */
	plan(p, p->sched, (time_t)ev_now(p->sv->loop));
	return 0;
}

void schedule_detach(struct process *p)
{
	if (!p->sched)
		return;
	ev_periodic_stop(p->sv->loop, &p->sched->timer);
	free(p->sched);
	p->sched = NULL;
}

double schedule_next_run(const struct process *p)
{
	return p->sched ? p->sched->at : 0;
}

void schedule_describe(const struct process *p, char *buf, size_t n)
{
	if (!p->sched)
		return;
	size_t len = strlen(buf);
	if (len >= n)
		return;
	char when[64] = "";
	/* in the program's own zone, named when it has one */
	schedule_format((time_t)schedule_next_run(p), p->conf->schedule_timezone,
			p->conf->schedule_timezone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S",
			when, sizeof(when));
	char last[48] = "";
	if (p->exited && p->fsm.state != PS_RUNNING) {
		int st = p->wait_status;
		if (WIFSIGNALED(st))
			snprintf(last, sizeof(last), "last run killed by signal %d; ",
				 WTERMSIG(st));
		else
			snprintf(last, sizeof(last), "last run exit %d; ", WEXITSTATUS(st));
	}
	snprintf(buf + len, n - len, "%s%snext run %s", len ? "; " : "", last, when);
}

void schedule_check(const struct config *cfg, struct diag *d)
{
	time_t now = time(NULL);
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t i = 0; i < cfg->groups[g]->nprocs; i++) {
			const struct proc_conf *c = cfg->groups[g]->procs[i];
			if (!c->schedule.set)
				continue;
			char runs[3][32] = {"never", "never", "never"};
			time_t t = now;
			const char *zone = c->schedule_timezone;
			for (int r = 0; r < 3 && (t = schedule_next(&c->schedule, t, zone)) >= 0;
			     r++)
				schedule_format(t, zone, "%Y-%m-%d %H:%M:%S %Z", runs[r],
						sizeof(runs[r]));
			diag_add(d, DIAG_NOTE, c->file, c->line, c->section, "schedule",
				 "next runs %s, %s, %s", runs[0], runs[1], runs[2]);
		}
}
