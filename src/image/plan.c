/* The stack as a forest: each image's parent is a stack image or, for a root, an existing one. */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

/* Guessed from the repository's last path component; `tag` narrows an entry to that tag and its
 * point releases (centos:7, amazonlinux:2 are the yum ones). First match wins. */
static const struct pm_guess {
	const char *repo;
	const char *tag;
	enum pkg_manager pm;
} pm_guesses[] = {
    {"debian", NULL, PM_APT},	   {"ubuntu", NULL, PM_APT},	 {"alpine", NULL, PM_APK},
    {"fedora", NULL, PM_DNF},	   {"rockylinux", NULL, PM_DNF}, {"almalinux", NULL, PM_DNF},
    {"centos", "7", PM_YUM},	   {"centos", NULL, PM_DNF},	 {"amazonlinux", "2", PM_YUM},
    {"amazonlinux", NULL, PM_DNF},
};

static const char *const pm_names[] = {
    [PM_NONE] = "none", [PM_APT] = "apt", [PM_APK] = "apk", [PM_DNF] = "dnf", [PM_YUM] = "yum"};

const char *pm_name(enum pkg_manager pm)
{
	return pm_names[pm];
}

char *image_flat_name(const char *name)
{
	char *s = xstrdup(name);
	for (char *p = s; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '-';
	return s;
}

static enum pkg_manager pm_parse(const char *s)
{
	for (size_t i = 1; i < ARRAY_SIZE(pm_names); i++)
		if (strcmp(s, pm_names[i]) == 0)
			return (enum pkg_manager)i;
	return PM_NONE;
}

static enum pkg_manager pm_guess(const char *ref)
{
	char *copy = xstrdup(ref);
	char *at = strchr(copy, '@');
	if (at)
		*at = '\0';
	const char *tag = image_tag(copy);
	char *slash = strrchr(copy, '/');
	char *repo = slash ? slash + 1 : copy;
	char *colon = strchr(repo, ':');
	if (colon)
		*colon = '\0';
	enum pkg_manager pm = PM_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(pm_guesses) && pm == PM_NONE; i++) {
		const struct pm_guess *g = &pm_guesses[i];
		size_t tn = g->tag ? strlen(g->tag) : 0;
		if (strcmp(g->repo, repo) == 0 &&
		    (!g->tag || (strncmp(tag, g->tag, tn) == 0 && (!tag[tn] || tag[tn] == '.'))))
			pm = g->pm;
	}
	free(copy);
	return pm;
}

static int find_image(const struct stack *st, const char *ref)
{
	for (size_t i = 0; i < st->n; i++)
		if (image_name_eq(st->images[i].name.s, ref))
			return (int)i;
	return -1;
}

static bool pinned(const char *ref)
{
	const char *tag = image_tag(ref);
	return strstr(ref, "@sha256:") || strcmp(ref, "scratch") == 0 ||
	       (*tag && strcmp(tag, "latest") != 0);
}

static const char *suggest_image(const struct stack *st, const char *ref)
{
	const char **names = xcalloc(st->n + 1, sizeof(*names));
	for (size_t i = 0; i < st->n; i++)
		names[i] = st->images[i].name.s;
	const char *s = config_suggest(ref, names, st->n);
	free(names);
	return s;
}

static void resolve_parents(struct stack *st, struct diag *d)
{
	for (size_t i = 0; i < st->n; i++) {
		struct image *im = &st->images[i];
		if (!im->from.s)
			continue;
		im->parent = find_image(st, im->from.s);
		if (im->parent >= 0)
			continue;
		const char *s = suggest_image(st, im->from.s);
		if (s)
			stack_error(d, st, im->from.line, im->name.s, "from",
				    "no image '%s' in this stack (did you mean '%s'?)", im->from.s,
				    s);
		else if (!pinned(im->from.s))
			stack_error(
			    d, st, im->from.line, im->name.s, "from",
			    "'%s' is not pinned (nor an image of this stack): name a tag "
			    "other than latest or a @sha256: digest, so rebuilds start from "
			    "the same base",
			    im->from.s);
	}
}

