/*
 * Single-command mode: pidvisor as the init of one program, the job tini and dumb-init do.
 * Three front ends fill one struct init_opts: `pidvisor -- CMD` (single.c), the tini command
 * line (tini.c) and the dumb-init command line (dumb_init.c); init.c runs it.
 */
#ifndef PIDVISOR_INIT_H
#define PIDVISOR_INIT_H

#include <stdbool.h>

#define INIT_MAXSIG 31 /* signals 1..31 are forwarded; real-time ones are not */

enum init_flavor {
	INIT_PIDVISOR,
	INIT_TINI,
	INIT_DUMB_INIT,
};

struct init_opts {
	enum init_flavor flavor;
	char **argv;	   /* the program and its arguments, NULL-terminated */
	bool to_group;	   /* forward signals to the child's process group */
	bool setsid;	   /* the child leads a new session and takes the terminal (dumb-init) */
	bool subreaper;	   /* PR_SET_CHILD_SUBREAPER when not PID 1 */
	int pdeathsig;	   /* 0, or a signal we get when our parent dies (then forwarded) */
	int verbosity;	   /* 0 quiet; flavor-specific levels above */
	bool warn_on_reap; /* tini -w */
	bool remap[256];   /* tini -e: these exit codes become 0 */
	int rewrite[INIT_MAXSIG + 1]; /* dumb-init -r: -1 as is, 0 dropped, else the new signal */
	bool leftovers_grace; /* pidvisor: TERM, then KILL, what is left when the child exits */
	double grace_seconds; /* how long leftovers get between TERM and KILL */
};

void init_opts_defaults(struct init_opts *o, enum init_flavor flavor);
/* Runs the program to its end; returns the exit status for our own exit. */
int init_run(struct init_opts *o);

/* Whether the command line is `pidvisor [-g] [-v] [-t S] -- ...`. */
bool single_mode(int argc, char **argv);
int single_main(int argc, char **argv);
int tini_main(int argc, char **argv);
int dumb_init_main(int argc, char **argv);

#endif
