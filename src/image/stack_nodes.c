/* Typed values out of libyaml's document nodes. Each read checks the node's kind and that its
 * text fits on one line, reports IMAGE KEY at the node's line when not, and keeps the line. */
#include "stack_loader.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "stack_values.h"
#include "util.h"
#include "values.h"

int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

yaml_node_t *node_at(struct loader *L, int index)
{
	return yaml_document_get_node(&L->doc, index);
}

const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a scalar";
	}
}

void type_error(struct loader *L, const yaml_node_t *n, const char *image, const char *key,
		const char *want)
{
	stack_error(L->d, L->st, line_of(n), image, key, "expected %s, got %s", want, kind_name(n));
}

bool want_kind(struct loader *L, const yaml_node_t *n, yaml_node_type_t t, const char *image,
	       const char *key, const char *want)
{
	if (n->type == t && !(t == YAML_SCALAR_NODE && is_null(n)))
		return true;
	type_error(L, n, image, key, want);
	return false;
}

bool check_text(struct loader *L, const yaml_node_t *n, const char *image, const char *key)
{
	const char *why = bad_text(scalar(n), n->data.scalar.length);
	if (why)
		stack_error(L->d, L->st, line_of(n), image, key, "'%.80s' %s", scalar(n), why);
	return !why;
}

struct sval sval_of(const yaml_node_t *n)
{
	return (struct sval){xstrdup(scalar(n)), line_of(n)};
}

bool get_string(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		struct sval *out)
{
	if (!want_kind(L, n, YAML_SCALAR_NODE, image, key, "a string") ||
	    !check_text(L, n, image, key))
		return false;
	free(out->s);
	*out = sval_of(n);
	return true;
}

bool get_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
	      struct slist *out)
{
	if (!want_kind(L, n, YAML_SEQUENCE_NODE, image, key, "a list of strings"))
		return false;
	slist_free(out);
	bool ok = true;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *v = node_at(L, *it);
		if (want_kind(L, v, YAML_SCALAR_NODE, image, key, "a string in the list") &&
		    check_text(L, v, image, key))
			slist_push(out, sval_of(v));
		else
			ok = false;
	}
	return ok;
}

struct key_pos {
	const char *key;
	size_t pos;
};

/* By key, then by position: the first of equal keys sorts first. */
static int cmp_key_pos(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * The pairs of a mapping whose keys are scalars, each key once (libyaml does not check
 * duplicates; YAML forbids them). Returns how many pairs were stored in *pairs (ok ones only).
 * Duplicates are found by sorting, so a mapping of many keys costs n log n, not n².
 */
size_t map_pairs(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		 yaml_node_pair_t **pairs)
{
	*pairs = NULL;
	if (!want_kind(L, n, YAML_MAPPING_NODE, image, key, "a mapping"))
		return 0;
	size_t cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start), m = 0;
	struct key_pos *sorted = xcalloc(cap ? cap : 1, sizeof(*sorted));
	size_t ns = 0;
	bool *ok = xcalloc(cap ? cap : 1, sizeof(*ok));
	size_t *first = xcalloc(cap ? cap : 1, sizeof(*first));
	for (size_t i = 0; i < cap; i++) {
		yaml_node_t *k = node_at(L, n->data.mapping.pairs.start[i].key);
		if (!want_kind(L, k, YAML_SCALAR_NODE, image, key, "a string as a key") ||
		    !check_text(L, k, image, key))
			continue;
		ok[i] = true;
		first[i] = i;
		sorted[ns].key = scalar(k);
		sorted[ns++].pos = i;
	}
	qsort(sorted, ns, sizeof(*sorted), cmp_key_pos);
	for (size_t j = 1; j < ns; j++)
		if (strcmp(sorted[j].key, sorted[j - 1].key) == 0)
			first[sorted[j].pos] = first[sorted[j - 1].pos];
	*pairs = xcalloc(cap ? cap : 1, sizeof(**pairs));
	for (size_t i = 0; i < cap; i++) {
		yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
		if (!ok[i])
			continue;
		if (first[i] == i) {
			(*pairs)[m++] = *p;
			continue;
		}
		yaml_node_t *k = node_at(L, p->key);
		yaml_node_t *prev = node_at(L, n->data.mapping.pairs.start[first[i]].key);
		stack_error(L->d, L->st, line_of(k), image, key,
			    "'%s' appears twice (first at line %d)", scalar(k), line_of(prev));
	}
	free(first);
	free(ok);
	free(sorted);
	return m;
}

bool get_map(struct loader *L, yaml_node_t *n, const char *image, const char *key, struct smap *out)
{
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, image, key, &pairs);
	smap_free(out);
	bool ok = n->type == YAML_MAPPING_NODE;
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = node_at(L, pairs[i].key), *v = node_at(L, pairs[i].value);
		char *sub = xasprintf("%s.%s", key, scalar(k));
		if (want_kind(L, v, YAML_SCALAR_NODE, image, sub, "a string") &&
		    check_text(L, v, image, sub))
			smap_push(out, sval_of(k), sval_of(v));
		else
			ok = false;
		free(sub);
	}
	free(pairs);
	return ok;
}

/* A list whose every item must pass valid; each that does not is reported with what. */
void get_checked_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		      struct slist *out, bool (*valid)(const char *), const char *what)
{
	get_list(L, n, image, key, out);
	for (size_t j = 0; j < out->n; j++)
		if (!valid(out->v[j].s))
			stack_error(L->d, L->st, out->v[j].line, image, key, "'%s' is not %s",
				    out->v[j].s, what);
}

/* The keys of a map that every one must pass valid; each that does not is reported. */
void check_map_keys(struct loader *L, const struct smap *m, const char *image, const char *key,
		    bool (*valid)(const char *), const char *what)
{
	for (size_t i = 0; i < m->n; i++)
		if (!valid(m->v[i].k.s))
			stack_error(L->d, L->st, m->v[i].k.line, image, key, "'%s' is not %s",
				    m->v[i].k.s, what);
}

void get_checked(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		 struct sval *out, bool (*valid)(const char *), const char *what)
{
	if (get_string(L, n, image, key, out) && !valid(out->s))
		stack_error(L->d, L->st, out->line, image, key, "'%s' is not %s", out->s, what);
}

bool get_int(struct loader *L, yaml_node_t *n, const char *image, const char *key, long long min,
	     long long max, struct sval *out)
{
	long long x;
	if (!get_string(L, n, image, key, out))
		return false;
	if (parse_int(out->s, min, max, &x) == 0)
		return true;
	stack_error(L->d, L->st, out->line, image, key, "'%s' is not an integer from %lld to %lld",
		    out->s, min, max);
	return false;
}

void unknown_key(struct loader *L, yaml_node_t *k, const char *image, const char *within,
		 const char *const *cands, size_t n)
{
	const char *s = config_suggest(scalar(k), cands, n);
	char *what = within ? xasprintf("%s.%s", within, scalar(k)) : xstrdup(scalar(k));
	if (s)
		stack_error(L->d, L->st, line_of(k), image, what,
			    "unknown key (did you mean '%s'?)", s);
	else
		stack_error(L->d, L->st, line_of(k), image, what, "unknown key");
	free(what);
}
