#include "wbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_init(struct wbuf *sb, size_t max)
{
	memset(sb, 0, sizeof(*sb));
	sb->max = max ? max : SIZE_MAX / 2;
}

void wb_free(struct wbuf *sb)
{
	free(sb->data);
	wb_init(sb, sb->max);
}

void wb_reset(struct wbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->data)
		sb->data[0] = '\0';
}

static bool sb_reserve(struct wbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (extra > sb->max - sb->len) {
		sb->failed = true;
		return false;
	}
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(sb->data, cap);
	if (!p) {
		sb->failed = true;
		return false;
	}
	sb->data = p;
	sb->cap = cap;
	return true;
}

bool wb_append(struct wbuf *sb, const void *data, size_t len)
{
	if (!sb_reserve(sb, len))
		return false;
	if (len)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return true;
}

bool wb_puts(struct wbuf *sb, const char *s)
{
	return wb_append(sb, s, strlen(s));
}

bool wb_putc(struct wbuf *sb, char c)
{
	return wb_append(sb, &c, 1);
}

bool wb_vprintf(struct wbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || !sb_reserve(sb, (size_t)n)) {
		sb->failed = true;
		return false;
	}
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return true;
}

bool wb_printf(struct wbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = wb_vprintf(sb, fmt, ap);
	va_end(ap);
	return ok;
}

void wb_consume(struct wbuf *sb, size_t n)
{
	if (n >= sb->len) {
		wb_reset(sb);
		return;
	}
	memmove(sb->data, sb->data + n, sb->len - n);
	sb->len -= n;
	sb->data[sb->len] = '\0';
}
