/* What /proc says about a process, parsed from texts as the kernel writes them: stat (a command
 * name with spaces and parentheses), status and smaps_rollup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "resources.h"

/* utime 1200, stime 300, cutime 40, cstime 10, 7 threads */
static const char stat_text[] =
    "4242 (my (odd) app) S 17 4242 4242 0 -1 4194560 12061 3340 0 0 1200 300 40 10 20 0 7 0 "
    "1357 173228032 3921 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 "
    "0\n";

static const char status_text[] = "Name:\tpython3\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "VmPeak:\t  172808 kB\n"
				  "VmRSS:\t   15684 kB\n"
				  "RssAnon:\t    7116 kB\n"
				  "Threads:\t7\n";

static const char smaps_rollup_text[] =
    "55d4c5a9e000-7ffc1b9fd000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:               15684 kB\n"
    "Pss:                9321 kB\n"
    "Pss_Anon:           7104 kB\n"
    "Shared_Clean:       8400 kB\n"
    "Private_Dirty:      7116 kB\n";

static void test_stat(void **state)
{
	struct res_stat st;
	(void)state;
	assert_int_equal(res_parse_stat(stat_text, &st), 0);
	assert_int_equal(st.ppid, 17);
	assert_int_equal(st.ticks, 1500);
	assert_int_equal(st.child_ticks, 50);
	assert_int_equal(st.threads, 7);
}

static void test_stat_malformed(void **state)
{
	struct res_stat st;
	(void)state;
	assert_int_equal(res_parse_stat("", &st), -1);
	assert_int_equal(res_parse_stat("4242 (no closing S 1 2 3", &st), -1);
	assert_int_equal(res_parse_stat("4242 (short) S 17 4242\n", &st), -1);
}

static void test_kb_lines(void **state)
{
	(void)state;
	assert_int_equal(res_parse_kb(status_text, "VmRSS"), 15684LL * 1024);
	assert_int_equal(res_parse_kb(smaps_rollup_text, "Rss"), 15684LL * 1024);
	/* "Pss" is not "Pss_Anon", and a key must start its line */
	assert_int_equal(res_parse_kb(smaps_rollup_text, "Pss"), 9321LL * 1024);
	assert_int_equal(res_parse_kb(smaps_rollup_text, "Anon"), -1);
	/* a kernel thread's status has no VmRSS; Threads has no kB */
	assert_int_equal(res_parse_kb("Name:\tkthreadd\nThreads:\t1\n", "VmRSS"), -1);
	assert_int_equal(res_parse_kb(status_text, "Threads"), -1);
	assert_int_equal(res_parse_kb("VmRSS:\tlots kB\n", "VmRSS"), -1);
	assert_int_equal(res_parse_kb("", "Rss"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat),
	    cmocka_unit_test(test_stat_malformed),
	    cmocka_unit_test(test_kb_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
