/* Small helpers used everywhere: checked allocation, growable strings, string lists. */
#ifndef PIDVISOR_UTIL_H
#define PIDVISOR_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* PID 1 cannot report an allocation failure anywhere useful at start-up; these abort with a
 * message. */
/* Prints "out of memory" and aborts. */
__attribute__((noreturn)) void xalloc_failed(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Room for item n (0-based) of an array that only ever grows through here, one item at a time:
 * its size doubles at each power of two, so n additions cost linear time (ASan's realloc always
 * copies). */
void *xgrow(void *p, size_t n, size_t size);
/* The same at run time: NULL when memory runs out (p is then left as it was). */
void *try_grow(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all n bytes, retrying after EINTR and short writes: 0, or -1 on error. */
int write_all(int fd, const void *buf, size_t n);
/* A small file's text (a /proc or cgroup file: one read pass, cut at size - 1 bytes),
 * NUL-terminated in buf: its length, or -1 when it cannot be opened. */
long read_small_file(const char *path, char *buf, size_t size);

/* How many newlines p[0..n) holds, counted 32 bytes at a time where the CPU has AVX2, else 16
 * (the log path counts every chunk for /metrics; a memchr call per line cost a tenth of its
 * CPU). count_newlines_portable is the 16-byte count, for the tests on an AVX2 machine. */
size_t count_newlines(const char *p, size_t n);
size_t count_newlines_portable(const char *p, size_t n);

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
