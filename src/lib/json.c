#include "json.h"

void json_string(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_append(b, s + start, i - start);
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\t')
			buf_puts(b, "\\t");
		else if (ch == '\r')
			buf_puts(b, "\\r");
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else
			buf_printf(b, "\\u%04x", ch);
		start = i + 1;
	}
	buf_append(b, s + start, n - start);
	buf_putc(b, '"');
}
