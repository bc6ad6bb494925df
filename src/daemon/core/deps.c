#include "deps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "mainlog.h"
#include "strtab.h"
#include "supervisor.h"
#include "values.h"

/* What each program's depends_on names, and who names each program: built from the names once
 * after groups change, so a state change visits only its dependents and a check only what it
 * names (20 programs flapping with 500 dependents each cost a pass over every program per
 * change). */
struct deps_links {
	struct process **on; /* item k of depends_on names on[at[k]] .. on[at[k + 1] - 1] */
	size_t *at;
	struct process **dependents; /* each once */
	size_t ndependents;
};

struct deps_index {
	struct deps_links *links; /* one per process */
	struct process **on, **dependents;
	size_t *at;
};

void deps_free(struct supervisor *sv)
{
	struct deps_index *x = sv->deps;
	if (!x)
		return;
	free(x->links);
	free(x->on);
	free(x->dependents);
	free(x->at);
	free(x);
	sv->deps = NULL;
}

void deps_stale(struct supervisor *sv)
{
	deps_free(sv);
}

/* Every process in sv order, and a program's name -> 1 + the index of its first process, the
 * next ones chained through next[]. */
struct roster {
	struct process **all;
	size_t n, *next;
	struct strtab programs, groups; /* groups: name -> struct pgroup * */
};

static void put(struct strtab *t, const char *name, void *val)
{
	struct strtab_entry *e = strtab_put(t, name, strlen(name));
	if (!e)
		xalloc_failed();
	if (!e->val)
		e->val = val;
}

static void roster_build(struct roster *r, const struct supervisor *sv)
{
	memset(r, 0, sizeof(*r));
	for (size_t g = 0; g < sv->ngroups; g++)
		r->n += sv->groups[g]->nprocs;
	r->all = xcalloc(r->n ? r->n : 1, sizeof(*r->all));
	r->next = xcalloc(r->n ? r->n : 1, sizeof(*r->next));
	size_t *tail = xcalloc(r->n ? r->n : 1, sizeof(*tail)), i = 0;
	for (size_t g = 0; g < sv->ngroups; g++) {
		put(&r->groups, sv->groups[g]->conf->name, sv->groups[g]);
		for (size_t j = 0; j < sv->groups[g]->nprocs; j++, i++) {
			struct process *p = sv->groups[g]->procs[j];
			r->all[i] = p;
			p->deps_id = i;
			const char *name = p->conf->program;
			struct strtab_entry *e = strtab_put(&r->programs, name, strlen(name));
			if (!e)
				xalloc_failed();
			if (!e->val)
				e->val = (void *)(uintptr_t)(i + 1);
			else
				r->next[tail[(uintptr_t)e->val - 1]] = i + 1;
			tail[(uintptr_t)e->val - 1] = i;
		}
	}
	free(tail);
}

static void roster_free(struct roster *r)
{
	free(r->all);
	free(r->next);
	strtab_free(&r->programs);
	strtab_free(&r->groups);
}

/* Appends what d names to x->on (n used, room for *cap). */
static size_t add_named(struct deps_index *x, size_t n, const struct roster *r, const struct dep *d)
{
	if (d->group) {
		const struct pgroup *g = strtab_find(&r->groups, d->name);
		for (size_t j = 0; g && j < g->nprocs; j++) {
			x->on = xgrow(x->on, n, sizeof(*x->on));
			x->on[n++] = g->procs[j];
		}
		return n;
	}
	for (uintptr_t i = (uintptr_t)strtab_find(&r->programs, d->name); i; i = r->next[i - 1]) {
		x->on = xgrow(x->on, n, sizeof(*x->on));
		x->on[n++] = r->all[i - 1];
	}
	return n;
}

