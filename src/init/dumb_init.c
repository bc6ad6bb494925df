/* The dumb-init 1.2.5 command line: `dumb-init [-c] [-r s:r]... [-v] [-V] [-h] PROG [ARGS]`,
 * options before the program only. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

#define DUMB_INIT_COMPAT "1.2.5"

static void help(const char *prog)
{
	fprintf(stderr,
		"dumb-init v%s (pidvisor %s)\n"
		"Usage: %s [option] command [[arg] ...]\n\n"
		"Runs command as the child of a minimal init that passes signals on and reaps\n"
		"zombies; by default the child leads its own session and signals reach its whole\n"
		"process group.\n\n"
		"Options:\n"
		"   -c, --single-child   signal only the direct child, not its process group\n"
		"   -r, --rewrite s:r    pass received signal s on as signal r (r=0: drop it);\n"
		"                        may be repeated\n"
		"   -v, --verbose        debug messages on stderr\n"
		"   -h, --help           print this help and exit\n"
		"   -V, --version        print the version and exit\n",
		DUMB_INIT_COMPAT, PIDVISOR_VERSION, prog);
}

static bool parse_rewrite(struct init_opts *o, const char *arg)
{
	int from, to;
	char tail;
	if (sscanf(arg, "%d:%d%c", &from, &to, &tail) < 2 || from < 1 || from > INIT_MAXSIG ||
	    to < 0 || to > INIT_MAXSIG)
		return false;
	o->rewrite[from] = to;
	return true;
}

int dumb_init_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},	       {"single-child", no_argument, NULL, 'c'},
	    {"rewrite", required_argument, NULL, 'r'}, {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
	};
	struct init_opts o;
	init_opts_defaults(&o, INIT_DUMB_INIT);
	o.setsid = true;
	int c;
	while ((c = getopt_long(argc, argv, "+hvVcr:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help(argv[0]);
			return 0;
		case 'v':
			o.verbosity = 1;
			break;
		case 'V':
			fprintf(stderr, "dumb-init v%s (pidvisor %s)\n", DUMB_INIT_COMPAT,
				PIDVISOR_VERSION);
			return 0;
		case 'c':
			o.setsid = false;
			break;
		case 'r':
			if (!parse_rewrite(&o, optarg)) {
				fprintf(stderr,
					"Usage: -r takes <signum>:<signum>, each from 1 to %d (the "
					"second may be 0 to drop the signal).\n"
					"It may be repeated. See --help.\n",
					INIT_MAXSIG);
				return 1;
			}
			break;
		default:
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "Usage: %s [option] program [args]\nSee %s --help.\n", argv[0],
			argv[0]);
		return 1;
	}
	/* dumb-init's own debug lines about its environment, each one write */
	const char *debug = getenv("DUMB_INIT_DEBUG");
	if (debug && strcmp(debug, "1") == 0) {
		o.verbosity = 1;
		fputs("[dumb-init] Running in debug mode.\n", stderr);
	}
	const char *setsid = getenv("DUMB_INIT_SETSID");
	if (setsid && strcmp(setsid, "0") == 0) {
		o.setsid = false;
		if (o.verbosity)
			fputs("[dumb-init] Not running in setsid mode.\n", stderr);
	}
	o.to_group = o.setsid;
	if (o.setsid) {
		/* the child's job-control stops become real stops (then we stop too) */
		static const int stops[] = {SIGTSTP, SIGTTOU, SIGTTIN};
		for (size_t i = 0; i < 3; i++)
			if (o.rewrite[stops[i]] < 0)
				o.rewrite[stops[i]] = SIGSTOP;
	}
	o.argv = argv + optind;
	return init_run(&o);
}
