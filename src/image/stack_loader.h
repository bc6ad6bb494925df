/*
 * Private to the stack loader:
 *   stack.c         the document: top keys, images, defaults; the model's lifetime
 *   stack_keys.c    the image keys' table and one parser a key
 *   stack_nodes.c   typed values out of libyaml's nodes, each with its line
 *   stack_values.c  what a value may be (stack_values.h)
 */
#ifndef PIDVISOR_IMAGE_STACK_LOADER_H
#define PIDVISOR_IMAGE_STACK_LOADER_H

#include <yaml.h>

#include "stack.h"

struct loader {
	struct stack *st;
	struct diag *d;
	yaml_document_t doc;
	size_t copied;			 /* node_weight of the defaults copied into images so far */
	size_t default_weight[IK_COUNT]; /* node_weight of each default */
	yaml_node_t *defaults[IK_COUNT]; /* the defaults: value of each key */
	int default_line[IK_COUNT];
};

typedef void parse_fn(struct loader *L, yaml_node_t *n, struct image *im, const char *key);

enum { KD_NO_DEFAULT = 1 << 0, KD_ROOT_ONLY = 1 << 1 };

struct image_keydef {
	const char *name;
	parse_fn *parse;
	unsigned flags;
};

/* Indexed by enum image_key (stack_keys.c). */
extern const struct image_keydef image_keys[IK_COUNT];

/* ---- stack.c ---- */

void slist_push(struct slist *l, struct sval v);
void slist_free(struct slist *l);
void smap_push(struct smap *m, struct sval k, struct sval v);
void smap_free(struct smap *m);

/* ---- stack_nodes.c ---- */

int line_of(const yaml_node_t *n);
yaml_node_t *node_at(struct loader *L, int index);
const char *scalar(const yaml_node_t *n);
/* Reports "expected WANT, got a list" (a mapping, a scalar, nothing). */
void type_error(struct loader *L, const yaml_node_t *n, const char *image, const char *key,
		const char *want);
/* Whether n is of type t (a null is not a scalar); reports it when not. */
bool want_kind(struct loader *L, const yaml_node_t *n, yaml_node_type_t t, const char *image,
	       const char *key, const char *want);
/* Whether the scalar n passes bad_text(); reports it when not. */
bool check_text(struct loader *L, const yaml_node_t *n, const char *image, const char *key);
struct sval sval_of(const yaml_node_t *n);

/* Each get_* replaces *out when n is of its kind; false when anything was reported. */
bool get_string(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		struct sval *out);
bool get_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
	      struct slist *out);
bool get_map(struct loader *L, yaml_node_t *n, const char *image, const char *key,
	     struct smap *out);
bool get_int(struct loader *L, yaml_node_t *n, const char *image, const char *key, long long min,
	     long long max, struct sval *out);
/* A string or a list whose value (each item) must pass valid, reported as not being what. */
void get_checked(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		 struct sval *out, bool (*valid)(const char *), const char *what);
void get_checked_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		      struct slist *out, bool (*valid)(const char *), const char *what);
void check_map_keys(struct loader *L, const struct smap *m, const char *image, const char *key,
		    bool (*valid)(const char *), const char *what);
/* The pairs of mapping n (malloc'd in *pairs), each key a string and once; returns how many. */
size_t map_pairs(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		 yaml_node_pair_t **pairs);
/* "unknown key", with a "did you mean" from cands when one is close. */
void unknown_key(struct loader *L, yaml_node_t *k, const char *image, const char *within,
		 const char *const *cands, size_t n);

#endif
