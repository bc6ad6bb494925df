/* The event bus's pure parts (events.c): the tick rule and payload text, against what
 * supervisord 4.2.5's tick() and payload() do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "events.h"

static void ticks_fire_when_their_slice_changes(void **state)
{
	(void)state;
	long long last[3] = {-1, -1, -1};
	enum event_type t[3];
	long long when[3];
	/* the first look only notes the slices */
	assert_int_equal(events_ticks_due(last, 3599.5, t, when), 0);
	assert_int_equal(events_ticks_due(last, 3599.9, t, when), 0);
	/* 3600: every period rolls over at once, 5 first */
	assert_int_equal(events_ticks_due(last, 3600.2, t, when), 3);
	assert_int_equal(t[0], EV_TICK_5);
	assert_int_equal(t[1], EV_TICK_60);
	assert_int_equal(t[2], EV_TICK_3600);
	for (int i = 0; i < 3; i++)
		assert_int_equal(when[i], 3600);
	assert_int_equal(events_ticks_due(last, 3604.9, t, when), 0);
	assert_int_equal(events_ticks_due(last, 3605.0, t, when), 1);
	assert_int_equal(when[0], 3605);
	/* a late look (the loop was busy) gives each tick once, with the slice it is in */
	assert_int_equal(events_ticks_due(last, 3671.0, t, when), 2);
	assert_int_equal(t[0], EV_TICK_5);
	assert_int_equal(when[0], 3670);
	assert_int_equal(t[1], EV_TICK_60);
	assert_int_equal(when[1], 3660);
	assert_int_equal(events_ticks_due(last, 7200.0, t, when), 3);
	assert_int_equal(when[2], 7200);
}

static void payload_text_as_supervisord_makes_it(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_true(events_append_text(&b, "caf\xc3\xa9\n", 6));
	assert_string_equal(b.data, "caf\xc3\xa9\n");
	assert_int_equal(events_payload_chars(b.data, b.len), 5);
	buf_reset(&b);
	events_append_text(&b, "bad \xff\t'\\\n", 9);
	assert_string_equal(b.data, "Undecodable: b\"bad \\xff\\t'\\\\\\n\"");
	buf_reset(&b);
	/* surrogates and overlongs are not UTF-8 to Python */
	events_append_text(&b, "\xed\xa0\x80", 3);
	assert_string_equal(b.data, "Undecodable: b'\\xed\\xa0\\x80'");
	buf_reset(&b);
	events_append_text(&b, "\xc0\xaf", 2);
	assert_string_equal(b.data, "Undecodable: b'\\xc0\\xaf'");
	buf_reset(&b);
	events_append_text(&b, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(events_payload_chars(b.data, b.len), 1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ticks_fire_when_their_slice_changes),
	    cmocka_unit_test(payload_text_as_supervisord_makes_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
