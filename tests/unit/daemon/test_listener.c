/* The event listener protocol parser (listener.c), against what supervisord 4.2.5's
 * PEventListenerDispatcher does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "listener.h"

#define MAX_STEPS 16

/* Feeds s in pieces of `chunk` bytes; records each outcome's letter: R(eady), V(iolation),
 * B(ad result), O(K), F(ail). */
static void feed(struct listener_proto *lp, const char *s, size_t n, size_t chunk, char *out)
{
	size_t o = 0;
	while (n > 0) {
		size_t piece = n < chunk ? n : chunk;
		const char *p = s;
		size_t left = piece;
		while (left > 0) {
			struct listener_step st;
			size_t k = listener_feed(lp, p, left, &st);
			assert_true(k <= left);
			p += k;
			left -= k;
			static const char letters[] = {[LISTENER_MORE] = 0,
						       [LISTENER_GOT_READY] = 'R',
						       [LISTENER_VIOLATION] = 'V',
						       [LISTENER_BAD_RESULT] = 'B',
						       [LISTENER_RESULT] = 'O'};
			if (st.outcome == LISTENER_MORE) {
				assert_int_equal(left, 0);
				continue;
			}
			assert_true(o < MAX_STEPS);
			out[o++] =
			    st.outcome == LISTENER_RESULT && !st.ok ? 'F' : letters[st.outcome];
		}
		s += piece;
		n -= piece;
	}
	out[o] = '\0';
}

static void run(struct listener_proto *lp, const char *s, size_t chunk, const char *want,
		enum listener_state end)
{
	char got[MAX_STEPS + 1];
	feed(lp, s, strlen(s), chunk, got);
	assert_string_equal(got, want);
	assert_int_equal(lp->state, end);
}

static void ready_then_ok_then_fail_in_any_pieces(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= 16; chunk++) {
		struct listener_proto lp = {0};
		listener_reset(&lp);
		run(&lp, "READY\n", chunk, "R", LISTENER_READY);
		listener_sent(&lp);
		run(&lp, "RESULT 2\nOKREADY\n", chunk, "OR", LISTENER_READY);
		listener_sent(&lp);
		run(&lp, "RESULT 4\nFAIL", chunk, "F", LISTENER_ACKNOWLEDGED);
	}
}

static void junk_instead_of_ready_is_unknown_for_good(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	run(&lp, "READ", 64, "", LISTENER_ACKNOWLEDGED); /* not enough to decide */
	run(&lp, "Y!", 64, "V", LISTENER_UNKNOWN);
	run(&lp, "READY\n", 64, "", LISTENER_UNKNOWN); /* ignored from now on */
}

static void anything_while_ready_is_a_violation(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	run(&lp, "READY\nREADY\n", 64, "RV", LISTENER_UNKNOWN);
}

static void a_bad_result_line_rejects_the_event(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	const char *bad[] = {
	    "RESULT two\nOK", "RESULT\nOK", "RESULT 1__0\n", "RESULT _1\n", "RESULT 1_\n",
	    "RESULT - 1\n",   "\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		listener_reset(&lp);
		listener_sent(&lp);
		run(&lp, bad[i], 64, "B", LISTENER_UNKNOWN);
	}
	/* the line as supervisord logs it */
	listener_reset(&lp);
	listener_sent(&lp);
	struct listener_step st;
	listener_feed(&lp, "RESULT x\n", 9, &st);
	assert_int_equal(st.outcome, LISTENER_BAD_RESULT);
	assert_int_equal(st.line_len, 8);
	assert_memory_equal(st.line, "RESULT x", 8);
}

static void result_lengths_read_as_python_int_does(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	/* the first 7 bytes are not looked at; blanks, sign and single underscores are fine */
	const char *good[] = {"XXXXXXX2\nOK", "RESULT  2 \nOK", "RESULT +2\nOK", "RESULT 0_2\nOK",
			      "RESULT\t\t2\nOK"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		listener_reset(&lp);
		listener_sent(&lp);
		run(&lp, good[i], 64, "O", LISTENER_ACKNOWLEDGED);
	}
	bool neg;
	unsigned long long v;
	assert_true(listener_parse_len(" -12_3 ", 7, &neg, &v));
	assert_true(neg);
	assert_int_equal(v, 123);
	assert_true(listener_parse_len("99999999999999999999999", 23, &neg, &v));
	assert_true(v == ~0ULL);
	assert_false(listener_parse_len("", 0, &neg, &v));
	assert_false(listener_parse_len("0x10", 4, &neg, &v));
}

static void a_zero_length_result_completes_on_the_next_byte(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	listener_sent(&lp);
	run(&lp, "RESULT 0\n", 64, "", LISTENER_BUSY);
	run(&lp, "READY\n", 64, "FR", LISTENER_READY); /* "" is not OK: rejected */
}

static void a_huge_result_is_counted_not_stored(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	listener_sent(&lp);
	run(&lp, "RESULT 999999999999\nOK", 64, "", LISTENER_BUSY);
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	for (int i = 0; i < 1000; i++) {
		struct listener_step st;
		assert_int_equal(listener_feed(&lp, junk, sizeof(junk), &st), sizeof(junk));
		assert_int_equal(st.outcome, LISTENER_MORE);
	}
	assert_true(lp.need == 999999999999ULL - 2 - 1000ULL * sizeof(junk));
	/* a negative length never ends either */
	listener_reset(&lp);
	listener_sent(&lp);
	run(&lp, "RESULT -5\nOKOKOKOK", 64, "", LISTENER_BUSY);
}

static void a_result_line_without_end_is_bounded(void **state)
{
	(void)state;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	listener_sent(&lp);
	char junk[LISTENER_LINE_MAX + 10];
	memset(junk, '7', sizeof(junk));
	memcpy(junk, "RESULT ", 7);
	struct listener_step st;
	size_t k = listener_feed(&lp, junk, LISTENER_LINE_MAX - 1, &st);
	assert_int_equal(k, LISTENER_LINE_MAX - 1);
	assert_int_equal(st.outcome, LISTENER_MORE);
	k = listener_feed(&lp, junk, sizeof(junk), &st);
	assert_int_equal(st.outcome, LISTENER_BAD_RESULT);
	assert_int_equal(lp.state, LISTENER_UNKNOWN);
	assert_int_equal(k, sizeof(junk));
}

static void state_names_are_supervisords(void **state)
{
	(void)state;
	assert_string_equal(listener_state_name(LISTENER_ACKNOWLEDGED), "ACKNOWLEDGED");
	assert_string_equal(listener_state_name(LISTENER_READY), "READY");
	assert_string_equal(listener_state_name(LISTENER_BUSY), "BUSY");
	assert_string_equal(listener_state_name(LISTENER_UNKNOWN), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ready_then_ok_then_fail_in_any_pieces),
	    cmocka_unit_test(junk_instead_of_ready_is_unknown_for_good),
	    cmocka_unit_test(anything_while_ready_is_a_violation),
	    cmocka_unit_test(a_bad_result_line_rejects_the_event),
	    cmocka_unit_test(result_lengths_read_as_python_int_does),
	    cmocka_unit_test(a_zero_length_result_completes_on_the_next_byte),
	    cmocka_unit_test(a_huge_result_is_counted_not_stored),
	    cmocka_unit_test(a_result_line_without_end_is_bounded),
	    cmocka_unit_test(state_names_are_supervisords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
