/* The `schedule` key's parser and next-run computation (schedule_expr.c), in UTC and in zones
 * with daylight saving time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule_expr.h"

extern char **environ;

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return timegm(&tm);
}

static struct schedule_expr parsed(const char *s)
{
	struct schedule_expr e;
	const char *why = NULL;
	if (schedule_parse(s, &e, &why) != 0)
		fail_msg("'%s': %s", s, why);
	return e;
}

/* the first due time after `from` in `zone`, and the two after it */
static void assert_next_in(const char *zone, const char *expr, time_t from, time_t a, time_t b,
			   time_t c)
{
	struct schedule_expr e = parsed(expr);
	time_t t1 = schedule_next(&e, from, zone);
	time_t t2 = schedule_next(&e, t1, zone);
	time_t t3 = schedule_next(&e, t2, zone);
	assert_int_equal(t1, a);
	assert_int_equal(t2, b);
	assert_int_equal(t3, c);
}

/* the same in UTC */
static void assert_next(const char *expr, time_t from, time_t a, time_t b, time_t c)
{
	assert_next_in("UTC", expr, from, a, b, c);
}

static void test_fields(void **state)
{
	struct schedule_expr e = parsed("5 4 * * *");
	assert_true(e.set);
	assert_int_equal(e.every, 0);
	assert_true(e.minute == 1ULL << 5);
	assert_true(e.hour == 1U << 4);
	assert_true(e.mday == 0xfffffffeU);
	assert_true(e.month == 0x1ffe);
	assert_true(e.wday == 0x7f);
	assert_true(e.mday_star && e.wday_star);
	e = parsed("0,15,30,45 9-17 1-10/2 */3 1-5");
	assert_true(e.minute == (1ULL | 1ULL << 15 | 1ULL << 30 | 1ULL << 45));
	assert_int_equal(e.hour, 0x3fe00);
	assert_int_equal(e.mday, 1 << 1 | 1 << 3 | 1 << 5 | 1 << 7 | 1 << 9);
	assert_int_equal(e.month, 1 << 1 | 1 << 4 | 1 << 7 | 1 << 10);
	assert_int_equal(e.wday, 0x3e);
	assert_false(e.mday_star || e.wday_star);
	/* N/STEP runs to the field's end; 7 is Sunday */
	e = parsed("50/5 * * * 7");
	assert_true(e.minute == (1ULL << 50 | 1ULL << 55));
	assert_int_equal(e.wday, 1);
	/* empty: no schedule */
	e = parsed("");
	assert_false(e.set);
}

static void test_names(void **state)
{
	struct schedule_expr e = parsed("0 0 * JAN,mar-may sun,Fri");
	assert_int_equal(e.month, 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5);
	assert_int_equal(e.wday, 1 << 0 | 1 << 5);
	e = parsed("0 0 * * mon-fri");
	assert_int_equal(e.wday, 0x3e);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
	    "* * * *",	     "* * * * * *",   "60 * * * *",  "* 24 * * *",   "* * 0 * *",
	    "* * 32 * *",    "* * * 13 *",    "* * * * 8",   "5-1 * * * *",  "*/0 * * * *",
	    "*/61 * * * *",  "1,,2 * * * *",  "1, * * * *",  "a * * * *",    "* * * janu *",
	    "* * * * xyz",   "1-2-3 * * * *", "@often",	     "@every",	     "@every 0s",
	    "@every 5",	     "@every 5x",     "@every 367d", "@every 1s 2s", "@daily x",
	    "*/5/2 * * * *",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct schedule_expr e;
		const char *why = NULL;
		if (schedule_parse(bad[i], &e, &why) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(why);
	}
}

static void test_macros_and_every(void **state)
{
	struct schedule_expr d = parsed("@daily"), m = parsed("0 0 * * *");
	assert_memory_equal(&d, &m, sizeof(d));
	assert_next("@hourly", utc(2026, 12, 5, 13, 10), utc(2026, 12, 5, 14, 0),
		    utc(2026, 12, 5, 15, 0), utc(2026, 12, 5, 16, 0));
	assert_next("@weekly", utc(2026, 12, 5, 13, 10), utc(2026, 12, 6, 0, 0),
		    utc(2026, 12, 13, 0, 0), utc(2026, 12, 20, 0, 0));
	assert_next("@yearly", utc(2026, 12, 5, 13, 10), utc(2027, 1, 1, 0, 0),
		    utc(2028, 1, 1, 0, 0), utc(2029, 1, 1, 0, 0));
	assert_int_equal(parsed("@every 30s").every, 30);
	assert_int_equal(parsed("@every 5m").every, 300);
	assert_int_equal(parsed("@every 1h30m").every, 5400);
	assert_int_equal(parsed("@EVERY   2d").every, 2 * 86400);
	struct schedule_expr e = parsed("@every 90s");
	assert_int_equal(schedule_next(&e, 1000, "UTC"), 1090);
}

