#include "strtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a */
static size_t hash(const char *key, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct strtab_entry *slot(struct strtab_entry *v, size_t cap, const char *key, size_t len)
{
	for (size_t i = hash(key, len) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].key || (v[i].len == len && memcmp(v[i].key, key, len) == 0))
			return &v[i];
}

struct strtab_entry *strtab_get(const struct strtab *t, const char *key, size_t len)
{
	if (!t->cap)
		return NULL;
	struct strtab_entry *e = slot(t->v, t->cap, key, len);
	return e->key ? e : NULL;
}

void *strtab_find(const struct strtab *t, const char *key)
{
	struct strtab_entry *e = strtab_get(t, key, strlen(key));
	return e ? e->val : NULL;
}

/* at most half full, so a probe ends soon and always ends */
static int grow(struct strtab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 16;
	if (cap < t->cap)
		return -1;
	struct strtab_entry *v = calloc(cap, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].key)
			*slot(v, cap, t->v[i].key, t->v[i].len) = t->v[i];
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

struct strtab_entry *strtab_put(struct strtab *t, const char *key, size_t len)
{
	if ((t->n + 1) * 2 > t->cap && grow(t) < 0)
		return NULL;
	struct strtab_entry *e = slot(t->v, t->cap, key, len);
	if (!e->key) {
		e->key = key;
		e->len = len;
		e->val = NULL;
		t->n++;
	}
	return e;
}

void strtab_free(struct strtab *t)
{
	free(t->v);
	t->v = NULL;
	t->cap = t->n = 0;
}
