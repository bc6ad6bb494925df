/* `pidvisor` / `supervisord`: the daemon's command line and start-up. */
#ifndef PIDVISOR_DAEMON_H
#define PIDVISOR_DAEMON_H

#include <stdio.h>

/* pidvisor's own exit statuses (pidvisor(8)): 0 after a requested stop, 2 for a bad command
 * line or config (nothing started), a program's status on fail-fast (shutdown_on), and this
 * one when pidvisor itself cannot go on (BSD's EX_SOFTWARE). */
#define EXIT_PIDVISOR_FAILED 70

int daemon_main(int argc, char **argv);
void daemon_usage(FILE *f, const char *prog);

#endif
