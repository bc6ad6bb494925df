#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void xalloc_failed(void)
{
	static const char msg[] = "pidvisor: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		xalloc_failed();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		xalloc_failed();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		xalloc_failed();
	return p;
}

void *try_grow(void *p, size_t n, size_t size)
{
	if (n & (n - 1))
		return p;
	size_t cap = n ? 2 * n : 1;
	if (size && cap > SIZE_MAX / size)
		return NULL;
	return realloc(p, cap * size);
}

void *xgrow(void *p, size_t n, size_t size)
{
	void *q = try_grow(p, n, size);
	if (!q)
		xalloc_failed();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_xsteal(&b);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

long read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	ssize_t r;
	while (got < size - 1 && (r = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	return (long)got;
}

void sv_push(struct strvec *sv, char *owned)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = owned;
	sv->v[sv->n] = NULL;
}

void sv_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

char *str_strip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool str_eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

size_t count_newlines_portable(const char *p, size_t n)
{
	/* GCC's vector extensions: SSE2 on x86-64, NEON on arm64, plain words elsewhere */
	typedef unsigned char v16 __attribute__((vector_size(16)));
	const v16 nl = (v16){0} + '\n';
	size_t count = 0, i = 0;
	while (n - i >= 16) {
		/* a lane counts up to 255 matches (a match compares as all ones, -1, subtracted
		 * modulo 256), then the lanes are added */
		v16 lanes = {0};
		for (int k = 0; k < 255 && n - i >= 16; k++, i += 16) {
			v16 w;
			memcpy(&w, p + i, 16);
			lanes -= (v16)(w == nl);
		}
		for (int k = 0; k < 16; k++)
			count += lanes[k];
	}
	for (; i < n; i++)
		count += p[i] == '\n';
	return count;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 32 bytes at a time where the CPU has AVX2: twice as fast on a hot 256 KiB chunk. */
__attribute__((target("avx2"))) static size_t count_newlines_avx2(const char *p, size_t n)
{
	typedef unsigned char v32 __attribute__((vector_size(32)));
	const v32 nl = (v32){0} + '\n';
	size_t count = 0, i = 0;
	while (n - i >= 32) {
		v32 lanes = {0};
		for (int k = 0; k < 255 && n - i >= 32; k++, i += 32) {
			v32 w;
			memcpy(&w, p + i, 32);
			lanes -= (v32)(w == nl);
		}
		for (int k = 0; k < 32; k++)
			count += lanes[k];
	}
	return count + count_newlines_portable(p + i, n - i);
}
#endif

size_t count_newlines(const char *p, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx2"))
		return count_newlines_avx2(p, n);
#endif
	return count_newlines_portable(p, n);
}
