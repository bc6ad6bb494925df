/* The one growable byte buffer. `struct buf b = {0}` is empty and unbounded; buf_init gives it a
 * cap. It never aborts: an append past the cap or a failed allocation marks it failed, later
 * appends are no-ops, and the caller checks `failed` (or a false return) once at the end. */
#ifndef PIDVISOR_BUF_H
#define PIDVISOR_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* 0 = unbounded (SIZE_MAX/2) */
	bool failed; /* an append hit the cap or malloc failed */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Room for `extra` more bytes (and the NUL) without a reallocation. */
bool buf_reserve(struct buf *b, size_t extra);
bool buf_append(struct buf *b, const void *data, size_t len);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
/* An integer in decimal, without printf: on the path of every answer. */
bool buf_put_int(struct buf *b, long long i);
__attribute__((format(printf, 2, 3))) bool buf_printf(struct buf *b, const char *fmt, ...);
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);
/* Hands over the string and empties the buffer: NULL if the buffer failed. */
char *buf_steal(struct buf *b);
/* buf_steal for start-up and config code, where running out of memory aborts like xmalloc;
 * never NULL. */
char *buf_xsteal(struct buf *b);
/* Appends the whole file at path. 0; -1 when it cannot be opened, -2 on a read error (errno
 * set), -3 when the buffer failed. */
int buf_read_file(struct buf *b, const char *path);

#endif
