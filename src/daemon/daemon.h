/* `pidvisor` / `supervisord`: the daemon's command line and start-up. */
#ifndef PIDVISOR_DAEMON_H
#define PIDVISOR_DAEMON_H

#include <stdio.h>

int daemon_main(int argc, char **argv);
void daemon_usage(FILE *f, const char *prog);

#endif
