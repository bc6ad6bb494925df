/* `pidvisor [-g] [-v] [-t SECONDS] -- PROGRAM [ARGS]`: pidvisor as the init of one program, no
 * config file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

static void usage(FILE *f)
{
	fputs("Usage: pidvisor [-g] [-v] [-t SECONDS] -- PROGRAM [ARGS]\n\n"
	      "Runs PROGRAM as the only child of pidvisor, with no config file: every catchable\n"
	      "signal is passed on to it, zombies are reaped (as PID 1, or as a child subreaper\n"
	      "otherwise), and pidvisor exits with PROGRAM's status (128+N if signal N killed\n"
	      "it), after stopping and reaping whatever PROGRAM left behind.\n\n"
	      "  -g          pass signals to PROGRAM's process group, not PROGRAM alone\n"
	      "  -v          say what happens, on stderr\n"
	      "  -t SECONDS  grace period between SIGTERM and SIGKILL for what PROGRAM left\n"
	      "              behind (default 5)\n"
	      "Invoked as `tini` or `dumb-init` (a symlink or a copy), pidvisor takes that\n"
	      "program's command line instead.\n",
	      f);
}

bool single_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return true;
		if (strcmp(argv[i], "-t") == 0)
			i++;
		else if (strcmp(argv[i], "-g") != 0 && strcmp(argv[i], "-v") != 0)
			return false;
	}
	return false;
}

int single_main(int argc, char **argv)
{
	struct init_opts o;
	init_opts_defaults(&o, INIT_PIDVISOR);
	o.subreaper = true;
	o.leftovers_grace = true;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-g") == 0) {
			o.to_group = true;
		} else if (strcmp(argv[i], "-v") == 0) {
			o.verbosity++;
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			char *end;
			o.grace_seconds = strtod(argv[++i], &end);
			if (*end || !(o.grace_seconds >= 0 && o.grace_seconds <= 86400)) {
				fprintf(stderr, "pidvisor: -t takes seconds, not '%s'\n", argv[i]);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i + 1 >= argc) {
		usage(stderr);
		return 2;
	}
	o.argv = argv + i + 1;
	return init_run(&o);
}
