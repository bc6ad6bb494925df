/*
 * Readiness a program announces itself (ready=): a line of its output matching a regex
 * (log:REGEX), a datagram on a socket of its own (notify, systemd's sd_notify protocol), or a
 * newline on a descriptor (fd:N, s6's notification-fd). What it says goes to the state machine
 * as FSM_READY (transition.c): STARTING becomes RUNNING once it is ready and startsecs passed.
 */
#ifndef PIDVISOR_READY_H
#define PIDVISOR_READY_H

#include <stddef.h>

#include "process.h"

/* Before a spawn: the notify socket (made once, kept until the process is removed) or the fd:
 * pipe. 0, or -1 with *err (malloc'd, the spawn error). */
int ready_prepare(struct process *p, char **err);
/* The descriptor the child gets as ready=fd:N's N (-1: none). */
int ready_child_fd(const struct process *p);
/* NOTIFY_SOCKET's value for the child, or NULL. */
const char *ready_notify_path(const struct process *p);
/* WATCHDOG_USEC's value for the child (watchdog_sec with ready=notify), or 0. */
long long ready_watchdog_usec(const struct process *p);
/* watchdog_sec: p runs and missed its deadline (and sent no WATCHDOG=1 since). */
bool ready_watchdog_missed(const struct process *p);
/* After p's state may have changed: its watchdog is armed on entering RUNNING, and torn down
 * when the process is no longer running. */
void ready_watch(struct process *p);
/* After a spawn (the child has its end) or a failed one: the parent closes its copy. */
void ready_spawned(struct process *p);
/* A batch of whole lines (or a piece of one) of p's output: ready=log looks for its match. */
void ready_scan(struct process *p, const char *data, size_t n);
/* The last STATUS= text of a ready=notify program ("" when none). */
const char *ready_status_text(const struct process *p);
/* Adds to a process's description (ctl status): not ready yet, and its STATUS= text. Only for
 * programs with ready=: supervisord's description stays as it is for the others. */
void ready_describe(const struct process *p, char *buf, size_t n);
/* The process is removed: its socket file goes. */
void ready_free(struct process *p);

#endif