/* Each image has one parent, so walking up more than n steps means a cycle. */
static void find_roots(struct stack *st, struct diag *d)
{
	for (size_t i = 0; i < st->n; i++) {
		struct image *im = &st->images[i];
		int cur = (int)i, steps = 0;
		bool cycle = false;
		while (st->images[cur].parent >= 0 && !cycle) {
			cur = st->images[cur].parent;
			steps++;
			cycle = cur == (int)i || steps > (int)st->n;
		}
		if (!cycle) {
			im->root = cur;
			im->depth = steps;
			continue;
		}
		if (cur != (int)i)
			continue; /* leads into a cycle, reported at the cycle's first image */
		int first = (int)i;
		for (int j = im->parent; j != (int)i; j = st->images[j].parent)
			if (j < first)
				first = j;
		if (first != (int)i)
			continue;
		struct buf sb = {0};
		buf_puts(&sb, im->name.s);
		for (int j = im->parent; j != (int)i; j = st->images[j].parent)
			buf_printf(&sb, " -> %s", st->images[j].name.s);
		buf_printf(&sb, " -> %s", im->name.s);
		stack_error(d, st, im->from.line, im->name.s, "from", "cycle: %s", sb.data);
		buf_free(&sb);
	}
}

static void resolve_pm(struct stack *st, struct image *im, struct diag *d)
{
	if (im->pm != PM_NONE || im->root < 0)
		return;
	if (im->package_manager.s)
		im->pm = pm_parse(im->package_manager.s);
	else if (im->parent >= 0) {
		resolve_pm(st, &st->images[im->parent], d);
		im->pm = st->images[im->parent].pm;
	} else if (im->from.s)
		im->pm = pm_guess(im->from.s);
	if (im->pm == PM_NONE && im->packages.n && im->package_manager.s == NULL)
		stack_error(d, st, im->key_line[IK_PACKAGES], im->name.s, "packages",
			    "cannot tell the package manager of '%s'; set package_manager (apt, "
			    "apk, dnf, yum)",
			    st->images[im->root].from.s ? st->images[im->root].from.s : "?");
}

static const struct program *chain_program(const struct stack *st, int from, const char *name,
					   int *owner)
{
	for (int j = from; j >= 0; j = st->images[j].parent)
		for (size_t k = 0; k < st->images[j].nprograms; k++)
			if (strcmp(st->images[j].programs[k].name.s, name) == 0) {
				*owner = j;
				return &st->images[j].programs[k];
			}
	return NULL;
}

static void check_programs(const struct stack *st, const struct image *im, struct diag *d)
{
	for (size_t k = 0; k < im->nprograms; k++) {
		const struct program *p = &im->programs[k];
		int owner;
		const struct program *other = chain_program(st, im->parent, p->name.s, &owner);
		if (!other)
			continue;
		char *where = xasprintf("programs.%s", p->name.s);
		stack_error(d, st, p->name.line, im->name.s, where,
			    "also a program of %s (line %d): a program name may appear in only "
			    "one layer of a chain",
			    st->images[owner].name.s, other->name.line);
		free(where);
	}
	for (size_t g = 0; g < im->ngroups; g++)
		for (size_t k = 0; k < im->groups[g].programs.n; k++) {
			const struct sval *name = &im->groups[g].programs.v[k];
			int owner;
			if (!chain_program(st, (int)(im - st->images), name->s, &owner))
				stack_error(d, st, name->line, im->name.s, "groups",
					    "'%s' is not a program of this image or of the images "
					    "beneath it",
					    name->s);
		}
}

