/*
 * Scheduled programs (the `schedule` key): a one-shot run at each due time, on one absolute
 * ev_periodic per program armed for the next due time (in schedule_timezone, plus a random
 * schedule_jitter delay; no polling). A wake-up well after that time is a missed run, skipped
 * or run once (schedule_missed). A scheduled program is not autostarted and never restarted:
 * its exit waits for the next due time. A run that is due while the previous one is still going
 * is skipped (schedule_overlap=skip), started when that one ends (queue: one run at most
 * waits), or started once that one is stopped (kill); the log says which.
 */
#ifndef PIDVISOR_SCHEDULE_H
#define PIDVISOR_SCHEDULE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

struct process;

/* seconds a wake-up may come after its planned time before the run counts as missed: a quarter
 * of the time to the following run, within these */
#define SCHEDULE_LATE_MIN 1.0
#define SCHEDULE_LATE_MAX 60.0

struct schedule {
	ev_periodic timer; /* absolute: fires at `at` on the wall clock */
	double base;	   /* the next due time (epoch seconds) */
	double at;	   /* base plus its random schedule_jitter delay */
	unsigned long long runs, skipped, missed;
	bool queued; /* schedule_overlap=queue or kill: a run starts when the current one ends */
};

/* The process was added: its start parameters become a one-shot's, and its timer starts
 * (no-op without a schedule). */
int schedule_attach(struct process *p);
/* The process goes away: its timer stops. */
void schedule_detach(struct process *p);
/* The process exited: a queued run starts. */
void schedule_exited(struct process *p);
/* Appends "; next run ..." (and the last run's exit) to a status description. */
void schedule_describe(const struct process *p, char *buf, size_t n);
/* The next due time (epoch seconds), 0 when the program has no schedule. */
double schedule_next_run(const struct process *p);

/* --check-config: a note with each scheduled program's next three runs. */
struct config;
struct diag;
void schedule_check(const struct config *cfg, struct diag *d);

#endif
