/* Fail-fast: a program whose `shutdown_on` condition holds stops everything, and pidvisor
 * exits with that program's status, so Docker or Kubernetes restart the container. And what an
 * unhealthy program's `on_unhealthy` asks: a restart, or the same fail-fast shutdown; and the
 * same for a program past its `memory_max` (`on_memory`). */
#ifndef PIDVISOR_FAILFAST_H
#define PIDVISOR_FAILFAST_H

#include "health.h"
#include "states.h"

struct supervisor;
struct process;
struct res_usage;

/* A state observer (supervisor_observe), called through daemon.c. */
void failfast_state_changed(struct supervisor *sv, struct process *p, enum proc_state from);
/* health.c's change hook: on_unhealthy=restart or shutdown. */
void failfast_health_changed(struct process *p, enum health_status from);
/* p is unhealthy (a failed healthcheck, a missed watchdog): what its on_unhealthy asks. what
 * completes "it ...", for the log: "is unhealthy", "missed its watchdog". */
void failfast_unhealthy(struct process *p, const char *what);
/* resources.c's poll found p's tree past memory_max: on_memory=restart, shutdown, or a log
 * line only (none). */
void failfast_memory_exceeded(struct process *p, const struct res_usage *u);
/* p's child was killed by the OOM killer in its cgroup (memory_max enforced by the kernel):
 * said before its state changes, and then what on_memory asks: shutdown stops everything,
 * restart starts it again if autorestart did not. */
void failfast_memory_killed(struct process *p);
void failfast_memory_killed_then(struct process *p);

#endif