static void test_next_runs(void **state)
{
	/* strictly after: a due minute itself is not due again */
	assert_next("*/15 * * * *", utc(2026, 12, 5, 13, 15), utc(2026, 12, 5, 13, 30),
		    utc(2026, 12, 5, 13, 45), utc(2026, 12, 5, 14, 0));
	assert_next("*/15 * * * *", utc(2026, 12, 5, 13, 15) + 59, utc(2026, 12, 5, 13, 30),
		    utc(2026, 12, 5, 13, 45), utc(2026, 12, 5, 14, 0));
	/* across a month's end, a year's end, and months without a 31st */
	assert_next("30 23 31 * *", utc(2026, 12, 31, 23, 30), utc(2027, 1, 31, 23, 30),
		    utc(2027, 3, 31, 23, 30), utc(2027, 5, 31, 23, 30));
	assert_next("0 0 1 * *", utc(2027, 1, 31, 23, 59), utc(2027, 2, 1, 0, 0),
		    utc(2027, 3, 1, 0, 0), utc(2027, 4, 1, 0, 0));
	/* 29 February: leap years only (2100 is not one) */
	assert_next("0 12 29 feb *", utc(2026, 12, 5, 0, 0), utc(2028, 2, 29, 12, 0),
		    utc(2032, 2, 29, 12, 0), utc(2036, 2, 29, 12, 0));
	assert_next("0 0 29 2 *", utc(2096, 3, 1, 0, 0), utc(2104, 2, 29, 0, 0),
		    utc(2108, 2, 29, 0, 0), utc(2112, 2, 29, 0, 0));
	/* hours and minutes lists */
	assert_next("10,20 8-9 * * *", utc(2026, 12, 5, 9, 15), utc(2026, 12, 5, 9, 20),
		    utc(2026, 12, 6, 8, 10), utc(2026, 12, 6, 8, 20));
}

static void test_both_day_fields(void **state)
{
	/* both restricted: the 13th, or any Friday (5 December 2026 is a Saturday) */
	assert_next("0 0 13 * fri", utc(2026, 12, 5, 0, 0), utc(2026, 12, 11, 0, 0),
		    utc(2026, 12, 13, 0, 0), utc(2026, 12, 18, 0, 0));
	/* one restricted: that one alone */
	assert_next("0 0 * * fri", utc(2026, 12, 5, 0, 0), utc(2026, 12, 11, 0, 0),
		    utc(2026, 12, 18, 0, 0), utc(2026, 12, 25, 0, 0));
	assert_next("0 0 13 * *", utc(2026, 12, 5, 0, 0), utc(2026, 12, 13, 0, 0),
		    utc(2027, 1, 13, 0, 0), utc(2027, 2, 13, 0, 0));
	/* a step on '*' still counts as '*' for the rule, as in cron: else this is every day */
	assert_next("0 0 13 * */1", utc(2026, 12, 5, 0, 0), utc(2026, 12, 13, 0, 0),
		    utc(2027, 1, 13, 0, 0), utc(2027, 2, 13, 0, 0));
	/* 30 February never comes */
	struct schedule_expr e = parsed("0 0 30 2 *");
	assert_int_equal(schedule_next(&e, utc(2026, 1, 1, 0, 0), "UTC"), -1);
}

