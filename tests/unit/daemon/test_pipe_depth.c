/* Deep pipes: at most an eighth of the user's pipe-user-pages-soft between them, the rest left
 * as they were, and a closed one's share free again. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "pipe_depth.h"

#define TRIES 200

/* How many deep pipes an eighth of the soft limit (16384 pages when none) holds. */
static int allowed(void)
{
	char text[32] = "";
	int fd = open("/proc/sys/fs/pipe-user-pages-soft", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, text, sizeof(text) - 1) < 0)
			text[0] = '\0';
		close(fd);
	}
	unsigned long soft = strtoul(text, NULL, 10);
	return (int)((soft ? soft : 16384) * (unsigned long)sysconf(_SC_PAGESIZE) / 8 / PIPE_DEEP);
}

static void test_budget_bounds_deep_pipes(void **state)
{
	(void)state;
	int fds[TRIES][2], deep = 0;
	for (int i = 0; i < TRIES; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		if (pipe_deepen(fds[i][0]) == PIPE_DEEP) {
			assert_int_equal(fcntl(fds[i][0], F_GETPIPE_SZ), PIPE_DEEP);
			deep++;
		} else {
			assert_true(fcntl(fds[i][0], F_GETPIPE_SZ) <= 64 * 1024);
		}
	}
	/* the kernel may refuse some (a user near its limit), never allow more */
	assert_true(deep <= allowed());
	if (deep == allowed()) {
		/* full: the next is refused; a deep pipe closed, one more may be deepened */
		int fd[2];
		assert_int_equal(pipe(fd), 0);
		assert_int_equal(pipe_deepen(fd[0]), 0);
		pipe_deep_closed(PIPE_DEEP);
		assert_int_equal(pipe_deepen(fd[0]), PIPE_DEEP);
		close(fd[0]);
		close(fd[1]);
	}
	for (int i = 0; i < TRIES; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_budget_bounds_deep_pipes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
