/* The key tables (keys.c) and the per-type rows (keytypes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "keys.h"
#include "keytypes.h"

static const char *const known[] = {"supervisord",  "program:x",	"group:x",
				    "include",	    "unix_http_server", "inet_http_server",
				    "supervisorctl"};

static void test_every_key_is_unique_typed_and_parsable(void **state)
{
	for (size_t s = 0; s < sizeof(known) / sizeof(known[0]); s++) {
		const struct section_def *def = section_of(known[s]);
		assert_non_null(def);
		assert_true(section_nkeys(def) > 0);
		for (size_t i = 0; i < section_nkeys(def); i++) {
			const struct keydef *k = section_key(def, i);
			assert_true(k->type < K_NTYPES);
			assert_non_null(ktype_ops(k->type)->parse);
			assert_ptr_equal(section_find_key(def, k->name), k); /* no name twice */
			assert_string_equal(config_key_name(known[s], i), k->name);
			/* a default parses as its own type */
			if (k->dflt && !strchr(k->dflt, '%') && k->type != K_LOGFILE) {
				_Alignas(16) char dst[512] = {0};
				assert_true(ktype_ops(k->type)->size <= sizeof(dst));
				char *why = NULL;
				if (ktype_ops(k->type)->parse(k, k->dflt, dst, &why) != 0)
					fail_msg("[%s] %s: default '%s': %s", known[s], k->name,
						 k->dflt, why);
				if (ktype_ops(k->type)->free)
					ktype_ops(k->type)->free(dst);
			}
		}
		assert_null(config_key_name(known[s], section_nkeys(def)));
	}
}

static void test_sections_by_name(void **state)
{
	assert_int_equal(section_of("program:web")->kind, SEC_PROGRAM);
	assert_null(section_of("program:")); /* a prefix needs a name after it */
	assert_null(section_of("Program:web"));
	assert_null(section_of("supervisordx"));
	assert_null(section_of("eventlistener:e")->skipped);
	assert_non_null(section_find_key(section_of("eventlistener:e"), "buffer_size"));
	assert_non_null(section_find_key(section_of("eventlistener:e"), "stdout_logfile"));
	assert_null(section_find_key(section_of("eventlistener:e"), "socket"));
	assert_non_null(section_find_key(section_of("fcgi-program:f"), "socket_mode"));
	assert_non_null(section_of("ctlplugin:p")->skipped);
	assert_null(section_of("rpcinterface:supervisor")->keys);
	assert_ptr_equal(section_by_kind(SEC_INET), section_of("inet_http_server"));
}

/* the connection limits are one table that both servers list, after their own keys */
static void test_server_limit_keys_are_shared(void **state)
{
	const struct section_def *u = section_of("unix_http_server"),
				 *in = section_of("inet_http_server");
	assert_non_null(u->shared);
	assert_ptr_equal(u->shared, in->shared);
	assert_int_equal(u->nshared, 8);
	assert_ptr_equal(section_find_key(u, "max_connections"),
			 section_find_key(in, "max_connections"));
	assert_null(section_find_key(in, "chmod"));
	assert_string_equal(section_key(u, u->nkeys)->name, "max_connections");
	assert_null(section_key(u, section_nkeys(u)));
}

static int parse(const char *section, const char *key, const char *v, void *dst, char **why)
{
	const struct keydef *k = section_find_key(section_of(section), key);
	assert_non_null(k);
	return ktype_ops(k->type)->parse(k, v, dst, why);
}

