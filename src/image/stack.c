/* Stack file → model: libyaml's document tree walked against the key tables below, with strict
 * types, a "did you mean" for unknown keys, and the line of every key and value. */
#include "stack.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "copy.h"
#include "deploy.h"
#include "util.h"
#include "values.h"
#include "yaml_limits.h"

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

static parse_fn parse_from, parse_packages, parse_package_manager, parse_run, parse_files,
    parse_env, parse_expose, parse_user, parse_workdir, parse_volumes, parse_labels, parse_programs,
    parse_groups, parse_healthcheck, parse_supervisord, parse_deploy, parse_hardened;

/* Indexed by enum image_key. */
static const struct image_keydef image_keys[IK_COUNT] = {
    [IK_FROM] = {"from", parse_from, KD_NO_DEFAULT},
    [IK_PACKAGES] = {"packages", parse_packages, 0},
    [IK_PACKAGE_MANAGER] = {"package_manager", parse_package_manager, 0},
    [IK_RUN] = {"run", parse_run, 0},
    [IK_FILES] = {"files", parse_files, 0},
    [IK_ENV] = {"env", parse_env, 0},
    [IK_EXPOSE] = {"expose", parse_expose, 0},
    [IK_USER] = {"user", parse_user, 0},
    [IK_WORKDIR] = {"workdir", parse_workdir, 0},
    [IK_VOLUMES] = {"volumes", parse_volumes, 0},
    [IK_LABELS] = {"labels", parse_labels, 0},
    [IK_PROGRAMS] = {"programs", parse_programs, 0},
    [IK_GROUPS] = {"groups", parse_groups, 0},
    [IK_HEALTHCHECK] = {"healthcheck", parse_healthcheck, KD_ROOT_ONLY},
    [IK_SUPERVISORD] = {"supervisord", parse_supervisord, KD_ROOT_ONLY},
    [IK_DEPLOY] = {"deploy", parse_deploy, 0},
    [IK_HARDENED] = {"hardened", parse_hardened, 0},
};

static const char *const top_keys[] = {"version", "defaults", "images"};
static const char *const health_keys[] = {"interval", "timeout", "start_period", "retries",
					  "programs"};
static const char *const group_keys[] = {"programs", "priority"};
static const char *const deploy_keys[] = {"replicas", "ports",	"volumes",
					  "cpu",      "memory", "capabilities"};
static const char *const pm_names[] = {
    [PM_APT] = "apt", [PM_APK] = "apk", [PM_DNF] = "dnf", [PM_YUM] = "yum"};

const char *image_key_name(enum image_key k)
{
	return image_keys[k].name;
}

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

const char *image_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strchr(slash ? slash : ref, ':');
	return colon ? colon + 1 : "";
}

bool image_name_eq(const char *a, const char *b)
{
	size_t an = strlen(a) - (*image_tag(a) ? strlen(image_tag(a)) + 1 : 0);
	size_t bn = strlen(b) - (*image_tag(b) ? strlen(image_tag(b)) + 1 : 0);
	const char *at = *image_tag(a) ? image_tag(a) : "latest";
	const char *bt = *image_tag(b) ? image_tag(b) : "latest";
	return an == bn && strncmp(a, b, an) == 0 && strcmp(at, bt) == 0;
}

void *array_grow(void *v, size_t n, size_t size)
{
	if (n & (n - 1))
		return v; /* n is not a power of two: below the capacity */
	return xrealloc(v, (n ? 2 * n : 1) * size);
}

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *node_at(struct loader *L, int index)
{
	return yaml_document_get_node(&L->doc, index);
}

static const char *scalar(const yaml_node_t *n)
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

static void type_error(struct loader *L, const yaml_node_t *n, const char *image, const char *key,
		       const char *want)
{
	stack_error(L->d, L->st, line_of(n), image, key, "expected %s, got %s", want, kind_name(n));
}

