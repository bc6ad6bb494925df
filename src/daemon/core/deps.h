/* depends_on at run time: a program waits in STOPPED until every condition holds, and its start
 * follows the transition that satisfied the last one (no polling). */
#ifndef PIDVISOR_DEPS_H
#define PIDVISOR_DEPS_H

#include <stdbool.h>
#include <stddef.h>

struct supervisor;
struct process;
struct pgroup;

/* Where p's depends_on stands: the first condition that does not hold decides. */
enum deps_state {
	DEPS_READY,   /* every condition holds */
	DEPS_WAITING, /* one may still come to hold */
	DEPS_FAILED,  /* what it names is FATAL: p will not start by itself */
};
/* When not ready and why is not NULL, why says it for people: what p waits for ("waiting for
 * db (healthy)") or why it will not start ("not started: db is FATAL"). */
enum deps_state deps_check(const struct process *p, char *why, size_t n);
/* deps_check(...) == DEPS_READY */
bool deps_ready(const struct process *p, char *why, size_t n);
/* p changed state or health: programs waiting on it are looked at again. */
void deps_changed(struct supervisor *sv, struct process *p);
/* deps_check(p) == DEPS_FAILED */
bool deps_failed(const struct process *p);
/* A start request (ctl start, startProcess): what p depends on is started first, and p itself
 * as soon as its conditions hold (now, if they do). */
void deps_start(struct supervisor *sv, struct process *p, int depth);
/* Whether a program still running (or stopping) in another group depends on one of g's: at
 * shutdown g waits for it. */
bool deps_live_dependents(const struct supervisor *sv, const struct pgroup *g);

/* Groups were added or removed: the links between programs are rebuilt at their next use. */
void deps_stale(struct supervisor *sv);
/* Frees the links (supervisor_free). */
void deps_free(struct supervisor *sv);

#endif
