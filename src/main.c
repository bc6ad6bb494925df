/* One binary, several names: the daemon, `ctl` (supervisorctl) and `check`. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

int main(int argc, char **argv)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", argc > 0 ? argv[0] : "pidvisor");
	const char *name = basename(copy);
	(void)name;
	return daemon_main(argc, argv);
}
