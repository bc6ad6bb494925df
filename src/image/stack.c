/* Stack file → model: the document's top keys, its images, and the defaults copied into the
 * images that do not set a key; the model's lifetime. The keys of an image are in stack_keys.c. */
#include "stack_loader.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "stack_values.h"
#include "util.h"
#include "yaml_limits.h"

static const char *const top_keys[] = {"version", "defaults", "images"};

bool image_has(const struct image *im, enum image_key k)
{
	return im->key_line[k] > 0;
}

/* A copy of s with control characters as \n, \r, \t or \xHH: a message stays one line. */
static char *escape_controls(const char *s)
{
	struct buf b = {0};
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			buf_puts(&b, "\\n");
		else if (c == '\r')
			buf_puts(&b, "\\r");
		else if (c == '\t')
			buf_puts(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_putc(&b, (char)c);
	}
	return buf_xsteal(&b);
}

void stack_error(struct diag *d, const struct stack *st, int line, const char *image,
		 const char *key, const char *fmt, ...)
{
	char *where = image && key ? xasprintf("%s %s", image, key) : xstrdup(image ? image : key);
	char *raw;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	char *text = escape_controls(raw ? raw : "(out of memory)");
	char *shown_where = where ? escape_controls(where) : NULL;
	diag_add(d, DIAG_ERROR, st->path, line, NULL, shown_where, "%s", text);
	free(shown_where);
	free(text);
	free(raw);
	free(where);
}

void *array_grow(void *v, size_t n, size_t size)
{
	if (n & (n - 1))
		return v; /* n is not a power of two: below the capacity */
	return xrealloc(v, (n ? 2 * n : 1) * size);
}

void slist_push(struct slist *l, struct sval v)
{
	l->v = array_grow(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = v;
}

void slist_free(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].k.s);
		free(m->v[i].v.s);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void smap_push(struct smap *m, struct sval k, struct sval v)
{
	m->v = array_grow(m->v, m->n, sizeof(*m->v));
	m->v[m->n++] = (struct spair){k, v};
}

static int find_image_key(const char *name)
{
	for (int i = 0; i < IK_COUNT; i++)
		if (strcmp(image_keys[i].name, name) == 0)
			return i;
	return -1;
}

static void unknown_image_key(struct loader *L, yaml_node_t *k, const char *image)
{
	const char *names[IK_COUNT];
	for (int i = 0; i < IK_COUNT; i++)
		names[i] = image_keys[i].name;
	unknown_key(L, k, image, NULL, names, IK_COUNT);
}

/* What a copy of n costs: its text and 16 bytes a node (the depth is bounded by yaml_limits). */
static size_t node_weight(struct loader *L, yaml_node_t *n)
{
	size_t w = 16;
	if (n->type == YAML_SCALAR_NODE)
		return w + n->data.scalar.length;
	if (n->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			w += node_weight(L, node_at(L, *it));
	if (n->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++)
			w += node_weight(L, node_at(L, p->key)) +
			     node_weight(L, node_at(L, p->value));
	return w;
}

/* The keys an image sets itself; `defaults` fill the rest later. */
static void parse_image_keys(struct loader *L, yaml_node_t *n, struct image *im, bool defaults)
{
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, im->name.s, NULL, &pairs);
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = node_at(L, pairs[i].key), *v = node_at(L, pairs[i].value);
		int id = find_image_key(scalar(k));
		if (id < 0) {
			unknown_image_key(L, k, im->name.s);
			continue;
		}
		if (defaults && (image_keys[id].flags & KD_NO_DEFAULT)) {
			stack_error(L->d, L->st, line_of(k), "defaults", scalar(k),
				    "every image names its own");
			continue;
		}
		im->key_line[id] = line_of(k);
		if (defaults) {
			L->defaults[id] = v;
			L->default_line[id] = line_of(k);
			L->default_weight[id] = node_weight(L, v);
		}
		image_keys[id].parse(L, v, im, scalar(k));
	}
	if (!defaults && n->type == YAML_MAPPING_NODE && !image_has(im, IK_FROM))
		stack_error(L->d, L->st, im->name.line, im->name.s, "from",
			    "missing (every image is built from another)");
	free(pairs);
}

