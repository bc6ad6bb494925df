/* client_config: supervisorctl's reading of [supervisorctl] (expansions,
 * comments, continuation lines), the [unix_http_server] fallback, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_config.h"

static char dir[64];

static const char *write_conf(const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/supervisord.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pidvisor-cc-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/supervisord.conf", dir);
	unlink(path);
	return rmdir(dir);
}

static void test_supervisorctl_section(void **state)
{
	(void)state;
	setenv("PV_TEST_USER", "alice", 1);
	const char *path =
	    write_conf("; comment\n"
		       "[supervisorctl]\n"
		       "SERVERURL = unix://%(here)s/../x/./sup.sock ; inline comment\n"
		       "username: %(ENV_PV_TEST_USER)s\n"
		       "password = pa;ss\n"
		       "prompt = my%%prompt\n"
		       "  continued\n"
		       "[Supervisorctl]\n"
		       "serverurl = unix:///ignored\n");
	struct client_config cfg;
	char err[512];
	assert_true(client_config_load(path, "x", &cfg, err, sizeof(err)));
	char want[128];
	snprintf(want, sizeof(want), "unix:///tmp/x/sup.sock");
	assert_string_equal(cfg.serverurl, want);
	assert_string_equal(cfg.username, "alice");
	assert_string_equal(cfg.password, "pa;ss"); /* ';' needs whitespace before it */
	assert_string_equal(cfg.prompt, "my%prompt\ncontinued");
	client_config_free(&cfg);
}

static void test_fallback_and_errors(void **state)
{
	(void)state;
	struct client_config cfg;
	char err[8192];
	const char *path = write_conf("[unix_http_server]\nfile=%(here)s/s.sock\n");
	assert_true(client_config_load(path, "x", &cfg, err, sizeof(err)));
	char want[128];
	snprintf(want, sizeof(want), "unix://%s/s.sock", dir);
	assert_string_equal(cfg.serverurl, want);
	assert_null(cfg.username);
	client_config_free(&cfg);

	path = write_conf("[supervisord]\n");
	assert_false(client_config_load(path, "x", &cfg, err, sizeof(err)));
	assert_string_equal(err, ".ini file does not include supervisorctl section");

	path = write_conf("[supervisorctl]\nprompt=%(here)s\n");
	assert_false(client_config_load(path, "x", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err,
			       "Format string '%(here)s' for 'supervisorctl.prompt' contains "
			       "names ('here') which cannot be expanded. Available names: ENV_"));

	/* the daemon's expander, with supervisorctl's conversions and wording */
	setenv("PV_TEST_USER", "alice", 1);
	path = write_conf("[supervisorctl]\nusername=%(ENV_PV_TEST_USER)r%(ENV_PV_TEST_USER)7s\n");
	assert_true(client_config_load(path, "x", &cfg, err, sizeof(err)));
	assert_string_equal(cfg.username, "'alice'  alice");
	client_config_free(&cfg);
	path = write_conf("[supervisorctl]\nprompt=50%\n");
	assert_false(client_config_load(path, "x", &cfg, err, sizeof(err)));
	assert_string_equal(err, "Format string '50%' for 'supervisorctl.prompt' is badly "
				 "formatted: a '%' at the end: write a literal % as %%");

	path = write_conf("key=value\n");
	assert_false(client_config_load(path, "x", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: key 'key' before any [section] header"));

	assert_false(client_config_load("/nonexistent/x.conf", "x", &cfg, err, sizeof(err)));
	assert_string_equal(err, "could not find config file /nonexistent/x.conf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supervisorctl_section),
	    cmocka_unit_test(test_fallback_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
