/* %(name)s expansion: Python's %-formatting of supervisord's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expand.h"

static char *ex(const struct expand_ctx *ctx, const char *in)
{
	char *out = NULL, *err = NULL;
	if (expand(in, ctx, &out, &err) < 0) {
		static char buf[512];
		snprintf(buf, sizeof(buf), "ERR:%s", err);
		free(err);
		return strdup(buf);
	}
	return out;
}

static void test_expansion(void **state)
{
	char *const env[] = {"HOME=/root", "X=1", "X=2", NULL};
	struct expand_ctx ctx = {.here = "/etc/sv",
				 .program_name = "web",
				 .group_name = "g",
				 .host_node_name = "box",
				 .has_process_num = true,
				 .process_num = 7,
				 .numprocs = 12,
				 .env = env};
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"%(program_name)s-%(process_num)02d", "web-07"},
	    {"%(process_num)d/%(numprocs)d", "7/12"},
	    {"%(here)s/x %(group_name)s %(host_node_name)s", "/etc/sv/x g box"},
	    {"%(ENV_HOME)s %(ENV_X)s", "/root 2"},
	    {"100%% sure", "100% sure"},
	    {"%(process_num)03x|%(process_num)-3d|", "007|7  |"},
	    {"%(program_name)r", "'web'"},
	    {"plain", "plain"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = ex(&ctx, cases[i].in);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
	const struct {
		const char *in, *err;
	} bad[] = {
	    {"%(nope)s", "unknown name %(nope)"},
	    {"date +%s", "write a literal % as %%"},
	    {"50%", "at the end"},
	    {"%(program_name)d", "needs a number"},
	    {"%(ENV_UNSET_VAR)s", "unknown name %(ENV_UNSET_VAR)"},
	    {"%(program_name", "without a closing"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = ex(&ctx, bad[i].in);
		assert_non_null(strstr(out, bad[i].err));
		free(out);
	}
	/* process_num exists only for per-process keys */
	struct expand_ctx early = ctx;
	early.has_process_num = false;
	char *out = ex(&early, "%(process_num)d");
	assert_non_null(strstr(out, "unknown name"));
	assert_null(strstr(out, "process_num,")); /* not listed as available */
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expansion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