static bool want_kind(struct loader *L, const yaml_node_t *n, yaml_node_type_t t, const char *image,
		      const char *key, const char *want)
{
	if (n->type == t && !(t == YAML_SCALAR_NODE && is_null(n)))
		return true;
	type_error(L, n, image, key, want);
	return false;
}

/*
 * Why a scalar cannot be written into one line of a Dockerfile, an INI file or a message, or
 * NULL: every value of a stack file ends up in one of them, and a line break there would start
 * an instruction or a section of the writer's choosing.
 */
static const char *bad_text(const char *s, size_t len)
{
	if (strlen(s) != len)
		return "contains a NUL character";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n' || c == '\r')
			return "contains a line break (a generated Dockerfile or INI line cannot "
			       "carry one)";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

static bool check_text(struct loader *L, const yaml_node_t *n, const char *image, const char *key)
{
	const char *why = bad_text(scalar(n), n->data.scalar.length);
	if (why)
		stack_error(L->d, L->st, line_of(n), image, key, "'%.80s' %s", scalar(n), why);
	return !why;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether s is not empty, starts with a letter or digit, and has only those and extra. */
static bool only_chars(const char *s, const char *extra)
{
	if (!is_alnum(*s))
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(extra, *s))
			return false;
	return true;
}

static struct sval sval_of(const yaml_node_t *n)
{
	return (struct sval){xstrdup(scalar(n)), line_of(n)};
}

static bool get_string(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		       struct sval *out)
{
	if (!want_kind(L, n, YAML_SCALAR_NODE, image, key, "a string") ||
	    !check_text(L, n, image, key))
		return false;
	free(out->s);
	*out = sval_of(n);
	return true;
}

static void slist_push(struct slist *l, struct sval v)
{
	l->v = array_grow(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = v;
}

static void slist_free(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].k.s);
		free(m->v[i].v.s);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static void smap_push(struct smap *m, struct sval k, struct sval v)
{
	m->v = array_grow(m->v, m->n, sizeof(*m->v));
	m->v[m->n++] = (struct spair){k, v};
}

static bool get_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
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
static size_t map_pairs(struct loader *L, yaml_node_t *n, const char *image, const char *key,
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

static bool get_map(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		    struct smap *out)
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
static void get_checked_list(struct loader *L, yaml_node_t *n, const char *image, const char *key,
			     struct slist *out, bool (*valid)(const char *), const char *what)
{
	get_list(L, n, image, key, out);
	for (size_t j = 0; j < out->n; j++)
		if (!valid(out->v[j].s))
			stack_error(L->d, L->st, out->v[j].line, image, key, "'%s' is not %s",
				    out->v[j].s, what);
}

static void unknown_key(struct loader *L, yaml_node_t *k, const char *image, const char *within,
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

static const char *bad_image_name(const char *s);

/* An existing image: NAME[:TAG][@ALGORITHM:HEX], NAME and TAG as an image of the stack takes. */
static const char *bad_reference(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at)
		return bad_image_name(s);
	const char *colon = strchr(at, ':');
	if (!colon || colon == at + 1 || !colon[1] ||
	    strspn(colon + 1, "0123456789abcdef") != strlen(colon + 1))
		return "has a digest that is not @ALGORITHM:HEX (like @sha256:...)";
	for (const char *p = at + 1; p < colon; p++)
		if (!is_alnum(*p) && !strchr("+._-", *p))
			return "has a character docker does not take in its digest";
	char *name = xstrndup(s, (size_t)(at - s));
	const char *why = bad_image_name(name);
	free(name);
	return why;
}

static void parse_from(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!get_string(L, n, im->name.s, key, &im->from))
		return;
	const char *why = bad_reference(im->from.s);
	if (why)
		stack_error(L->d, L->st, im->from.line, im->name.s, key,
			    "'%s' is not an image reference: it %s", im->from.s, why);
}

/* The packages go into a shell command unquoted: names, versions and releases only. */
#define PACKAGE_CHARS ".+_:=~@/-"

static void parse_packages(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_list(L, n, im->name.s, key, &im->packages); /* the items it kept are checked */
	for (size_t i = 0; i < im->packages.n; i++)
		if (!only_chars(im->packages.v[i].s, PACKAGE_CHARS))
			stack_error(L->d, L->st, im->packages.v[i].line, im->name.s, key,
				    "'%s' is not a package name (a letter or digit, then letters, "
				    "digits and %s)",
				    im->packages.v[i].s, PACKAGE_CHARS);
}

static void parse_package_manager(struct loader *L, yaml_node_t *n, struct image *im,
				  const char *key)
{
	if (!get_string(L, n, im->name.s, key, &im->package_manager))
		return;
	for (size_t i = 1; i < ARRAY_SIZE(pm_names); i++)
		if (strcmp(im->package_manager.s, pm_names[i]) == 0)
			return;
	stack_error(L->d, L->st, line_of(n), im->name.s, key,
		    "'%s' is not one of apt, apk, dnf, yum", im->package_manager.s);
}

/* A string is one command per non-empty line; a list one command per item. */
static void parse_run_string(struct loader *L, yaml_node_t *n, struct image *im, const char *key);

/* A command is one line of a RUN joined with " \\\n && ": a trailing backslash would pull our
 * next instruction into the shell command. */
static void parse_run(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (n->type == YAML_SEQUENCE_NODE)
		get_list(L, n, im->name.s, key, &im->run);
	else
		parse_run_string(L, n, im, key);
	for (size_t i = 0; i < im->run.n; i++) {
		const struct sval *c = &im->run.v[i];
		const char *why = bad_text(c->s, strlen(c->s));
		if (!why && *c->s && c->s[strlen(c->s) - 1] == '\\')
			why = "ends with a backslash (it would continue into the next instruction)";
		if (why)
			stack_error(L->d, L->st, c->line, im->name.s, key, "'%.80s' %s", c->s, why);
	}
}

static void parse_run_string(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!want_kind(L, n, YAML_SCALAR_NODE, im->name.s, key, "a string or a list of strings"))
		return;
	slist_free(&im->run);
	if (strlen(scalar(n)) != n->data.scalar.length) {
		stack_error(L->d, L->st, line_of(n), im->name.s, key, "contains a NUL character");
		return;
	}
	char *copy = xstrdup(scalar(n));
	int line = line_of(n) + (n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
				 n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE);
	for (char *p = copy; *p; line++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *cmd = str_strip(p);
		if (*cmd)
			slist_push(&im->run, (struct sval){xstrdup(cmd), line});
		if (!nl)
			break;
		p = nl + 1;
	}
	free(copy);
}

