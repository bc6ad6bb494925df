/* Strings looked up by name in constant time: an open-addressing table keyed by (pointer,
 * length). Keys are not copied; they must outlive the table. Used where a config or an
 * environment can hold tens of thousands of names and a linear search per name would be
 * quadratic. */
#ifndef PIDVISOR_STRTAB_H
#define PIDVISOR_STRTAB_H

#include <stddef.h>

struct strtab_entry {
	const char *key; /* NULL: a free slot */
	size_t len;
	void *val;
};

struct strtab {
	struct strtab_entry *v;
	size_t cap, n;
};

/* key's entry, added with val NULL when absent; NULL when memory runs out (the table is left as
 * it was). The pointer holds until the next strtab_put. */
struct strtab_entry *strtab_put(struct strtab *t, const char *key, size_t len);
/* key's entry, or NULL. */
struct strtab_entry *strtab_get(const struct strtab *t, const char *key, size_t len);
/* strtab_get(t, key, strlen(key))'s val, or NULL */
void *strtab_find(const struct strtab *t, const char *key);
void strtab_free(struct strtab *t);

#endif
