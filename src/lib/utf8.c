/* UTF-8 as Python's strict codec reads it: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
#include "utf8.h"

#include <string.h>

size_t utf8_char(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	if (!len)
		return 0;
	if (u[0] < 0x80)
		return 1;
	/* the second byte's range depends on the first: no overlongs, surrogates or > U+10FFFF */
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		n = 2;
	else if (u[0] >= 0xE0 && u[0] <= 0xEF)
		n = 3, lo = u[0] == 0xE0 ? 0xA0 : 0x80, hi = u[0] == 0xED ? 0x9F : 0xBF;
	else if (u[0] >= 0xF0 && u[0] <= 0xF4)
		n = 4, lo = u[0] == 0xF0 ? 0x90 : 0x80, hi = u[0] == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((u[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

size_t utf8_cut(const char *s, size_t len)
{
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)s[len - back];
		if ((c & 0xC0) == 0x80)
			continue;
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (need <= back)
			return 0;
		/* cut only what the missing bytes could finish into a character: completed with the
		 * smallest continuation bytes allowed, it must be well formed */
		char probe[4];
		memcpy(probe, s + len - back, back);
		for (size_t i = back; i < need; i++)
			probe[i] = (char)(i > 1	      ? 0x80
					  : c == 0xE0 ? 0xA0
					  : c == 0xF0 ? 0x90
						      : 0x80);
		return utf8_char(probe, need) == need ? back : 0;
	}
	return 0;
}

bool utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}