static void parse_files(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_map(L, n, im->name.s, key, &im->files);
}

static bool valid_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && *s != '_')
			return false;
	return true;
}

/* The keys of a map that every one must pass valid; each that does not is reported. */
static void check_map_keys(struct loader *L, const struct smap *m, const char *image,
			   const char *key, bool (*valid)(const char *), const char *what)
{
	for (size_t i = 0; i < m->n; i++)
		if (!valid(m->v[i].k.s))
			stack_error(L->d, L->st, m->v[i].k.line, image, key, "'%s' is not %s",
				    m->v[i].k.s, what);
}

#define ENV_NAME_WHAT "a variable name (letters, digits and _, not starting with a digit)"

static void parse_env(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_map(L, n, im->name.s, key, &im->env);
	check_map_keys(L, &im->env, im->name.s, key, valid_env_name, ENV_NAME_WHAT);
}

static bool valid_label_name(const char *s)
{
	return only_chars(s, "._/-");
}

static void parse_labels(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_map(L, n, im->name.s, key, &im->labels);
	check_map_keys(L, &im->labels, im->name.s, key, valid_label_name,
		       "a label name (a letter or digit, then letters, digits and . _ / -)");
}

static bool valid_port(const char *s)
{
	char *end;
	errno = 0;
	long p = strtol(s, &end, 10);
	if (end == s || !isdigit((unsigned char)*s) || errno || p < 1 || p > 65535)
		return false;
	return !*end || !strcmp(end, "/tcp") || !strcmp(end, "/udp") || !strcmp(end, "/sctp");
}

