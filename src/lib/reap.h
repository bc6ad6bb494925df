/* What an init does with processes that are not its own programs: orphans handed to it, and
 * what its programs left behind. Shared by the daemon's shutdown and single-command mode. */
#ifndef PIDVISOR_REAP_H
#define PIDVISOR_REAP_H

#include <stdbool.h>

/* Whether any child (reapable or still running) is left. Reaps nothing. */
bool have_children(void);

/* Sends sig to what is left: as PID 1 of a namespace, every other process in it; otherwise (a
 * subreaper) each of our direct children, which is where orphans are re-parented. */
void signal_leftovers(bool as_pid1, int sig);

/* The shell's convention for a wait status: the exit code, or 128+N when signal N killed it. */
int wait_status_code(int status);

#endif
