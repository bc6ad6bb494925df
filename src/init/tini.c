/* The tini 0.19 command line: `tini [-h] [-s] [-p SIG] [-v] [-w] [-g] [-e CODE] [-l] [--] PROG
 * [ARGS]`, or `tini --version` alone. Parsed with glibc's getopt as tini is, so options may
 * follow the program's name unless `--` ends them (a known tini gotcha, kept for fidelity). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "signals.h"

#define TINI_COMPAT "0.19.0"

static void usage(const char *prog, FILE *f)
{
	const char *slash = strrchr(prog, '/');
	const char *name = slash ? slash + 1 : prog;
	fprintf(f,
		"%s (pidvisor %s, tini %s compatible)\n"
		"Usage: %s [OPTIONS] PROGRAM -- [ARGS] | --version\n\n"
		"Runs PROGRAM as the child of a minimal init: signals are passed on, zombies are\n"
		"reaped, and the exit status is PROGRAM's (128+N if signal N killed it).\n\n"
		"Options:\n"
		"  --version     print the version and exit\n"
		"  -h            print this help and exit\n"
		"  -s            become a child subreaper (when not PID 1)\n"
		"  -p SIGNAL     have SIGNAL (a name such as SIGKILL) sent when our parent dies\n"
		"  -v            more messages (repeat up to 3 times)\n"
		"  -w            warn whenever a zombie other than PROGRAM is reaped\n"
		"  -g            send signals to PROGRAM's process group\n"
		"  -e CODE       treat exit code CODE (0-255) as 0; may be repeated\n"
		"  -l            print the licence and exit\n\n"
		"Environment:\n"
		"  TINI_SUBREAPER           as -s\n"
		"  TINI_VERBOSITY           the message level (default 1)\n"
		"  TINI_KILL_PROCESS_GROUP  as -g\n\n",
		name, PIDVISOR_VERSION, TINI_COMPAT, name);
}

/* tini takes only full upper-case names: SIGKILL, SIGTERM... */
static int pdeath_signal(const char *arg)
{
	if (strncmp(arg, "SIG", 3) != 0)
		return -1;
	int sig = signal_parse(arg);
	const char *name = sig > 0 ? signal_name(sig) : NULL;
	return name && strcmp(name, arg + 3) == 0 ? sig : -1;
}

static int exit_code_arg(const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);
	return *arg && !*end && v >= 0 && v <= 255 ? (int)v : -1;
}

int tini_main(int argc, char **argv)
{
	struct init_opts o;
	init_opts_defaults(&o, INIT_TINI);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("tini version %s (pidvisor %s)\n", TINI_COMPAT, PIDVISOR_VERSION);
		return 0;
	}
	int verbose = 0, c;
	opterr = 1;
	while ((c = getopt(argc, argv, "p:hvwgle:s")) != -1) {
		switch (c) {
		case 'h':
			usage(argv[0], stdout);
			return 0;
		case 's':
			o.subreaper = true;
			break;
		case 'p':
			o.pdeathsig = pdeath_signal(optarg);
			if (o.pdeathsig < 0) {
				fprintf(stderr,
					"[FATAL tini (%d)] -p takes a signal name such as "
					"SIGKILL, not '%s'\n",
					(int)getpid(), optarg);
				return 1;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			o.warn_on_reap = true;
			break;
		case 'g':
			o.to_group = true;
			break;
		case 'e': {
			int code = exit_code_arg(optarg);
			if (code < 0) {
				fprintf(stderr,
					"[FATAL tini (%d)] -e takes an exit code from 0 to "
					"255, not '%s'\n",
					(int)getpid(), optarg);
				return 1;
			}
			o.remap[code] = true;
			break;
		}
		case 'l':
			printf("pidvisor is free software; see its source distribution for the "
			       "licence.\n");
			return 0;
		default:
			usage(argv[0], stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(argv[0], stderr);
		return 1;
	}
	if (getenv("TINI_SUBREAPER"))
		o.subreaper = true;
	if (getenv("TINI_KILL_PROCESS_GROUP"))
		o.to_group = true;
	const char *env_verbosity = getenv("TINI_VERBOSITY");
	o.verbosity = env_verbosity ? atoi(env_verbosity) : 1 + verbose;
	o.argv = argv + optind;
	return init_run(&o);
}
