#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool base64_encode(struct buf *out, const void *data, size_t len, size_t line_len)
{
	const unsigned char *p = data;
	size_t col = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		char quad[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
				i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
				i + 2 < len ? alphabet[v & 63] : '='};
		buf_append(out, quad, 4);
		col += 4;
		if (line_len && col >= line_len) {
			buf_putc(out, '\n');
			col = 0;
		}
	}
	if (line_len && col)
		buf_putc(out, '\n');
	return !out->failed;
}

static int decode_char(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool base64_decode(struct buf *out, const char *text, size_t len)
{
	unsigned acc = 0;
	int nbits = 0, pad = 0;
	size_t nchars = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		int d = decode_char(c);
		if (d < 0 || pad) /* data after padding */
			return false;
		nchars++;
		acc = (acc << 6) | (unsigned)d;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			buf_putc(out, (char)((acc >> nbits) & 0xff));
		}
	}
	if (nchars % 4 != 0 || pad > 2)
		return false;
	return !out->failed;
}
