/* `pidvisor ctl`: a drop-in supervisorctl 4.2.5. */
#ifndef PIDVISOR_CTL_H
#define PIDVISOR_CTL_H

#include <stdio.h>

/* argv[0] is the name to show in messages and to search configs from, as
 * supervisorctl uses sys.argv[0]. main() passes its own argv when invoked as
 * `supervisorctl`, and argv+1 for `pidvisor ctl ...` (argv[0] is then "ctl",
 * shown as "pidvisor ctl", and the config search starts from /proc/self/exe).
 * Returns the process exit status (supervisorctl's LSB codes). */
int ctl_main(int argc, char **argv);
/* The `ctl` part of --help. */
void ctl_usage(FILE *out);

#endif
