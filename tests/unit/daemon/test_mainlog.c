/* The main log's copy of program output at loglevel debug: supervisord's record, byte for byte
 * (the expected texts are what Python's '%r %s output:\n%s' gives, with supervisord's strict
 * UTF-8 decoding and its 'Undecodable: %r' fallback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mainlog.h"
#include "stdout_sink.h"

static char dir[] = "/tmp/pidvisor-mainlog-XXXXXX";
static char path[256];

static const struct {
	const char *name, *data;
	size_t n;
	const char *record; /* after "<time> DEBG " */
} cases[] = {
    {"web", "hello\012", 6, "'web' stdout output:\012hello\012\012"},
    {"it's", "x", 1, "\"it's\" stdout output:\012x\012"},
    {"a'b\"c", "y", 1, "'a\\'b\"c' stdout output:\012y\012"},
    {"web", "\377\000\011\015\012\\'", 7,
     "'web' stdout output:\012Undecodable: b\"\\xff\\x00\\t\\r\\n\\\\'\"\012"},
    {"web", "\300\257", 2, "'web' stdout output:\012Undecodable: b'\\xc0\\xaf'\012"},
    {"web", "\355\240\200", 3, "'web' stdout output:\012Undecodable: b'\\xed\\xa0\\x80'\012"},
    {"web", "\364\220\200\200", 4,
     "'web' stdout output:\012Undecodable: b'\\xf4\\x90\\x80\\x80'\012"},
    {"web", "\303\251\344\270\255\360\237\230\200", 9,
     "'web' stdout output:\012\303\251\344\270\255\360\237\230\200\012"},
    {"web", "\177", 1, "'web' stdout output:\012\177\012"},
    {"caf\303\251", "z", 1, "'caf\303\251' stdout output:\012z\012"},
    {"web", "'\"", 2, "'web' stdout output:\012'\"\012"},
    {"web", "\344\270", 2, "'web' stdout output:\012Undecodable: b'\\xe4\\xb8'\012"},
    {"a\302\205b\177\tc", "z", 1, "'a\\x85b\\x7f\\tc' stdout output:\012z\012"},
    {"web", "\377'\"", 3, "'web' stdout output:\012Undecodable: b'\\xff\\'\"'\012"},
};

static char *slurp(size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char data[64 * 1024];
	*n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return data;
}

static void open_log(int level)
{
	struct supervisord_conf sd = {.logfile = path, .loglevel = level};
	char *err = NULL;
	unlink(path);
	assert_int_equal(log_open(&sd, false, &err), 0);
}

static void test_records_as_supervisord_writes_them(void **state)
{
	(void)state;
	open_log(LOG_LEVEL_DEBUG);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		log_child_output(cases[i].name, "stdout", cases[i].data, cases[i].n);
	log_child_output("web", "stderr", "", 0); /* nothing read: no record */
	log_close();
	size_t n, at = 0;
	const char *got = slurp(&n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].record);
		/* "2026-11-23 22:50:00,123 DEBG " */
		assert_true(at + 29 + len <= n);
		assert_memory_equal(got + at + 19, ",", 1);
		assert_memory_equal(got + at + 23, " DEBG ", 6);
		assert_memory_equal(got + at + 29, cases[i].record, len);
		at += 29 + len;
	}
	assert_int_equal(at, n);
}

static void test_nothing_above_debug(void **state)
{
	(void)state;
	open_log(LOG_LEVEL_INFO);
	log_child_output("web", "stdout", "hello\n", 6);
	assert_null(log_copy_sink()); /* a file only: nobody to wait for */
	log_close();
	size_t n;
	slurp(&n);
	assert_int_equal(n, 0);
}

static void test_copy_sink_is_stdout_in_the_foreground(void **state)
{
	(void)state;
	struct supervisord_conf sd = {.logfile = path, .loglevel = LOG_LEVEL_DEBUG};
	char *err = NULL;
	assert_int_equal(log_open(&sd, true, &err), 0);
	assert_ptr_equal(log_copy_sink(), sink_stdout());
	log_close();
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/main.log", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_as_supervisord_writes_them),
	    cmocka_unit_test(test_nothing_above_debug),
	    cmocka_unit_test(test_copy_sink_is_stdout_in_the_foreground),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