static struct deps_index *index_of(struct supervisor *sv)
{
	if (sv->deps)
		return sv->deps;
	struct roster r;
	roster_build(&r, sv);
	struct deps_index *x = xcalloc(1, sizeof(*x));
	x->links = xcalloc(r.n ? r.n : 1, sizeof(*x->links));
	/* at[]: per process, its items' starts then one past the last; then on[] */
	size_t nat = 0, non = 0;
	for (size_t i = 0; i < r.n; i++)
		nat += r.all[i]->conf->depends_on.n + 1;
	x->at = xcalloc(nat ? nat : 1, sizeof(*x->at));
	size_t *first = xcalloc(r.n ? r.n : 1, sizeof(*first)); /* of each process in at[] */
	size_t *count = xcalloc(r.n ? r.n : 1, sizeof(*count)); /* dependents */
	size_t *seen = xcalloc(r.n ? r.n : 1, sizeof(*seen));	/* 1 + the last namer */
	nat = 0;
	for (size_t i = 0; i < r.n; i++) {
		const struct dep_list *deps = &r.all[i]->conf->depends_on;
		first[i] = nat;
		for (size_t k = 0; k < deps->n; k++) {
			x->at[nat++] = non;
			non = add_named(x, non, &r, &deps->v[k]);
		}
		x->at[nat++] = non;
		for (size_t j = x->at[first[i]]; j < non; j++) {
			size_t q = x->on[j]->deps_id;
			if (seen[q] != i + 1 && x->on[j] != r.all[i]) {
				seen[q] = i + 1;
				count[q]++;
			}
		}
	}
	/* dependents[]: each process's namers, in sv order */
	size_t total = 0;
	for (size_t q = 0; q < r.n; q++) {
		size_t c = count[q];
		count[q] = total;
		total += c;
		seen[q] = 0;
	}
	x->dependents = xcalloc(total ? total : 1, sizeof(*x->dependents));
	for (size_t i = 0; i < r.n; i++) {
		struct deps_links *l = &x->links[i];
		l->at = x->at + first[i];
		l->on = x->on;
		l->dependents = x->dependents + count[i];
		for (size_t j = x->at[first[i]]; j < x->at[first[i] + r.all[i]->conf->depends_on.n];
		     j++) {
			size_t q = x->on[j]->deps_id;
			if (seen[q] != i + 1 && x->on[j] != r.all[i]) {
				seen[q] = i + 1;
				x->dependents[count[q] + x->links[q].ndependents++] = r.all[i];
			}
		}
	}
	free(first);
	free(count);
	free(seen);
	roster_free(&r);
	sv->deps = x;
	return x;
}

static const struct deps_links *links_of(const struct process *p)
{
	struct deps_index *x = index_of(p->sv);
	return &x->links[p->deps_id];
}

/* EXITED with one of its exitcodes */
static bool completed(const struct process *q)
{
	return q->fsm.state == PS_EXITED && q->exited && WIFEXITED(q->wait_status) &&
	       exitcodes_has(&q->conf->exitcodes, WEXITSTATUS(q->wait_status));
}

static bool holds(const struct dep *d, const struct process *q)
{
	switch (d->cond) {
	case DEP_STARTED:
		return q->spawns > 0;
	case DEP_RUNNING:
		/* a one-shot that finished as expected counts as up: depends_on written for other
		 * supervisors names one-shots with the default condition */
		return q->fsm.state == PS_RUNNING || completed(q);
	case DEP_HEALTHY:
		return q->fsm.state == PS_RUNNING && q->health.active &&
		       q->health.status == HEALTH_HEALTHY;
	case DEP_COMPLETED:
		return completed(q);
	case DEP_READY:
		/* ready= keeps it STARTING until it says so: RUNNING is ready and startsecs */
		return q->fsm.state == PS_RUNNING && q->fsm.ready;
	}
	return false;
}

enum deps_state deps_check(const struct process *p, char *why, size_t n)
{
	const struct dep_list *deps = &p->conf->depends_on;
	if (!deps->n)
		return DEPS_READY;
	const struct deps_links *l = links_of(p);
	for (size_t k = 0; k < deps->n; k++)
		for (size_t j = l->at[k]; j < l->at[k + 1]; j++) {
			const struct process *q = l->on[j];
			if (holds(&deps->v[k], q))
				continue;
			enum deps_state st = q->fsm.state == PS_FATAL ? DEPS_FAILED : DEPS_WAITING;
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
	/* starting one can change p's state again: the list stays (only adding or removing a
	 * group rebuilds it, never from here) */
	const struct deps_links *l = links_of(p);
	for (size_t i = 0; i < l->ndependents; i++) {
		struct process *w = l->dependents[i];
		if (w->start_when_ready && proc_state_stopped(w->fsm.state) &&
		    deps_ready(w, NULL, 0)) {
			w->start_when_ready = false;
			supervisor_start_process(sv, w);
		} else if (w->fsm.state == PS_STOPPED && !w->fsm.ever_started) {
			supervisor_tick_process(sv, w);
		}
	}
}

bool deps_live_dependents(const struct supervisor *sv, const struct pgroup *g)
{
	(void)sv;
	for (size_t j = 0; j < g->nprocs; j++) {
		const struct deps_links *l = links_of(g->procs[j]);
		for (size_t i = 0; i < l->ndependents; i++) {
			const struct process *w = l->dependents[i];
			if (w->group != g && !(proc_state_stopped(w->fsm.state) && w->pid <= 0))
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
	const struct deps_links *l = links_of(p);
	/* config checks refuse cycles; the depth bound is for safety only */
	for (size_t k = 0; k < deps->n && depth < 64; k++)
		for (size_t j = l->at[k]; j < l->at[k + 1]; j++) {
			struct process *q = l->on[j];
			if (proc_state_stopped(q->fsm.state) && !holds(&deps->v[k], q))
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
