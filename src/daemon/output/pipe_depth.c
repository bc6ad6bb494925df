#include "pipe_depth.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define SOFT_DEFAULT 16384 /* pages: the kernel's default pipe-user-pages-soft */
#define SOFT_SHARE   8	   /* deep pipes take at most this fraction of it */

static size_t budget, used; /* in deep pipes */

/* How many deep pipes may be open at once: an eighth of the user's soft limit, in pages. A
 * limit of 0 (none) or one we cannot read counts as the default. */
static size_t budget_of_kernel(void)
{
	unsigned long soft = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-user-pages-soft", "re");
	if (f) {
		if (fscanf(f, "%lu", &soft) != 1)
			soft = 0;
		fclose(f);
	}
	if (soft == 0)
		soft = SOFT_DEFAULT;
	long page = sysconf(_SC_PAGESIZE);
	size_t pages_per_pipe = PIPE_DEEP / (size_t)(page > 0 ? page : 4096);
	return soft / SOFT_SHARE / pages_per_pipe;
}

size_t pipe_deepen(int fd)
{
	if (!budget)
		budget = budget_of_kernel() + 1; /* + 1: read once, even when it allows none */
	if (used + 1 >= budget)
		return 0;
	if (fcntl(fd, F_SETPIPE_SZ, PIPE_DEEP) < PIPE_DEEP)
		return 0; /* the user is past the soft limit already, or no memory */
	used++;
	return PIPE_DEEP;
}

void pipe_deep_closed(size_t deep)
{
	if (deep && used > 0)
		used--;
}