static void parse_expose(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!get_list(L, n, im->name.s, key, &im->expose))
		return;
	for (size_t i = 0; i < im->expose.n; i++)
		if (!valid_port(im->expose.v[i].s))
			stack_error(L->d, L->st, im->expose.v[i].line, im->name.s, key,
				    "'%s' is not a port (1-65535, optionally /tcp, /udp, /sctp)",
				    im->expose.v[i].s);
}

/* USER NAME[:GROUP], each a user name or a number. */
static bool valid_user_part(const char *s, size_t n)
{
	if (!n || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

static bool valid_user(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return valid_user_part(s, strlen(s));
	return valid_user_part(s, (size_t)(colon - s)) &&
	       valid_user_part(colon + 1, strlen(colon + 1));
}

static void parse_user(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (get_string(L, n, im->name.s, key, &im->user) && !valid_user(im->user.s))
		stack_error(L->d, L->st, im->user.line, im->name.s, key,
			    "'%s' is not USER[:GROUP] (each a name or a number: letters, digits "
			    "and . _ -)",
			    im->user.s);
}

static void parse_workdir(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!get_string(L, n, im->name.s, key, &im->workdir))
		return;
	if (im->workdir.s[0] != '/')
		stack_error(L->d, L->st, im->workdir.line, im->name.s, key,
			    "'%s' is not an absolute path", im->workdir.s);
	else if (strchr(im->workdir.s, '\\')) /* WORKDIR has no quoting */
		stack_error(L->d, L->st, im->workdir.line, im->name.s, key,
			    "'%s' has a backslash (the Dockerfile escape character)",
			    im->workdir.s);
}

static void parse_volumes(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!get_list(L, n, im->name.s, key, &im->volumes))
		return;
	for (size_t i = 0; i < im->volumes.n; i++)
		if (im->volumes.v[i].s[0] != '/')
			stack_error(L->d, L->st, im->volumes.v[i].line, im->name.s, key,
				    "'%s' is not an absolute path", im->volumes.v[i].s);
}

/* supervisord's environment syntax has no escapes: a value is quoted with the quote it lacks. */
static char *environment_string(struct loader *L, yaml_node_t *n, const char *image,
				const char *key)
{
	struct smap env = {0};
	get_map(L, n, image, key, &env);
	check_map_keys(L, &env, image, key, valid_env_name, ENV_NAME_WHAT);
	struct buf sb = {0};
	buf_puts(&sb, "");
	for (size_t i = 0; i < env.n; i++) {
		const char *k = env.v[i].k.s, *v = env.v[i].v.s;
		char q = strchr(v, '"') ? '\'' : '"';
		if (strchr(v, '"') && strchr(v, '\''))
			stack_error(L->d, L->st, env.v[i].v.line, image, key,
				    "the value of %s has both ' and \": supervisord's environment "
				    "cannot quote it",
				    k);
		buf_printf(&sb, "%s%s=%c%s%c", i ? "," : "", k, q, v, q);
	}
	smap_free(&env);
	return buf_xsteal(&sb);
}

static const char *const *program_key_names(size_t *n)
{
	static const char *names[64];
	static size_t count;
	if (!count)
		while (count < ARRAY_SIZE(names) &&
		       (names[count] = config_key_name("program:x", count)))
			count++;
	*n = count;
	return names;
}

/* A program's or group's name goes into an INI section header and a group's `programs=` list. */
#define ENTRY_NAME_WHAT "a letter or digit, then letters, digits and . _ - @ +"

static bool valid_entry_name(const char *s)
{
	return valid_name(s) && only_chars(s, "._-@+");
}

