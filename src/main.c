/* One binary, several names: the daemon, `ctl` (supervisorctl), `check`, and single-command
 * mode (`pidvisor -- CMD`, or invoked as tini or dumb-init). */
#include <string.h>

#include "check.h"
#include "ctl.h"
#include "daemon.h"
#include "init.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	const char *name = base_name(argv[0]);
	if (strcmp(name, "supervisorctl") == 0)
		return ctl_main(argc, argv);
	if (strcmp(name, "tini") == 0)
		return tini_main(argc, argv);
	if (strcmp(name, "dumb-init") == 0)
		return dumb_init_main(argc, argv);
	if (single_mode(argc, argv))
		return single_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	return daemon_main(argc, argv);
}