/* Whether path is dir or under it (both real paths). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || !path[n] || dir[n - 1] == '/');
}

char *plan_context_source(const struct stack *st, const struct image *im, size_t k, struct diag *d)
{
	const char *rel = im->files.v[k].k.s;
	char *joined = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", st->dir, rel);
	char *top = realpath(st->dir, NULL);
	char *real = top ? realpath(joined, NULL) : NULL;
	const char *why = NULL;
	struct stat sb;
	if (!real && errno == ENOENT)
		why = "does not exist (context paths are relative to the stack file's directory)";
	else if (!real)
		why = strerror(errno);
	else if (!path_within(real, top))
		why = "is outside the stack file's directory (symbolic links resolved)";
	else if (stat(real, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
		why = "is not a regular file or a directory";
	if (why) {
		stack_error(d, st, im->files.v[k].k.line, im->name.s, "files", "'%s' %s", rel, why);
		free(real);
		real = NULL;
	}
	free(top);
	free(joined);
	return real;
}

static void check_files(const struct stack *st, const struct image *im, struct diag *d)
{
	for (size_t k = 0; k < im->files.n; k++) {
		const struct spair *f = &im->files.v[k];
		free(plan_context_source(st, im, k, d));
		if (f->v.s[0] != '/')
			stack_error(d, st, f->v.line, im->name.s, "files",
				    "'%s' is not an absolute path in the image", f->v.s);
	}
}

static void check_flat_names(const struct stack *st, struct diag *d)
{
	for (size_t i = 0; i < st->n; i++)
		for (size_t j = 0; j < i; j++) {
			char *a = image_flat_name(st->images[i].name.s);
			char *b = image_flat_name(st->images[j].name.s);
			if (strcmp(a, b) == 0)
				stack_error(d, st, st->images[i].name.line, st->images[i].name.s,
					    NULL,
					    "its file name '%s' is the same as %s's (line %d); "
					    "rename one",
					    a, st->images[j].name.s, st->images[j].name.line);
			free(a);
			free(b);
		}
}

/* Program and group entries of image i's chain: its own and its ancestors'. */
static size_t chain_entries(const struct stack *st, size_t i)
{
	size_t n = 0;
	for (int j = (int)i; j >= 0; j = st->images[j].parent) {
		const struct image *im = &st->images[j];
		n += im->nprograms + im->ngroups;
		for (size_t g = 0; g < im->ngroups; g++)
			n += im->groups[g].programs.n;
	}
	return n;
}

/* Every command checks, deploys or loads each image's chain as a whole, some pairwise: the sum
 * over images of their chain's entries is bounded, so no stack file makes that quadratic. */
static size_t all_chain_entries(const struct stack *st)
{
	size_t total = 0;
	for (size_t i = 0; i < st->n; i++)
		if (st->images[i].root >= 0)
			total += chain_entries(st, i);
	return total;
}

bool plan_chains_bounded(const struct stack *st)
{
	return all_chain_entries(st) <= STACK_MAX_CHAIN_ENTRIES;
}

static void check_chain_sizes(const struct stack *st, struct diag *d)
{
	size_t total = all_chain_entries(st);
	if (total > STACK_MAX_CHAIN_ENTRIES)
		stack_error(d, st, 0, NULL, "programs",
			    "the images' chains hold %zu programs, groups and group members in all "
			    "(each image counts its ancestors' too): at most %d",
			    total, STACK_MAX_CHAIN_ENTRIES);
}

int plan_resolve(struct stack *st, struct diag *d)
{
	int before = d->errors;
	resolve_parents(st, d);
	find_roots(st, d);
	for (size_t i = 0; i < st->n; i++) {
		struct image *im = &st->images[i];
		resolve_pm(st, im, d);
		if (im->root >= 0)
			check_programs(st, im, d);
		check_files(st, im, d);
	}
	check_flat_names(st, d);
	check_chain_sizes(st, d);
	return d->errors - before;
}

static void visit(const struct stack *st, size_t i, bool *taken, size_t *order, size_t *n)
{
	if (taken[i])
		return;
	taken[i] = true;
	if (st->images[i].parent >= 0)
		visit(st, (size_t)st->images[i].parent, taken, order, n);
	order[(*n)++] = i;
}

int plan_order(const struct stack *st, char *const *names, size_t nnames, size_t **order, size_t *n,
	       struct diag *d)
{
	bool *want = xcalloc(st->n + 1, sizeof(*want)), *taken = xcalloc(st->n + 1, sizeof(*taken));
	int rc = 0;
	for (size_t i = 0; i < nnames; i++) {
		int j = find_image(st, names[i]);
		if (j >= 0) {
			want[j] = true;
			continue;
		}
		const char *s = suggest_image(st, names[i]);
		diag_add(d, DIAG_ERROR, st->path, 0, NULL, NULL,
			 "no image '%s' in this stack%s%s%s", names[i], s ? " (did you mean '" : "",
			 s ? s : "", s ? "'?)" : "");
		rc = -1;
	}
	*order = xcalloc(st->n + 1, sizeof(**order));
	*n = 0;
	for (size_t i = 0; i < st->n && rc == 0; i++)
		if (!nnames || want[i])
			visit(st, i, taken, *order, n);
	free(want);
	free(taken);
	return rc;
}
