/* A growable byte buffer with a hard size cap, for building wire messages. */
#ifndef PIDVISOR_WBUF_H
#define PIDVISOR_WBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct wbuf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* 0 = SIZE_MAX/2 */
	bool failed; /* an append hit the cap or malloc failed; later appends are no-ops */
};

void wb_init(struct wbuf *sb, size_t max);
void wb_free(struct wbuf *sb);
void wb_reset(struct wbuf *sb);
bool wb_append(struct wbuf *sb, const void *data, size_t len);
bool wb_puts(struct wbuf *sb, const char *s);
bool wb_putc(struct wbuf *sb, char c);
__attribute__((format(printf, 2, 3))) bool wb_printf(struct wbuf *sb, const char *fmt, ...);
bool wb_vprintf(struct wbuf *sb, const char *fmt, va_list ap);
/* Drops the first n bytes (consumed input). */
void wb_consume(struct wbuf *sb, size_t n);

#endif
