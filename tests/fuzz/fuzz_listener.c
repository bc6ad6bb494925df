/* libFuzzer target: an event listener's stdout through the protocol parser (listener.c), in
 * pieces of the sizes the input's first byte picks, an event sent each time the listener is
 * READY; and the same bytes as an event payload's text (events.c). The parser must consume
 * every byte, keep its bounds and never stall. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "events.h"
#include "listener.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (size_t)(data[0] % 17) + 1;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	struct listener_proto lp = {0};
	listener_reset(&lp);
	while (n > 0) {
		size_t piece = n < chunk ? n : chunk;
		size_t left = piece;
		const char *at = p;
		int zero_steps = 0;
		while (left > 0) {
			struct listener_step st;
			size_t k = listener_feed(&lp, at, left, &st);
			if (k > left || lp.len > LISTENER_LINE_MAX || lp.state > LISTENER_UNKNOWN)
				abort();
			if (st.outcome == LISTENER_MORE && k != left)
				abort();
			if (st.outcome == LISTENER_BAD_RESULT && st.line_len > LISTENER_LINE_MAX)
				abort();
			/* an outcome may take nothing (a zero-length result), never twice in a row
			 */
			zero_steps = k == 0 ? zero_steps + 1 : 0;
			if (zero_steps > 1)
				abort();
			at += k;
			left -= k;
			if (lp.state == LISTENER_READY)
				listener_sent(&lp);
		}
		p += piece;
		n -= piece;
	}
	struct buf b = {0};
	events_append_text(&b, (const char *)data, size);
	if (!b.failed && events_payload_chars(b.data, b.len) > b.len)
		abort();
	buf_free(&b);
	return 0;
}
