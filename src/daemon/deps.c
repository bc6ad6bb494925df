#include "deps.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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

bool deps_ready(const struct process *p, char *why, size_t n)
{
	const struct dep_list *deps = &p->conf->depends_on;
	const struct supervisor *sv = p->sv;
	for (size_t k = 0; k < deps->n; k++)
		for (size_t g = 0; g < sv->ngroups; g++)
			for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
				const struct process *q = sv->groups[g]->procs[i];
				if (!names(&deps->v[k], q) || holds(&deps->v[k], q))
					continue;
				if (!why)
					return false;
				if (q->fsm.state == PS_FATAL)
					snprintf(why, n, "not started: %s is FATAL", q->conf->name);
				else
					snprintf(why, n, "waiting for %s (%s)", q->conf->name,
						 dep_cond_name(deps->v[k].cond));
				return false;
			}
	return true;
}

void deps_changed(struct supervisor *sv, struct process *p)
{
	for (size_t g = 0; g < sv->ngroups; g++)
		for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
			struct process *w = sv->groups[g]->procs[i];
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
