/* One path for a state change: every observer hears every change, in order, and each change
 * starts where the last one ended (a failed spawn is STOPPED -> STARTING -> BACKOFF for all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "supervisor.h"

#define MAX_SEEN 16

struct seen {
	enum proc_state from[MAX_SEEN], to[MAX_SEEN];
	size_t n;
};

static void record(void *ctx, struct process *p, enum proc_state from, bool expected, pid_t pid)
{
	struct seen *s = ctx;
	(void)expected;
	(void)pid;
	assert_true(s->n < MAX_SEEN);
	s->from[s->n] = from;
	s->to[s->n] = p->fsm.state;
	s->n++;
}

/* a config file with one program whose command does not exist */
static char *write_config(int retries)
{
	char *path = strdup("/tmp/pidvisor-observers-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f,
		"[supervisord]\nlogfile=/dev/null\n"
		"[program:gone]\ncommand=/nonexistent/pidvisor-test-command\n"
		"autostart=false\nstartretries=%d\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
		retries);
	fclose(f);
	return path;
}

static void test_failed_spawn_is_seen_alike_by_every_observer(void **state)
{
	(void)state;
	char *path = write_config(0);
	struct config_overrides ov = {0};
	struct diag d = {0};
	struct config *cfg = config_load(path, &ov, &d);
	assert_non_null(cfg);
	diag_free(&d);

	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct supervisor sv = {0};
	struct seen first = {0}, second = {0};
	supervisor_observe(&sv, record, &first);
	supervisor_observe(&sv, record, &second);
	assert_int_equal(supervisor_init(&sv, loop, cfg), 0);
	struct process *p = supervisor_find(&sv, "gone", "gone");
	assert_non_null(p);

	supervisor_start_process(&sv, p);

	/* STOPPED -> STARTING -> BACKOFF -> FATAL (no retries left), each from the last */
	enum proc_state want[] = {PS_STOPPED, PS_STARTING, PS_BACKOFF, PS_FATAL};
	assert_int_equal(first.n, 3);
	for (size_t i = 0; i < first.n; i++) {
		assert_int_equal(first.from[i], want[i]);
		assert_int_equal(first.to[i], want[i + 1]);
	}
	assert_memory_equal(&first, &second, sizeof(first));
	assert_non_null(strstr(p->fsm.spawnerr, "/nonexistent/pidvisor-test-command"));

	supervisor_free(&sv);
	config_free(sv.cfg);
	ev_loop_destroy(loop);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failed_spawn_is_seen_alike_by_every_observer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
