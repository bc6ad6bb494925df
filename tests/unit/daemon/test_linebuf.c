/* Line framing: whole lines out in one unit per read, partial lines kept, long lines in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linebuf.h"

/* What a read would bring: appended as far as there is room; returns bytes taken. */
static size_t feed(struct linebuf *lb, const char *s, size_t n)
{
	size_t room;
	char *at = linebuf_space(lb, LINEBUF_READ, &room);
	assert_non_null(at);
	if (n > room)
		n = room;
	memcpy(at, s, n);
	linebuf_added(lb, n);
	return n;
}

/* The next unit as a string (freed by the caller), or NULL when none is ready. */
static char *next(struct linebuf *lb, bool *partial)
{
	size_t n = linebuf_next(lb, partial);
	if (n == 0)
		return NULL;
	char *s = malloc(n + 1);
	memcpy(s, lb->data, n);
	s[n] = '\0';
	linebuf_consume(lb, n);
	return s;
}

static void many_lines_per_read_go_out_as_one_unit(void **state)
{
	(void)state;
	struct linebuf lb = {0};
	bool partial;
	feed(&lb, "one\ntwo\nthree\nfo", 16);
	char *u = next(&lb, &partial);
	assert_string_equal(u, "one\ntwo\nthree\n");
	assert_false(partial);
	free(u);
	assert_null(next(&lb, &partial)); /* "fo" waits for its end */
	assert_int_equal(lb.len, 2);
	linebuf_free(&lb);
}

static void a_partial_line_is_completed_by_later_reads(void **state)
{
	(void)state;
	struct linebuf lb = {0};
	bool partial;
	feed(&lb, "hel", 3);
	assert_null(next(&lb, &partial));
	feed(&lb, "lo wor", 6);
	assert_null(next(&lb, &partial));
	feed(&lb, "ld\nnext", 7);
	char *u = next(&lb, &partial);
	assert_string_equal(u, "hello world\n");
	assert_false(partial);
	free(u);
	assert_int_equal(lb.len, 4);
	assert_memory_equal(lb.data, "next", 4);
	linebuf_free(&lb);
}

static void an_empty_line_is_a_line(void **state)
{
	(void)state;
	struct linebuf lb = {0};
	bool partial;
	feed(&lb, "\n\n", 2);
	char *u = next(&lb, &partial);
	assert_string_equal(u, "\n\n");
	free(u);
	assert_null(next(&lb, &partial));
	linebuf_free(&lb);
}

/* A line longer than max goes out in max-sized pieces marked partial; its end is a whole unit. */
static void a_long_line_goes_out_in_marked_pieces(void **state)
{
	(void)state;
	struct linebuf lb = {.max = 256 * 1024};
	bool partial;
	size_t total = 600 * 1024;
	char *line = malloc(total + 1);
	memset(line, 'a', total);
	line[total] = '\n';
	size_t fed = 0, pieces = 0, out = 0;
	char *u;
	while (fed < total + 1) {
		fed += feed(&lb, line + fed, total + 1 - fed);
		while ((u = next(&lb, &partial))) {
			size_t n = strlen(u);
			if (partial) {
				assert_int_equal(n, 256 * 1024);
				pieces++;
			} else {
				assert_int_equal(u[n - 1], '\n');
			}
			out += n;
			free(u);
		}
	}
	assert_int_equal(pieces, 2);
	assert_int_equal(out, total + 1);
	assert_true(lb.cap <= 256 * 1024);
	free(line);
	linebuf_free(&lb);
}

/* The buffer grows for a line that does not fit yet, up to max, and reads stay large. */
static void the_buffer_grows_before_a_piece_is_cut(void **state)
{
	(void)state;
	struct linebuf lb = {0};
	bool partial;
	char chunk[LINEBUF_READ];
	memset(chunk, 'b', sizeof(chunk));
	feed(&lb, chunk, sizeof(chunk));
	assert_null(next(&lb, &partial)); /* 64 KiB without a newline: not a piece yet */
	size_t room;
	assert_non_null(linebuf_space(&lb, LINEBUF_READ, &room));
	assert_true(room >= LINEBUF_READ / 4);
	assert_true(lb.cap > LINEBUF_READ);
	linebuf_free(&lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_lines_per_read_go_out_as_one_unit),
	    cmocka_unit_test(a_partial_line_is_completed_by_later_reads),
	    cmocka_unit_test(an_empty_line_is_a_line),
	    cmocka_unit_test(a_long_line_goes_out_in_marked_pieces),
	    cmocka_unit_test(the_buffer_grows_before_a_piece_is_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