/* The name and pairs of a program or group; returns "KIND.NAME" for messages (malloc'd). */
static char *entry_start(struct loader *L, yaml_node_t *k, yaml_node_t *v, struct image *im,
			 const char *kind, struct sval *name, yaml_node_pair_t **pairs, size_t *np)
{
	*name = sval_of(k);
	char *where = xasprintf("%s.%s", kind, name->s);
	if (!valid_entry_name(name->s))
		stack_error(L->d, L->st, name->line, im->name.s, where, "not a valid name (%s)",
			    ENTRY_NAME_WHAT);
	*np = map_pairs(L, v, im->name.s, where, pairs);
	return where;
}

static void parse_program(struct loader *L, yaml_node_t *k, yaml_node_t *v, struct image *im,
			  void *entry)
{
	struct program *p = entry;
	yaml_node_pair_t *pairs;
	size_t np, nnames;
	char *where = entry_start(L, k, v, im, "programs", &p->name, &pairs, &np);
	const char *const *names = program_key_names(&nnames);
	bool has_command = false;
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *pk = node_at(L, pairs[i].key), *pv = node_at(L, pairs[i].value);
		const char *name = scalar(pk);
		size_t j = 0;
		while (j < nnames && strcmp(names[j], name) != 0)
			j++;
		if (j == nnames) {
			unknown_key(L, pk, im->name.s, where, names, nnames);
			continue;
		}
		has_command |= strcmp(name, "command") == 0;
		char *sub = xasprintf("%s.%s", where, name);
		if (strcmp(name, "environment") == 0 && pv->type == YAML_MAPPING_NODE) {
			smap_push(
			    &p->keys, sval_of(pk),
			    (struct sval){environment_string(L, pv, im->name.s, sub), line_of(pv)});
		} else if (want_kind(L, pv, YAML_SCALAR_NODE, im->name.s, sub,
				     strcmp(name, "environment") == 0
					 ? "a mapping or a string"
					 : "a string, number or boolean")) {
			if (check_text(L, pv, im->name.s, sub))
				smap_push(&p->keys, sval_of(pk), sval_of(pv));
		}
		free(sub);
	}
	if (v->type == YAML_MAPPING_NODE && !has_command)
		stack_error(L->d, L->st, p->name.line, im->name.s, where, "no command");
	free(pairs);
	free(where);
}

static bool get_int(struct loader *L, yaml_node_t *n, const char *image, const char *key,
		    long long min, long long max, struct sval *out)
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

static void parse_group(struct loader *L, yaml_node_t *k, yaml_node_t *v, struct image *im,
			void *entry)
{
	struct group *g = entry;
	yaml_node_pair_t *pairs;
	size_t np;
	char *where = entry_start(L, k, v, im, "groups", &g->name, &pairs, &np);
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *gk = node_at(L, pairs[i].key), *gv = node_at(L, pairs[i].value);
		char *sub = xasprintf("%s.%s", where, scalar(gk));
		if (strcmp(scalar(gk), "programs") == 0)
			get_checked_list(L, gv, im->name.s, sub, &g->programs, valid_entry_name,
					 "a program name (" ENTRY_NAME_WHAT ")");
		else if (strcmp(scalar(gk), "priority") == 0)
			get_int(L, gv, im->name.s, sub, -(1LL << 40), 1LL << 40, &g->priority);
		else
			unknown_key(L, gk, im->name.s, where, group_keys, ARRAY_SIZE(group_keys));
		free(sub);
	}
	if (v->type == YAML_MAPPING_NODE && !g->programs.n)
		stack_error(L->d, L->st, g->name.line, im->name.s, where, "no programs");
	free(pairs);
	free(where);
}

typedef void entry_fn(struct loader *L, yaml_node_t *k, yaml_node_t *v, struct image *im,
		      void *entry);

/* A mapping of name → entry (programs, groups) as an array of entries of the given size. */
static void *parse_named(struct loader *L, yaml_node_t *n, struct image *im, const char *key,
			 size_t size, entry_fn *parse_entry, size_t *count)
{
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, im->name.s, key, &pairs);
	char *entries = xcalloc(np ? np : 1, size);
	for (size_t i = 0; i < np; i++)
		parse_entry(L, node_at(L, pairs[i].key), node_at(L, pairs[i].value), im,
			    entries + i * size);
	*count = np;
	free(pairs);
	return entries;
}