static void test_type_rows(void **state)
{
	char *why = NULL;
	long long n;
	int i;
	uint64_t set;
	char *s;
	assert_int_equal(parse("program:x", "startsecs", "5", &n, &why), 0);
	assert_int_equal(n, 5);
	assert_int_equal(parse("program:x", "numprocs", "0", &n, &why), -1);
	assert_string_equal(why, "'0' is not an integer from 1 to 100000");
	free(why);
	assert_int_equal(parse("program:x", "umask", "", &i, &why), 0);
	assert_int_equal(i, -1);
	assert_int_equal(parse("program:x", "umask", "027", &i, &why), 0);
	assert_int_equal(i, 027);
	assert_int_equal(parse("program:x", "forward_signals", "USR1, hup", &set, &why), 0);
	assert_int_equal(set, (1ULL << 10) | (1ULL << 1));
	assert_int_equal(parse("program:x", "forward_signals", "USR1,NOPE", &set, &why), -1);
	assert_string_equal(why, "'NOPE' is not a signal name or number");
	free(why);
	assert_int_equal(parse("program:x", "stdout_logfile", "off", &s, &why), 0);
	assert_null(s);
	assert_int_equal(parse("program:x", "stdout_logfile", "Syslog", &s, &why), 0);
	assert_string_equal(s, "syslog");
	free(s);
	assert_int_equal(parse("program:x", "stdout_logfile", "/no/such/dir/x.log", &s, &why), -1);
	assert_string_equal(why, "the directory of '/no/such/dir/x.log' does not exist");
	free(why);
	assert_int_equal(parse("supervisord", "loglevel", "WARNING", &i, &why), 0);
	assert_int_equal(i, LOG_LEVEL_WARN);
	assert_string_equal(loglevel_name(i), "warn");
	assert_int_equal(parse("supervisord", "log_format", "JSON", &i, &why), 0);
	assert_int_equal(i, LOG_FORMAT_JSON);
	assert_int_equal(parse("program:x", "user", "no-such-user-here", &s, &why), -1);
	assert_string_equal(why, "no such user 'no-such-user-here' in /etc/passwd");
	free(why);
	double d;
	assert_int_equal(parse("program:x", "healthcheck_interval", "1.5s", &d, &why), 0);
	assert_true(d == 1.5);
	assert_int_equal(parse("program:x", "healthcheck_interval", "250ms", &d, &why), 0);
	assert_true(d == 0.25);
	assert_int_equal(parse("program:x", "healthcheck_start_period", "2m", &d, &why), 0);
	assert_true(d == 120);
	assert_int_equal(parse("program:x", "healthcheck_interval", "10x", &d, &why), -1);
	free(why);
	assert_int_equal(parse("program:x", "healthcheck_interval", "50ms", &d, &why), -1);
	assert_non_null(strstr(why, "from 0.1s"));
	free(why);
	assert_int_equal(parse("program:x", "watchdog_sec", "30", &d, &why), 0);
	assert_true(d == 30);
	assert_int_equal(parse("program:x", "watchdog_sec", "0", &d, &why), 0);
	assert_true(d == 0);
	assert_int_equal(parse("program:x", "watchdog_sec", "-1", &d, &why), -1);
	free(why);
	struct health_spec h;
	assert_int_equal(parse("program:x", "healthcheck", "http://127.0.0.1:8080/ready", &h, &why),
			 0);
	assert_int_equal(h.kind, HEALTH_HTTP);
	assert_string_equal(h.host, "127.0.0.1:8080");
	assert_string_equal(h.path, "/ready");
	ktype_ops(K_HEALTHCHECK)->free(&h);
	assert_int_equal(parse("program:x", "healthcheck", "http://localhost", &h, &why), 0);
	assert_string_equal(h.path, "/");
	ktype_ops(K_HEALTHCHECK)->free(&h);
	assert_int_equal(parse("program:x", "healthcheck", "tcp:[::1]:5432", &h, &why), 0);
	assert_int_equal(h.kind, HEALTH_TCP);
	assert_null(h.name);
	ktype_ops(K_HEALTHCHECK)->free(&h);
	/* a name is kept for the checks to look up, not looked up at load */
	assert_int_equal(parse("program:x", "healthcheck", "http://db.invalid:81/up", &h, &why), 0);
	assert_string_equal(h.name, "db.invalid");
	assert_string_equal(h.port, "81");
	ktype_ops(K_HEALTHCHECK)->free(&h);
	assert_int_equal(parse("program:x", "healthcheck", "tcp:db.invalid:99999", &h, &why), -1);
	assert_non_null(strstr(why, "not a port number"));
	free(why);
	ktype_ops(K_HEALTHCHECK)->free(&h);
	assert_int_equal(parse("program:x", "healthcheck", "cmd:pg_isready -q", &h, &why), 0);
	assert_int_equal(h.argv.n, 2);
	assert_string_equal(h.argv.v[0], "pg_isready");
	ktype_ops(K_HEALTHCHECK)->free(&h);
	static const char *const bad_checks[] = {"tcp:5432", "cmd:", "ftp://x/", "http://:80/",
						 "tcp:host:notaport"};
	for (size_t b = 0; b < sizeof(bad_checks) / sizeof(bad_checks[0]); b++) {
		if (parse("program:x", "healthcheck", bad_checks[b], &h, &why) == 0)
			fail_msg("healthcheck '%s' was accepted", bad_checks[b]);
		ktype_ops(K_HEALTHCHECK)->free(&h);
		free(why);
	}
	assert_int_equal(parse("program:x", "shutdown_on", "Unexpected", &i, &why), 0);
	assert_int_equal(i, SHUTDOWN_UNEXPECTED);
	assert_int_equal(parse("program:x", "on_unhealthy", "restart", &i, &why), 0);
	assert_int_equal(i, UNHEALTHY_RESTART);
	assert_true(ktype_ops(K_UMASK)->unset_is_minus_one);
	assert_false(ktype_ops(K_INT)->unset_is_minus_one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_key_is_unique_typed_and_parsable),
	    cmocka_unit_test(test_sections_by_name),
	    cmocka_unit_test(test_server_limit_keys_are_shared),
	    cmocka_unit_test(test_type_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
