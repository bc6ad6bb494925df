/* count_newlines (AVX2 where the CPU has it) and count_newlines_portable against a byte-by-byte
 * count, on every alignment and length around their word and block boundaries, and on the bytes
 * next to '\n' that a word trick could confuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static size_t slow_count(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

static void counts_like_a_byte_loop(void **state)
{
	(void)state;
	enum { N = 32 * 255 * 2 + 64 }; /* past two blocks of the 32-byte loop */
	static char buf[N + 32];
	/* newlines among their neighbours 0x0b, 0x09, 0x8a (high bit), 0x00 and 0xff */
	static const char alphabet[] = "\n\n\x0b\x09\x8a\x00\xffx";
	unsigned seed = 1;
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
	}
	for (size_t off = 0; off < 32; off++)
		for (size_t n = 0; n + off <= N; n += n < 80 ? 1 : 37) {
			size_t want = slow_count(buf + off, n);
			assert_int_equal(count_newlines(buf + off, n), want);
			assert_int_equal(count_newlines_portable(buf + off, n), want);
		}
}

static void all_newlines_past_a_lane_block(void **state)
{
	(void)state;
	/* more than 255 words of newlines: every lane passes 255 within a block of the loop */
	size_t n = 32 * 255 * 3 + 5;
	char *p = malloc(n);
	assert_non_null(p);
	memset(p, '\n', n);
	assert_int_equal(count_newlines(p, n), n);
	assert_int_equal(count_newlines_portable(p, n), n);
	memset(p, 'a', n);
	assert_int_equal(count_newlines(p, n), 0);
	assert_int_equal(count_newlines_portable(p, n), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_like_a_byte_loop),
	    cmocka_unit_test(all_newlines_past_a_lane_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
