/* deploy.c: grace periods, probe timings, ports, users and names, from stack files in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy.h"
#include "plan.h"
#include "stack.h"

struct fixture {
	struct stack st;
	struct diag d;
};

static struct fixture *load(const char *yaml)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(stack_load_string(&f->st, "t.yaml", yaml, strlen(yaml), &f->d), 0);
	assert_int_equal(plan_resolve(&f->st, &f->d), 0);
	return f;
}

static void unload(struct fixture *f)
{
	stack_free(&f->st);
	diag_free(&f->d);
	free(f);
}

static size_t image_index(const struct stack *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->images[i].name.s, name) == 0)
			return i;
	fail_msg("no image %s", name);
	return 0;
}

static const char *chain = "images:\n"
			   "  base:\n"
			   "    from: debian:bookworm\n"
			   "    expose: [22]\n"
			   "    healthcheck: {interval: 1500ms, timeout: 2s, start_period: 1m, "
			   "retries: 4}\n"
			   "    programs:\n"
			   "      sshd: {command: /usr/sbin/sshd -D}\n" /* stopwaitsecs 10 */
			   "  app/web:1.0:\n"
			   "    from: base\n"
			   "    user: \"1000:1000\"\n"
			   "    deploy: {replicas: 3, ports: [\"8080:80\", \"53/udp\"]}\n"
			   "    groups:\n"
			   "      pool: {programs: [w1, w2]}\n"
			   "    programs:\n"
			   "      w1: {command: /bin/w, stopwaitsecs: 30, startsecs: 90}\n"
			   "      w2: {command: /bin/w, stopwaitsecs: 7}\n"
			   "      cron: {command: /bin/cron, stopwaitsecs: 2}\n";

static void test_grace_sums_each_groups_longest_stopwaitsecs(void **state)
{
	struct fixture *f = load(chain);
	struct deploy_info di;
	assert_int_equal(deploy_info(&f->st, image_index(&f->st, "app/web:1.0"), &di, &f->d), 0);
	/* pool: max(30, 7); cron 2; sshd 10 (the default) */
	assert_int_equal(di.stop_secs, 30 + 2 + 10);
	assert_int_equal(di.grace, 42 + DEPLOY_MARGIN);
	assert_int_equal(di.replicas, 3);
	assert_string_equal(di.name, "app-web");
	assert_string_equal(di.user, "1000:1000");
	/* start: the longer of start_period (60 s) and startsecs (90 s) */
	assert_int_equal(di.startup_secs, 90);
	assert_int_equal(di.interval, 2); /* 1.5 s, rounded up */
	assert_int_equal(di.timeout, 2);
	assert_int_equal(di.retries, 4);
	assert_int_equal(di.nports, 3);
	assert_int_equal(di.ports[0].port, 22);
	assert_int_equal(di.ports[0].published, 0);
	assert_int_equal(di.ports[1].port, 80);
	assert_int_equal(di.ports[1].published, 8080);
	assert_string_equal(di.ports[1].proto, "tcp");
	assert_int_equal(di.ports[2].port, 53);
	assert_string_equal(di.ports[2].proto, "udp");
	deploy_info_free(&di);

	/* the base alone: its own program, no user, one replica */
	assert_int_equal(deploy_info(&f->st, image_index(&f->st, "base"), &di, &f->d), 0);
	assert_int_equal(di.stop_secs, 10);
	assert_int_equal(di.replicas, 1);
	assert_null(di.user);
	assert_int_equal(di.startup_secs, 60);
	deploy_info_free(&di);
	unload(f);
}

static void test_grace_needs_plain_numbers(void **state)
{
	struct fixture *f = load("images:\n"
				 "  a:\n"
				 "    from: debian:bookworm\n"
				 "    programs:\n"
				 "      p: {command: /bin/p, stopwaitsecs: \"%(ENV_WAIT)s\"}\n");
	struct deploy_info di;
	assert_int_equal(deploy_info(&f->st, 0, &di, &f->d), -1);
	assert_int_equal(f->d.errors, 1);
	deploy_info_free(&di);
	unload(f);
}

static void test_no_programs_stop_at_once(void **state)
{
	struct fixture *f = load("images:\n  a: {from: debian:bookworm}\n");
	struct deploy_info di;
	assert_int_equal(deploy_info(&f->st, 0, &di, &f->d), 0);
	assert_int_equal(di.stop_secs, 0);
	assert_int_equal(di.grace, DEPLOY_MARGIN);
	assert_int_equal(di.startup_secs, 10); /* the default start period */
	assert_int_equal(di.interval, 2);
	deploy_info_free(&di);
	unload(f);
}

static void test_durations(void **state)
{
	double s;
	assert_int_equal(duration_secs("1m30s", &s), 0);
	assert_true(s == 90);
	assert_int_equal(duration_secs("500ms", &s), 0);
	assert_true(s == 0.5);
	assert_int_equal(duration_secs("1.5h", &s), 0);
	assert_true(s == 5400);
	assert_int_equal(duration_secs("2", &s), -1);
	assert_int_equal(duration_secs("", &s), -1);
	assert_int_equal(duration_secs("s", &s), -1);
	assert_int_equal(duration_secs("0x10s", &s), -1);
	assert_int_equal(duration_secs("5sm", &s), -1);
}

static void test_names(void **state)
{
	char *n = deploy_name("registry:5000/App_x/shop.api:1.0");
	assert_string_equal(n, "registry-5000-app-x-shop-api");
	free(n);
	n = deploy_name("3d/render_:2");
	assert_string_equal(n, "i-3d-render");
	free(n);
	n = deploy_name("plain");
	assert_string_equal(n, "plain");
	free(n);
	char long_name[100];
	memset(long_name, 'a', 99);
	long_name[99] = '\0';
	long_name[62] = '_'; /* cut at 63, then the '-' it became */
	n = deploy_name(long_name);
	assert_int_equal(strlen(n), 62);
	free(n);
}

/* hardened is inherited down a chain, a child may turn it off, and defaults reach every image;
 * a hardened image with no user runs as HARDENED_USER, one with a user keeps it. */
static void test_hardened_inherited(void **state)
{
	struct fixture *f = load("defaults: {deploy: {capabilities: [NET_BIND_SERVICE]}}\n"
				 "images:\n"
				 "  base: {from: debian:bookworm, hardened: true}\n"
				 "  app: {from: base}\n"
				 "  soft: {from: app, hardened: \"false\"}\n"
				 "  named: {from: base, user: \"2000\"}\n"
				 "  plain: {from: debian:bookworm}\n");
	const char *names[] = {"base", "app", "soft", "named", "plain"};
	const bool want[] = {true, true, false, true, false};
	for (size_t k = 0; k < 5; k++) {
		size_t i = image_index(&f->st, names[k]);
		assert_int_equal(image_hardened(&f->st, i), want[k]);
		struct deploy_info di;
		assert_int_equal(deploy_info(&f->st, i, &di, &f->d), 0);
		assert_int_equal(di.hardened, want[k]);
		if (strcmp(names[k], "named") == 0)
			assert_string_equal(di.user, "2000");
		else if (want[k])
			assert_string_equal(di.user, HARDENED_USER);
		else
			assert_null(di.user);
		deploy_info_free(&di);
		assert_int_equal(f->st.images[i].deploy.capabilities.n, 1);
	}
	unload(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grace_sums_each_groups_longest_stopwaitsecs),
	    cmocka_unit_test(test_grace_needs_plain_numbers),
	    cmocka_unit_test(test_no_programs_stop_at_once),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_hardened_inherited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
