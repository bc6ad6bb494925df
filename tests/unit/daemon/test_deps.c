/* depends_on's verdict: the reason code decides, the text is only for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "deps.h"
#include "supervisor.h"
#include "values.h"

/* db, cache (a healthcheck) and job (exitcodes 0) in groups of their own; web depends on them. */
struct world {
	struct supervisor sv;
	struct group_conf gc[4];
	struct pgroup g[4];
	struct proc_conf pc[4];
	struct process p[4];
	struct process *procs[4];
	struct pgroup *groups[4];
	struct dep dep[3];
};

enum { DB, CACHE, JOB, WEB };

static struct world *world_new(void)
{
	static const char *const name[] = {"db", "cache", "job", "web"};
	struct world *w = test_calloc(1, sizeof(*w));
	for (int i = 0; i < 4; i++) {
		w->gc[i].name = (char *)name[i];
		w->pc[i].name = w->pc[i].program = w->pc[i].group = (char *)name[i];
		parse_exitcodes("0", &w->pc[i].exitcodes);
		w->p[i].conf = &w->pc[i];
		w->p[i].group = &w->g[i];
		w->p[i].sv = &w->sv;
		w->p[i].fsm.state = PS_STOPPED;
		w->procs[i] = &w->p[i];
		w->g[i].conf = &w->gc[i];
		w->g[i].procs = &w->procs[i];
		w->g[i].nprocs = 1;
		w->groups[i] = &w->g[i];
	}
	w->sv.groups = w->groups;
	w->sv.ngroups = 4;
	w->dep[0] = (struct dep){.name = "db", .cond = DEP_RUNNING};
	w->dep[1] = (struct dep){.name = "cache", .group = true, .cond = DEP_HEALTHY};
	w->dep[2] = (struct dep){.name = "job", .cond = DEP_COMPLETED};
	w->pc[WEB].depends_on = (struct dep_list){.v = w->dep, .n = 3};
	return w;
}

static void all_hold(struct world *w)
{
	w->p[DB].fsm.state = PS_RUNNING;
	w->p[CACHE].fsm.state = PS_RUNNING;
	w->p[CACHE].health.active = true;
	w->p[CACHE].health.status = HEALTH_HEALTHY;
	w->p[JOB].fsm.state = PS_EXITED;
	w->p[JOB].exited = true;
	w->p[JOB].wait_status = 0; /* exit 0 */
}

static void test_ready(void **state)
{
	struct world *w = world_new();
	all_hold(w);
	char why[64] = "untouched";
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_READY);
	assert_string_equal(why, "untouched");
	assert_true(deps_ready(&w->p[WEB], NULL, 0));
	assert_false(deps_failed(&w->p[WEB]));
	/* no depends_on at all */
	assert_int_equal(deps_check(&w->p[DB], NULL, 0), DEPS_READY);
	deps_free(&w->sv);
	test_free(w);
}

static void test_waiting(void **state)
{
	struct world *w = world_new();
	all_hold(w);
	w->p[CACHE].health.status = HEALTH_STARTING;
	char why[64];
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_WAITING);
	assert_string_equal(why, "waiting for cache (healthy)");
	assert_false(deps_ready(&w->p[WEB], NULL, 0));
	assert_false(deps_failed(&w->p[WEB]));

	all_hold(w);
	w->p[JOB].wait_status = 3 << 8; /* exit 3: not one of its exitcodes */
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_WAITING);
	assert_string_equal(why, "waiting for job (completed)");
	deps_free(&w->sv);
	test_free(w);
}

static void test_failed(void **state)
{
	struct world *w = world_new();
	all_hold(w);
	w->p[DB].fsm.state = PS_FATAL;
	char why[64];
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_FAILED);
	assert_string_equal(why, "not started: db is FATAL");
	/* the verdict does not come from the text: none is asked for, or it is cut short */
	assert_int_equal(deps_check(&w->p[WEB], NULL, 0), DEPS_FAILED);
	char tiny[4];
	assert_int_equal(deps_check(&w->p[WEB], tiny, sizeof(tiny)), DEPS_FAILED);
	assert_true(deps_failed(&w->p[WEB]));
	assert_false(deps_ready(&w->p[WEB], NULL, 0));
	deps_free(&w->sv);
	test_free(w);
}

static void test_first_unmet_decides(void **state)
{
	struct world *w = world_new();
	all_hold(w);
	w->p[DB].fsm.state = PS_STARTING;
	w->p[JOB].fsm.state = PS_FATAL;
	char why[64];
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_WAITING);
	assert_string_equal(why, "waiting for db (running)");
	assert_false(deps_failed(&w->p[WEB]));
	w->p[DB].fsm.state = PS_RUNNING;
	assert_int_equal(deps_check(&w->p[WEB], why, sizeof(why)), DEPS_FAILED);
	assert_string_equal(why, "not started: job is FATAL");
	deps_free(&w->sv);
	test_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ready),
	    cmocka_unit_test(test_waiting),
	    cmocka_unit_test(test_failed),
	    cmocka_unit_test(test_first_unmet_decides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
