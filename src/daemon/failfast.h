/* Fail-fast: a program whose `shutdown_on` condition holds stops everything, and pidvisor
 * exits with that program's status, so Docker or Kubernetes restart the container. */
#ifndef PIDVISOR_FAILFAST_H
#define PIDVISOR_FAILFAST_H

#include "states.h"

struct supervisor;
struct process;

/* The supervisor's on_state_change hook. */
void failfast_state_changed(struct supervisor *sv, struct process *p, enum proc_state from);

#endif
