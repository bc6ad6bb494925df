/* A growable byte buffer with a hard size cap, for building wire messages. */
#ifndef PIDVISOR_STRBUF_H
#define PIDVISOR_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* 0 = SIZE_MAX/2 */
	bool failed; /* an append hit the cap or malloc failed; later appends are no-ops */
};

void sb_init(struct strbuf *sb, size_t max);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
bool sb_append(struct strbuf *sb, const void *data, size_t len);
bool sb_puts(struct strbuf *sb, const char *s);
bool sb_putc(struct strbuf *sb, char c);
__attribute__((format(printf, 2, 3))) bool sb_printf(struct strbuf *sb, const char *fmt, ...);
bool sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Drops the first n bytes (consumed input). */
void sb_consume(struct strbuf *sb, size_t n);

#endif