static void image_free(struct image *im)
{
	free(im->name.s);
	free(im->from.s);
	slist_free(&im->packages);
	free(im->package_manager.s);
	slist_free(&im->run);
	smap_free(&im->files);
	smap_free(&im->env);
	slist_free(&im->expose);
	free(im->user.s);
	free(im->workdir.s);
	slist_free(&im->volumes);
	smap_free(&im->labels);
	for (size_t i = 0; i < im->nprograms; i++) {
		free(im->programs[i].name.s);
		smap_free(&im->programs[i].keys);
	}
	free(im->programs);
	for (size_t i = 0; i < im->ngroups; i++) {
		free(im->groups[i].name.s);
		slist_free(&im->groups[i].programs);
		free(im->groups[i].priority.s);
	}
	free(im->groups);
	free(im->health.interval.s);
	free(im->health.timeout.s);
	free(im->health.start_period.s);
	free(im->health.retries.s);
	slist_free(&im->health.programs);
	smap_free(&im->supervisord);
	free(im->deploy.replicas.s);
	slist_free(&im->deploy.ports);
	slist_free(&im->deploy.volumes);
	free(im->deploy.cpu.s);
	free(im->deploy.memory.s);
	slist_free(&im->deploy.capabilities);
	free(im->hardened.s);
}

static bool names_stack_image(const struct stack *st, const char *ref)
{
	for (size_t i = 0; i < st->n; i++)
		if (image_name_eq(st->images[i].name.s, ref))
			return true;
	return false;
}

/* Keys an image does not set come from `defaults`; root-only keys only for roots. */
static void apply_defaults(struct loader *L)
{
	for (size_t i = 0; i < L->st->n; i++) {
		struct image *im = &L->st->images[i];
		bool root = im->from.s && !names_stack_image(L->st, im->from.s);
		for (int k = 0; k < IK_COUNT; k++) {
			if ((image_keys[k].flags & KD_ROOT_ONLY) && !root && im->from.s &&
			    image_has(im, k)) {
				stack_error(L->d, L->st, im->key_line[k], im->name.s,
					    image_keys[k].name,
					    "only a root image takes this key (the images built on "
					    "it inherit it)");
				continue;
			}
			if (image_has(im, k) || !L->defaults[k] ||
			    ((image_keys[k].flags & KD_ROOT_ONLY) && !root))
				continue;
			L->copied += L->default_weight[k];
			if (L->copied > STACK_MAX_DEFAULTS_COPY) {
				/* many images times a large default: the model would balloon */
				stack_error(
				    L->d, L->st, L->default_line[k], "defaults", image_keys[k].name,
				    "copied into %zu images, the defaults would exceed %s: set "
				    "smaller defaults or fewer images",
				    L->st->n, STACK_MAX_DEFAULTS_COPY_TEXT);
				return;
			}
			/* already checked once as part of `defaults` */
			struct diag quiet = {0};
			struct diag *real = L->d;
			L->d = &quiet;
			image_keys[k].parse(L, L->defaults[k], im, image_keys[k].name);
			L->d = real;
			diag_free(&quiet);
			im->key_line[k] = L->default_line[k];
		}
	}
}

