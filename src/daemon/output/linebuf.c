#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

#define LINEBUF_MAX (4 * 1024 * 1024)

static size_t max_of(const struct linebuf *lb)
{
	return lb->max ? lb->max : LINEBUF_MAX;
}

static bool grow(struct linebuf *lb)
{
	size_t cap = lb->cap ? lb->cap * 2 : LINEBUF_READ;
	if (cap > max_of(lb))
		cap = max_of(lb);
	char *data = realloc(lb->data, cap);
	if (!data)
		return false;
	lb->data = data;
	lb->cap = cap;
	return true;
}

char *linebuf_space(struct linebuf *lb, size_t read_max, size_t *room)
{
	/* a buffer smaller than a read, or nearly full, grows before the read, so reads stay
	 * large */
	if ((!lb->data || lb->cap < read_max || lb->cap - lb->len < read_max / 4) &&
	    lb->cap < max_of(lb) && !grow(lb) && !lb->data)
		return NULL;
	*room = lb->cap - lb->len;
	if (*room > read_max)
		*room = read_max;
	return lb->data + lb->len;
}

void linebuf_added(struct linebuf *lb, size_t n)
{
	lb->len += n;
}

size_t linebuf_next(struct linebuf *lb, bool *partial)
{
	*partial = false;
	const char *last = lb->len ? memrchr(lb->data, '\n', lb->len) : NULL;
	if (last)
		return (size_t)(last - lb->data) + 1;
	if (lb->len < lb->cap || lb->len == 0)
		return 0;
	if (lb->cap < max_of(lb) && grow(lb))
		return 0;
	*partial = true;
	return lb->len;
}

void linebuf_consume(struct linebuf *lb, size_t n)
{
	memmove(lb->data, lb->data + n, lb->len - n);
	lb->len -= n;
}

void linebuf_free(struct linebuf *lb)
{
	free(lb->data);
	*lb = (struct linebuf){.max = lb->max};
}
