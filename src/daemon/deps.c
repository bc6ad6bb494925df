#include "deps.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "mainlog.h"
#include "supervisor.h"
#include "values.h"

static bool names(const struct dep *d, const struct process *q)
{
	return d->group ? !strcmp(q->group->conf->name, d->name)
			: !strcmp(q->conf->program, d->name);
}

static bool holds(const struct dep *d, const struct process *q)
{
	switch (d->cond) {
	case DEP_STARTED:
		return q->spawns > 0;
	case DEP_RUNNING:
		return q->fsm.state == PS_RUNNING;
	case DEP_HEALTHY:
		return q->fsm.state == PS_RUNNING && q->health.active &&
		       q->health.status == HEALTH_HEALTHY;
	case DEP_COMPLETED:
		return q->fsm.state == PS_EXITED && q->exited && WIFEXITED(q->wait_status) &&
		       exitcodes_has(&q->conf->exitcodes, WEXITSTATUS(q->wait_status));
	}
	return false;
}

enum deps_state deps_check(const struct process *p, char *why, size_t n)
{
	const struct dep_list *deps = &p->conf->depends_on;
	const struct supervisor *sv = p->sv;
	for (size_t k = 0; k < deps->n; k++)
		for (size_t g = 0; g < sv->ngroups; g++)
			for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
				const struct process *q = sv->groups[g]->procs[i];
				if (!names(&deps->v[k], q) || holds(&deps->v[k], q))
					continue;
				enum deps_state st =
				    q->fsm.state == PS_FATAL ? DEPS_FAILED : DEPS_WAITING;
				if (why && st == DEPS_FAILED)
					snprintf(why, n, "not started: %s is FATAL", q->conf->name);
				else if (why)
					snprintf(why, n, "waiting for %s (%s)", q->conf->name,
						 dep_cond_name(deps->v[k].cond));
				return st;
			}
	return DEPS_READY;
}

bool deps_ready(const struct process *p, char *why, size_t n)
{
	return deps_check(p, why, n) == DEPS_READY;
}

void deps_changed(struct supervisor *sv, struct process *p)
{
	for (size_t g = 0; g < sv->ngroups; g++)
		for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
			struct process *w = sv->groups[g]->procs[i];
			if (w->start_when_ready && proc_state_stopped(w->fsm.state) &&
			    deps_ready(w, NULL, 0)) {
				w->start_when_ready = false;
				supervisor_start_process(sv, w);
				continue;
			}
			if (w == p || w->fsm.state != PS_STOPPED || w->fsm.ever_started)
				continue;
			for (size_t k = 0; k < w->conf->depends_on.n; k++)
				if (names(&w->conf->depends_on.v[k], p)) {
					supervisor_tick_process(sv, w);
					break;
				}
		}
}

bool deps_live_dependents(const struct supervisor *sv, const struct pgroup *g)
{
	for (size_t h = 0; h < sv->ngroups; h++) {
		const struct pgroup *other = sv->groups[h];
		if (other == g)
			continue;
		for (size_t i = 0; i < other->nprocs; i++) {
			const struct process *w = other->procs[i];
			if (proc_state_stopped(w->fsm.state) && w->pid <= 0)
				continue;
			for (size_t k = 0; k < w->conf->depends_on.n; k++)
				for (size_t j = 0; j < g->nprocs; j++)
					if (names(&w->conf->depends_on.v[k], g->procs[j]))
						return true;
		}
	}
	return false;
}

bool deps_failed(const struct process *p)
{
	return deps_check(p, NULL, 0) == DEPS_FAILED;
}

void deps_start(struct supervisor *sv, struct process *p, int depth)
{
	const struct dep_list *deps = &p->conf->depends_on;
	/* config checks refuse cycles; the depth bound is for safety only */
	for (size_t k = 0; k < deps->n && depth < 64; k++)
		for (size_t g = 0; g < sv->ngroups; g++)
			for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
				struct process *q = sv->groups[g]->procs[i];
				if (names(&deps->v[k], q) && proc_state_stopped(q->fsm.state) &&
				    !holds(&deps->v[k], q))
					deps_start(sv, q, depth + 1);
			}
	if (deps_ready(p, NULL, 0)) {
		supervisor_start_process(sv, p);
	} else {
		p->start_when_ready = true;
		char spec[512], why[256];
		deps_ready(p, why, sizeof(why));
		log_info("%s will start when its dependencies are ready (%s)",
			 process_namespec(p, spec, sizeof(spec)), why);
	}
}
