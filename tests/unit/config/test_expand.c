/* %(name)s expansion: Python's %-formatting of supervisord's names, the cap on one value, and
 * supervisorctl's wording of its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
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
	char *const env[] = {"HOME=/root", "X=1", "X=2", "EMPTY=", NULL};
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
	    /* pidvisor's default for an unset or empty variable */
	    {"%(ENV_PORT:-8080)s|%(ENV_X:-9)s|%(ENV_EMPTY:-e)s|%(ENV_NONE:-)s|", "8080|2|e||"},
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

#define CAP_ERROR "expands to more than 2 MiB (2097152 bytes), the limit for one value"

/* n bytes of literal text, then tail */
static char *text_of(size_t n, const char *tail)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, tail);
	return buf_steal(&b);
}

static void test_output_is_capped(void **state)
{
	struct expand_ctx ctx = {.has_process_num = true, .process_num = 7, .numprocs = 9};
	char *out = NULL, *err = NULL;

	/* the case: 2,000 conversions of width 99999 would be 190 MiB */
	struct buf in = {0};
	for (int i = 0; i < 2000; i++)
		buf_puts(&in, "%(process_num)99999d");
	assert_int_equal(expand(in.data, &ctx, &out, &err), -1);
	assert_null(out);
	assert_string_equal(err, CAP_ERROR);
	free(err);
	buf_free(&in);

	/* exactly the cap is allowed, one byte more is not */
	char *s = text_of(EXPAND_MAX_BYTES - 5, "%(process_num)05d");
	assert_int_equal(expand(s, &ctx, &out, &err), 0);
	assert_int_equal(strlen(out), EXPAND_MAX_BYTES);
	assert_string_equal(out + EXPAND_MAX_BYTES - 6, "a00007");
	free(out);
	free(s);
	s = text_of(EXPAND_MAX_BYTES - 4, "%(process_num)05d");
	assert_int_equal(expand(s, &ctx, &out, &err), -1);
	assert_string_equal(err, CAP_ERROR);
	free(err);
	free(s);
	/* literal text alone counts too */
	s = text_of(EXPAND_MAX_BYTES + 1, "");
	assert_int_equal(expand(s, &ctx, &out, &err), -1);
	free(err);
	free(s);

	/* many small pieces add up the same way, %% included */
	buf_init(&in, 0);
	for (int i = 0; i < EXPAND_MAX_BYTES / 3; i++)
		buf_puts(&in, "a%%b");
	assert_int_equal(expand(in.data, &ctx, &out, &err), 0);
	assert_int_equal(strlen(out), EXPAND_MAX_BYTES / 3 * 3);
	free(out);
	buf_puts(&in, "%(process_num)03d"); /* one byte past the cap */
	assert_int_equal(expand(in.data, &ctx, &out, &err), -1);
	free(err);
	buf_free(&in);

	/* a long ENV_ value through %s and through %r */
	s = text_of(EXPAND_MAX_BYTES, "");
	memcpy(s, "BIG=", 4);
	char *const env[] = {s, NULL};
	ctx.env = env;
	assert_int_equal(expand("%(ENV_BIG)s....", &ctx, &out, &err), 0);
	free(out);
	assert_int_equal(expand("%(ENV_BIG)r..", &ctx, &out, &err), 0);
	free(out);
	assert_int_equal(expand("%(ENV_BIG)r...", &ctx, &out, &err), -1);
	free(err);
	assert_int_equal(expand("%(ENV_BIG)s.....", &ctx, &out, &err), -1);
	free(err);
	free(s);
}

static void test_repr_quotes_like_python(void **state)
{
	struct expand_ctx ctx = {.program_name = "it's"};
	const struct {
		const char *name, *out;
	} cases[] = {
	    {"it's", "\"it's\""},
	    {"say \"hi\"", "'say \"hi\"'"},
	    {"both ' \"", "'both \\' \"'"},
	    {"a\\b\tc\r\n\x01\x7f", "'a\\\\b\\tc\\r\\n\\x01\\x7f'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctx.program_name = cases[i].name;
		char *out = ex(&ctx, "%(program_name)r");
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

/* supervisorctl's expand(): ENV_ names spelled out, sorted, once each; here where offered. */
static void test_supervisorctl_wording(void **state)
{
	char *const env[] = {"ZED=1", "HOME=/root", "ZED=2", "A=x", NULL};
	struct expand_ctx ctx = {.here = "/etc", .env = env, .option = "supervisorctl.serverurl"};
	char *out = ex(&ctx, "unix://%(here)s/s.sock %(ENV_ZED)s");
	assert_string_equal(out, "unix:///etc/s.sock 2");
	free(out);
	out = ex(&ctx, "%(nope)s");
	assert_string_equal(out, "ERR:Format string '%(nope)s' for 'supervisorctl.serverurl' "
				 "contains names ('nope') which cannot be expanded. Available "
				 "names: ENV_A, ENV_HOME, ENV_ZED, here");
	free(out);
	ctx.here = NULL;
	ctx.option = "supervisorctl.prompt";
	out = ex(&ctx, "%(here)s");
	assert_string_equal(out, "ERR:Format string '%(here)s' for 'supervisorctl.prompt' "
				 "contains names ('here') which cannot be expanded. Available "
				 "names: ENV_A, ENV_HOME, ENV_ZED");
	free(out);
	out = ex(&ctx, "it's 50%");
	assert_string_equal(out, "ERR:Format string \"it's 50%\" for 'supervisorctl.prompt' is "
				 "badly formatted: a '%' at the end: write a literal % as %%");
	free(out);
	out = ex(&ctx, "%(ENV_A)d");
	assert_non_null(strstr(out, "is badly formatted: %(ENV_A)d needs a number"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expansion),
	    cmocka_unit_test(test_output_is_capped),
	    cmocka_unit_test(test_repr_quotes_like_python),
	    cmocka_unit_test(test_supervisorctl_wording),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
