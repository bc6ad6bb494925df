/* One binary, several names: the daemon, `ctl` (supervisorctl) and `check`. */
#include <string.h>

#include "check.h"
#include "ctl.h"
#include "daemon.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	if (strcmp(base_name(argv[0]), "supervisorctl") == 0)
		return ctl_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	return daemon_main(argc, argv);
}
