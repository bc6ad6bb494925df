#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "utf8.h"

/* Well-formed UTF-8 only: no overlongs, surrogates, code points past U+10FFFF, cut sequences. */
static void test_utf8_char(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len, want;
	} cases[] = {
	    {"a", 1, 1},
	    {"\xC3\xA9", 2, 2},
	    {"\xE4\xB8\xAD", 3, 3},
	    {"\xF0\x9F\x98\x80", 4, 4},
	    {"\xC3", 1, 0},
	    {"\xE4\xB8", 2, 0},
	    {"\xC0\xAF", 2, 0},
	    {"\xE0\x80\xAF", 3, 0},
	    {"\xED\xA0\x80", 3, 0},
	    {"\xF4\x90\x80\x80", 4, 0},
	    {"\xF5\x80\x80\x80", 4, 0},
	    {"\x80", 1, 0},
	    {"\xE4\x41\xAD", 3, 0},
	    {"", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(utf8_char(cases[i].s, cases[i].len), cases[i].want);
}

/* Only the start of a character the missing bytes could finish is cut. */
static void test_utf8_cut(void **state)
{
	(void)state;
	assert_int_equal(utf8_cut("ab", 2), 0);
	assert_int_equal(utf8_cut("a\xC3\xA9", 3), 0);
	assert_int_equal(utf8_cut("a\xC3", 2), 1);
	assert_int_equal(utf8_cut("a\xE4\xB8", 3), 2);
	assert_int_equal(utf8_cut("a\xF0\x9F\x98", 4), 3);
	assert_int_equal(utf8_cut("\xF0\x9F\x98\x80", 4), 0);
	/* garbage stays, to be replaced: not the start of any character */
	assert_int_equal(utf8_cut("a\xC0", 2), 0);
	assert_int_equal(utf8_cut("a\xE0\x80", 3), 0);
	assert_int_equal(utf8_cut("a\xF5", 2), 0);
	assert_int_equal(utf8_cut("a\x80\x80\x80", 4), 0);
	assert_int_equal(utf8_cut("", 0), 0);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("caf\xC3\xA9 \xF0\x9F\x98\x80", 10));
	assert_false(utf8_valid("caf\xC3", 4));	     /* cut */
	assert_false(utf8_valid("\xED\xA0\x80", 3)); /* a surrogate */
	assert_false(utf8_valid("\xC0\xAF", 2));     /* overlong */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_char),
	    cmocka_unit_test(test_utf8_cut),
	    cmocka_unit_test(test_utf8_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