static void parse_images(struct loader *L, yaml_node_t *n)
{
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, NULL, "images", &pairs);
	if (np > STACK_MAX_IMAGES) { /* plan and lint compare images pairwise */
		stack_error(L->d, L->st, line_of(n), NULL, "images",
			    "%zu images: a stack holds at most %d", np, STACK_MAX_IMAGES);
		free(pairs);
		return;
	}
	L->st->images = xcalloc(np ? np : 1, sizeof(*L->st->images));
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = node_at(L, pairs[i].key), *v = node_at(L, pairs[i].value);
		struct image *im = &L->st->images[L->st->n++];
		im->name = sval_of(k);
		im->parent = im->root = -1;
		const char *why = bad_image_name(im->name.s);
		if (why)
			stack_error(L->d, L->st, im->name.line, im->name.s, NULL,
				    "not an image name: it %s", why);
		parse_image_keys(L, v, im, false);
	}
	if (n->type == YAML_MAPPING_NODE && !np)
		stack_error(L->d, L->st, line_of(n), NULL, "images", "no images");
	free(pairs);
}

static void parse_top(struct loader *L, yaml_node_t *root)
{
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, root, NULL, "stack file", &pairs);
	yaml_node_t *images = NULL;
	struct image defaults = {.name = {xstrdup("defaults"), 0}};
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = node_at(L, pairs[i].key), *v = node_at(L, pairs[i].value);
		const char *name = scalar(k);
		if (strcmp(name, "version") == 0) {
			if (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "1") != 0)
				stack_error(L->d, L->st, line_of(v), NULL, "version",
					    "only version 1 exists");
		} else if (strcmp(name, "defaults") == 0) {
			parse_image_keys(L, v, &defaults, true);
		} else if (strcmp(name, "images") == 0) {
			images = v;
		} else {
			unknown_key(L, k, NULL, NULL, top_keys, ARRAY_SIZE(top_keys));
		}
	}
	if (images)
		parse_images(L, images);
	else if (root->type == YAML_MAPPING_NODE)
		stack_error(L->d, L->st, line_of(root), NULL, "images", "missing");
	apply_defaults(L);
	image_free(&defaults);
	free(pairs);
}

static int load_yaml(struct loader *L, yaml_parser_t *parser)
{
	if (!yaml_parser_load(parser, &L->doc)) {
		const char *ctx = parser->context;
		stack_error(L->d, L->st, (int)parser->problem_mark.line + 1, NULL, "YAML", "%s%s%s",
			    parser->problem ? parser->problem : "cannot be parsed", ctx ? " " : "",
			    ctx ? ctx : "");
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&L->doc);
	if (!root) {
		stack_error(L->d, L->st, 0, NULL, "stack file", "empty");
		yaml_document_delete(&L->doc);
		return 1;
	}
	int errors = L->d->errors;
	parse_top(L, root);
	yaml_document_delete(&L->doc);
	return L->d->errors > errors ? 1 : 0;
}

static void stack_init(struct stack *st, const char *path)
{
	memset(st, 0, sizeof(*st));
	st->path = xstrdup(path);
	char *copy = xstrdup(path);
	st->dir = xstrdup(dirname(copy));
	free(copy);
}

int stack_load_string(struct stack *st, const char *name, const char *text, size_t len,
		      struct diag *d)
{
	stack_init(st, name);
	struct yaml_limit_error e;
	if (yaml_limits_check(text, len, &e) != 0) {
		stack_error(d, st, e.line, NULL, "YAML", "%s", e.text);
		return -1;
	}
	struct loader L = {.st = st, .d = d};
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc = load_yaml(&L, &parser);
	yaml_parser_delete(&parser);
	return rc;
}

int stack_load(struct stack *st, const char *path, struct diag *d)
{
	size_t len;
	const char *why;
	char *text = read_regular_file(path, STACK_MAX_BYTES, &len, &why);
	if (!text) {
		diag_add(d, DIAG_ERROR, path, 0, NULL, NULL, "cannot read: %s", why);
		stack_init(st, path);
		return -1;
	}
	int rc = stack_load_string(st, path, text, len, d);
	free(text);
	return rc;
}

void stack_free(struct stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		image_free(&st->images[i]);
	free(st->images);
	free(st->path);
	free(st->dir);
	memset(st, 0, sizeof(*st));
}
