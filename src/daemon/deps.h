/* depends_on at run time: a program waits in STOPPED until every condition holds, and its start
 * follows the transition that satisfied the last one (no polling). */
#ifndef PIDVISOR_DEPS_H
#define PIDVISOR_DEPS_H

#include <stdbool.h>
#include <stddef.h>

struct supervisor;
struct process;
struct pgroup;

/* Whether p's depends_on holds now; when not and why is not NULL, what it waits for
 * ("waiting for db (healthy)") or why it will not start ("not started: db is FATAL"). */
bool deps_ready(const struct process *p, char *why, size_t n);
/* p changed state or health: programs waiting on it are looked at again. */
void deps_changed(struct supervisor *sv, struct process *p);
/* A dependency of p is FATAL: p will not start by itself. */
bool deps_failed(const struct process *p);
/* A start request (ctl start, startProcess): what p depends on is started first, and p itself
 * as soon as its conditions hold (now, if they do). */
void deps_start(struct supervisor *sv, struct process *p, int depth);
/* Whether a program still running (or stopping) in another group depends on one of g's: at
 * shutdown g waits for it. */
bool deps_live_dependents(const struct supervisor *sv, const struct pgroup *g);

#endif
