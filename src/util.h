/* Small helpers used everywhere: checked allocation, growable strings, string lists. */
#ifndef PIDVISOR_UTIL_H
#define PIDVISOR_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* PID 1 cannot report an allocation failure anywhere useful at start-up; these abort with a
 * message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct strbuf {
	char *buf;
	size_t len, cap;
};

void sb_grow(struct strbuf *sb, size_t extra);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
char *sb_steal(struct strbuf *sb); /* returns a NUL-terminated string, never NULL */
void sb_free(struct strbuf *sb);
/* Appends the whole file at path. 0; -1 when it cannot be opened, -2 on a read error (errno set).
 */
int sb_read_file(struct strbuf *sb, const char *path);

/* Writes all n bytes, retrying after EINTR and short writes: 0, or -1 on error. */
int write_all(int fd, const void *buf, size_t n);

/* NULL-terminated vector of owned strings. */
struct strvec {
	char **v;
	size_t n, cap;
};

void sv_push(struct strvec *sv, char *owned);
void sv_free(struct strvec *sv);

char *str_strip(char *s); /* strips ASCII whitespace in place, returns the new start */
bool str_eq_nocase(const char *a, const char *b);
void str_lower(char *s);
size_t edit_distance(const char *a, const char *b);

#endif
