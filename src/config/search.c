/* Where the config file is when -c is not given: the first of supervisord's own list. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

char *config_search(const char *argv0)
{
	char exe[PATH_MAX];
	const char *a0 = argv0;
	/* H = dirname(dirname(argv[0])), as supervisord computes it from sys.argv[0] */
	if (!strchr(argv0, '/')) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			a0 = exe;
		}
	}
	char *d1 = path_dir(a0);
	char *h = path_dir(d1);
	char *cands[] = {
	    xasprintf("%s/etc/supervisord.conf", h),
	    xasprintf("%s/supervisord.conf", h),
	    xstrdup("supervisord.conf"),
	    xstrdup("etc/supervisord.conf"),
	    xstrdup("/etc/supervisord.conf"),
	    xstrdup("/etc/supervisor/supervisord.conf"),
	};
	char *found = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!found && access(cands[i], R_OK) == 0)
			found = xstrdup(cands[i]);
		free(cands[i]);
	}
	free(d1);
	free(h);
	return found;
}
