/* The keys of an image: the table (name, parser, where it may be set) and one parser a key, each
 * with the checks that keep its values fit for a Dockerfile line and the generated INI. */
#include "stack_loader.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "deploy.h"
#include "stack_values.h"
#include "util.h"
#include "values.h"

static parse_fn parse_from, parse_packages, parse_package_manager, parse_run, parse_files,
    parse_env, parse_expose, parse_user, parse_workdir, parse_volumes, parse_labels, parse_programs,
    parse_groups, parse_healthcheck, parse_supervisord, parse_deploy, parse_hardened;

/* Indexed by enum image_key. */
const struct image_keydef image_keys[IK_COUNT] = {
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

static void parse_env(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_map(L, n, im->name.s, key, &im->env);
	check_map_keys(L, &im->env, im->name.s, key, valid_env_name, ENV_NAME_WHAT);
}

static void parse_labels(struct loader *L, yaml_node_t *n, struct image *im, const char *key)
{
	get_map(L, n, im->name.s, key, &im->labels);
	check_map_keys(L, &im->labels, im->name.s, key, valid_label_name,
		       "a label name (a letter or digit, then letters, digits and . _ / -)");
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
