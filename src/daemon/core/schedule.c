#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "diag.h"
#include "mainlog.h"
#include "process.h"
#include "supervisor.h"
#include "util.h"

/* schedule_next() in the program's schedule_timezone, or the local one (TZ or /etc/localtime) */
static ev_tstamp next_due(ev_periodic *w, ev_tstamp now)
{
	struct process *p = w->data;
	const struct proc_conf *c = p->conf;
	time_t t = schedule_next(&c->schedule, (time_t)now, c->schedule_timezone);
	/* never due (30 February): far enough never to fire */
	return t < 0 ? now + 1e9 : (ev_tstamp)t;
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

static void due(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct process *p = w->data;
	struct schedule *s = container_of(w, struct schedule, timer);
	(void)loop;
	(void)revents;
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
	/* a one-shot: started by its timer only, and an exit is the end of a run, whatever
	 * autostart, autorestart and startsecs say */
	p->params.autostart = false;
	p->params.autorestart = AUTORESTART_FALSE;
	p->params.startsecs = 0;
	p->sched = calloc(1, sizeof(*p->sched));
	if (!p->sched)
		return -1;
	ev_periodic_init(&p->sched->timer, due, 0, 0, next_due);
	p->sched->timer.data = p;
	ev_periodic_start(p->sv->loop, &p->sched->timer);
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
	return p->sched ? ev_periodic_at(&p->sched->timer) : 0;
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