static void parse_programs(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	im->programs =
	    parse_named(L, n, im, key, sizeof(struct program), parse_program, &im->nprograms);
}

static void parse_groups(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	im->groups = parse_named(L, n, im, key, sizeof(struct group), parse_group, &im->ngroups);
}

static void parse_healthcheck(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	struct healthcheck *h = &im->health;
	if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), "none") == 0) {
		h->none = true;
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		type_error(L, n, im->name.s, key, "a mapping or 'none'");
		return;
	}
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, im->name.s, key, &pairs);
	struct sval *durations[] = {&h->interval, &h->timeout, &h->start_period};
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *hk = node_at(L, pairs[i].key), *hv = node_at(L, pairs[i].value);
		char *sub = xasprintf("%s.%s", key, scalar(hk));
		size_t j = 0;
		while (j < ARRAY_SIZE(health_keys) && strcmp(health_keys[j], scalar(hk)) != 0)
			j++;
		if (j < ARRAY_SIZE(durations)) {
			double secs;
			if (get_string(L, hv, im->name.s, sub, durations[j]) &&
			    duration_secs(durations[j]->s, &secs) != 0)
				stack_error(L->d, L->st, durations[j]->line, im->name.s, sub,
					    "'%s' is not a duration (like 2s, 1m30s)",
					    durations[j]->s);
		} else if (j == 3) {
			get_int(L, hv, im->name.s, sub, 1, 1000, &h->retries);
		} else if (j == 4) {
			get_list(L, hv, im->name.s, sub, &h->programs);
		} else {
			unknown_key(L, hk, im->name.s, key, health_keys, ARRAY_SIZE(health_keys));
		}
		free(sub);
	}
	free(pairs);
}

/* "8080", "80/udp", "8080:80", "8080:80/tcp": published (optional) and container port. */
static bool valid_published_port(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return valid_port(s);
	char *host = xstrndup(s, (size_t)(colon - s));
	bool ok = strchr(host, '/') == NULL && valid_port(host) && valid_port(colon + 1);
	free(host);
	return ok;
}

/* "NAME:/path", "/host/path:/path", either with ":ro". */
static bool valid_mount(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon[1] != '/')
		return false;
	/* a named volume's name is written bare as a key of the compose file's `volumes:` */
	char *source = xstrndup(s, (size_t)(colon - s));
	bool named = !strchr("/.~", source[0]);
	bool ok = !named || only_chars(source, "_.-");
	free(source);
	if (!ok)
		return false;
	const char *mode = strchr(colon + 1, ':');
	return !mode || strcmp(mode, ":ro") == 0 || strcmp(mode, ":rw") == 0;
}

