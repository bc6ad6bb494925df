/* What supervisor.c (groups, reaping, shutdown, reload) and transition.c (state changes) share
 * inside core. */
#ifndef PIDVISOR_SUPERVISOR_INTERNAL_H
#define PIDVISOR_SUPERVISOR_INTERNAL_H

#include "supervisor.h"

/* transition.c */
/* Applies ev to p, then lets its machine settle; status_text and pid describe ev (an exit's). */
void process_drive(struct process *p, const struct fsm_event *first, const char *status_text,
		   pid_t pid);
/* A tick: lets p's state machine act now (start, restart, give up, time out). */
void process_tick(struct process *p);
/* p says it is ready (ready=; how: "notify", "fd", "log"): RUNNING once startsecs passed. */
void process_ready(struct process *p, const char *how);
/* p, not ready yet, asks for secs more before ready_timeout (EXTEND_TIMEOUT_USEC). */
void process_extend(struct process *p, double secs);
/* p's child was reaped with status. */
void process_exited(struct process *p, int status);
/* p->timer's callback: a deadline of the state machine. */
void process_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
/* "exit status 1" / "terminated by SIGTERM" at buf; returns supervisord's exit status (-1 for a
 * signal). */
int describe_status(int status, char *buf, size_t n);

/* supervisor.c */
/* the pid -> process table */
void supervisor_pid_add(struct supervisor *sv, struct process *p);
void supervisor_pid_del(struct supervisor *sv, struct process *p);
/* After a change: a shutdown or a reload in progress takes its next step. */
void supervisor_progress(struct supervisor *sv);

#endif
