/* buf_put_int against printf's "%lld": the extremes, around every power of ten, and at a cap. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "buf.h"

static void expect_like_printf(long long i)
{
	char want[32];
	snprintf(want, sizeof(want), "%lld", i);
	struct buf b = {0};
	assert_true(buf_put_int(&b, i));
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void writes_what_printf_writes(void **state)
{
	(void)state;
	expect_like_printf(0);
	expect_like_printf(LLONG_MIN);
	expect_like_printf(LLONG_MAX);
	for (long long p = 1; p <= LLONG_MAX / 10; p *= 10)
		for (long long d = -1; d <= 1; d++) {
			expect_like_printf(p + d);
			expect_like_printf(-(p + d));
		}
}

static void a_capped_buffer_fails(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 3);
	assert_true(buf_put_int(&b, 123));
	assert_false(buf_put_int(&b, 4));
	assert_true(b.failed);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(writes_what_printf_writes),
	    cmocka_unit_test(a_capped_buffer_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