/* A Kubernetes quantity, the forms a stack needs: "2", "0.5", "500m", "256Mi", "1G". */
static bool valid_quantity(const char *s)
{
	static const char *const suffixes[] = {"", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"};
	size_t n = strspn(s, "0123456789");
	if (!n || n > 12)
		return false;
	if (s[n] == '.') {
		size_t f = strspn(s + n + 1, "0123456789");
		if (!f || f > 6)
			return false;
		n += 1 + f;
	}
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (strcmp(s + n, suffixes[i]) == 0)
			return true;
	return false;
}

static bool valid_capability(const char *s)
{
	return *s && strlen(s) <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(s) &&
	       strncmp(s, "CAP_", 4) != 0;
}

static void get_checked(struct loader *L, yaml_node_t *n, const char *image, const char *key,
			struct sval *out, bool (*valid)(const char *), const char *what)
{
	if (get_string(L, n, image, key, out) && !valid(out->s))
		stack_error(L->d, L->st, out->line, image, key, "'%s' is not %s", out->s, what);
}

static void parse_hardened(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	bool b;
	if (get_string(L, n, im->name.s, key, &im->hardened) && parse_bool(im->hardened.s, &b) != 0)
		stack_error(L->d, L->st, im->hardened.line, im->name.s, key,
			    "'%s' is not true or false", im->hardened.s);
}

static void parse_deploy(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	struct deploy *dp = &im->deploy;
	yaml_node_pair_t *pairs;
	size_t np = map_pairs(L, n, im->name.s, key, &pairs);
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *dk = node_at(L, pairs[i].key), *dv = node_at(L, pairs[i].value);
		char *sub = xasprintf("%s.%s", key, scalar(dk));
		if (strcmp(scalar(dk), "replicas") == 0)
			get_int(L, dv, im->name.s, sub, 0, 10000, &dp->replicas);
		else if (strcmp(scalar(dk), "ports") == 0)
			get_checked_list(L, dv, im->name.s, sub, &dp->ports, valid_published_port,
					 "PORT or PUBLISHED:PORT (1-65535, optionally /tcp, /udp, "
					 "/sctp)");
		else if (strcmp(scalar(dk), "volumes") == 0)
			get_checked_list(L, dv, im->name.s, sub, &dp->volumes, valid_mount,
					 "SOURCE:/path[:ro] (SOURCE a volume name of letters, "
					 "digits and _ . -, or a host path)");
		else if (strcmp(scalar(dk), "cpu") == 0)
			get_checked(
			    L, dv, im->name.s, sub, &dp->cpu, valid_quantity,
			    "a quantity (a number, optionally with m, k, M, G, Ki, Mi, Gi)");
		else if (strcmp(scalar(dk), "memory") == 0)
			get_checked(
			    L, dv, im->name.s, sub, &dp->memory, valid_quantity,
			    "a quantity (a number, optionally with m, k, M, G, Ki, Mi, Gi)");
		else if (strcmp(scalar(dk), "capabilities") == 0)
			get_checked_list(
			    L, dv, im->name.s, sub, &dp->capabilities, valid_capability,
			    "a capability name without CAP_ (upper-case letters and _)");
		else
			unknown_key(L, dk, im->name.s, key, deploy_keys, ARRAY_SIZE(deploy_keys));
		free(sub);
	}
	free(pairs);
}

static void parse_supervisord(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	if (!get_map(L, n, im->name.s, key, &im->supervisord))
		return;
	const char *names[64];
	size_t nn = 0;
	while (nn < ARRAY_SIZE(names) && (names[nn] = config_key_name("supervisord", nn)))
		nn++;
	for (size_t i = 0; i < im->supervisord.n; i++) {
		const struct sval *k = &im->supervisord.v[i].k;
		size_t j = 0;
		while (j < nn && strcmp(names[j], k->s) != 0)
			j++;
		if (j < nn)
			continue;
		const char *s = config_suggest(k->s, names, nn);
		char *what = xasprintf("%s.%s", key, k->s);
		stack_error(L->d, L->st, k->line, im->name.s, what, "unknown key%s%s%s",
			    s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		free(what);
	}
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

/* Docker's rules, loosely: lower-case repository path, optional registry host[:port], tag. */
static const char *bad_image_name(const char *s)
{
	if (!*s)
		return "is empty";
	const char *tag = image_tag(s);
	size_t repo_len = strlen(s) - (*tag ? strlen(tag) + 1 : 0);
	const char *first_slash = strchr(s, '/');
	for (size_t i = 0; i < repo_len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool in_host = first_slash && s + i < first_slash;
		if (isspace(c))
			return "contains whitespace";
		if (isupper(c) && !in_host)
			return "has upper-case letters (docker takes lower-case repository names)";
		if (!isalnum(c) && !strchr("._-/:", c))
			return "has a character docker does not take";
	}
	if (s[repo_len] == ':' && !*tag)
		return "has an empty tag";
	for (const char *t = tag; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("._-", *t))
			return "has a character docker does not take in its tag";
	return NULL;
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