static void test_zones(void **state)
{
	/* Paris is UTC+1, and UTC+2 from 29 March to 25 October 2026 */
	assert_next_in("Europe/Paris", "30 2 * * *", utc(2026, 1, 10, 12, 0),
		       utc(2026, 1, 11, 1, 30), utc(2026, 1, 12, 1, 30), utc(2026, 1, 13, 1, 30));
	assert_next_in("Europe/Paris", "0 9 * * *", utc(2026, 7, 1, 12, 0), utc(2026, 7, 2, 7, 0),
		       utc(2026, 7, 3, 7, 0), utc(2026, 7, 4, 7, 0));
	assert_next_in("America/New_York", "0 9 * * mon", utc(2026, 12, 5, 0, 0),
		       utc(2026, 12, 7, 14, 0), utc(2026, 12, 14, 14, 0), utc(2026, 12, 21, 14, 0));
	assert_next_in("Asia/Kolkata", "15 6 1 * *", utc(2026, 12, 5, 0, 0), utc(2027, 1, 1, 0, 45),
		       utc(2027, 2, 1, 0, 45), utc(2027, 3, 1, 0, 45));
}

static void test_spring_forward(void **state)
{
	/* 29 March 2026, 02:00 CET becomes 03:00 CEST: 02:30 that day does not exist and does not
	 * run */
	assert_next_in("Europe/Paris", "30 2 * * *", utc(2026, 3, 28, 12, 0),
		       utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30), utc(2026, 4, 1, 0, 30));
	/* hourly: 01:00 CET, then 03:00 and 04:00 CEST */
	assert_next_in("Europe/Paris", "0 * * * *", utc(2026, 3, 28, 23, 30),
		       utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0));
	/* New York: 8 March 2026, 02:00 EST becomes 03:00 EDT */
	assert_next_in("America/New_York", "30 2 * * *", utc(2026, 3, 7, 12, 0),
		       utc(2026, 3, 9, 6, 30), utc(2026, 3, 10, 6, 30), utc(2026, 3, 11, 6, 30));
}

static void test_fall_back(void **state)
{
	/* 25 October 2026, 03:00 CEST becomes 02:00 CET: 02:30 comes twice and runs at the first
	 * (00:30 UTC) only */
	assert_next_in("Europe/Paris", "30 2 * * *", utc(2026, 10, 24, 12, 0),
		       utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
		       utc(2026, 10, 27, 1, 30));
	/* hourly: 02:00 CEST (00:00 UTC), not 02:00 CET (01:00 UTC), then 03:00 CET */
	assert_next_in("Europe/Paris", "0 * * * *", utc(2026, 10, 24, 23, 30),
		       utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0), utc(2026, 10, 25, 3, 0));
	/* from inside the repeated hour (02:10 CET): 02:30 ran already, at its first instant */
	struct schedule_expr e = parsed("30 2 * * *");
	assert_int_equal(schedule_next(&e, utc(2026, 10, 25, 1, 10), "Europe/Paris"),
			 utc(2026, 10, 26, 1, 30));
}

static void test_zone_leaves_the_process_alone(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	char **env = environ;
	struct schedule_expr e = parsed("0 9 * * *");
	assert_int_equal(schedule_next(&e, utc(2026, 12, 5, 0, 0), "Asia/Tokyo"),
			 utc(2026, 12, 5, 0, 0) + 86400);
	char buf[64];
	schedule_format(utc(2026, 7, 1, 12, 0), "Europe/Paris", "%H:%M %Z", buf, sizeof(buf));
	assert_string_equal(buf, "14:00 CEST");
	/* the process's own zone and environment are as they were */
	assert_true(environ == env);
	assert_string_equal(getenv("TZ"), "UTC");
	time_t t = utc(2026, 7, 1, 12, 0);
	struct tm tm;
	localtime_r(&t, &tm);
	assert_int_equal(tm.tm_hour, 12);
	unsetenv("TZ");
}

static void test_zone_names(void **state)
{
	assert_int_equal(schedule_zone_check("Europe/Paris"), 0);
	assert_int_equal(schedule_zone_check("UTC"), 0);
	assert_int_equal(schedule_zone_check("Europe/Nowhere"), -1);
	assert_int_equal(schedule_zone_check("Europe"), -1); /* a directory */
	assert_int_equal(schedule_zone_check("../../../etc/passwd"), -1);
	assert_int_equal(schedule_zone_check("/etc/localtime"), -1);
	assert_int_equal(schedule_zone_check(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),     cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bad),	       cmocka_unit_test(test_macros_and_every),
	    cmocka_unit_test(test_next_runs),  cmocka_unit_test(test_both_day_fields),
	    cmocka_unit_test(test_zones),      cmocka_unit_test(test_spring_forward),
	    cmocka_unit_test(test_fall_back),  cmocka_unit_test(test_zone_leaves_the_process_alone),
	    cmocka_unit_test(test_zone_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
