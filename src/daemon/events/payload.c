/* The text of an event's payload, as supervisord makes it from bytes: the bytes as they are when
 * they are valid UTF-8, else Python's repr() of them; and its length in Python characters. */
#include "events.h"

#include <string.h>

#include "buf.h"
#include "utf8.h"

/* Python's repr() of bytes */
static void bytes_repr(struct buf *b, const unsigned char *s, size_t n)
{
	char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	buf_putc(b, 'b');
	buf_putc(b, q);
	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		if (c == (unsigned char)q || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\t')
			buf_puts(b, "\\t");
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\r')
			buf_puts(b, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, q);
}

bool events_append_text(struct buf *b, const char *data, size_t n)
{
	if (utf8_valid(data, n))
		return buf_append(b, data, n);
	buf_puts(b, "Undecodable: ");
	bytes_repr(b, (const unsigned char *)data, n);
	return !b->failed;
}

size_t events_payload_chars(const char *p, size_t n)
{
	/* the header's len is the payload's length as a Python string: continuation bytes do
	 * not count */
	size_t chars = 0;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)p[i] & 0xc0) != 0x80;
	return chars;
}
