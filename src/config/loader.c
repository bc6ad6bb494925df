#include "loader.h"

#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "keytypes.h"

char *path_dir(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));
	free(copy);
	char abs[PATH_MAX];
	if (realpath(dir, abs)) {
		free(dir);
		return xstrdup(abs);
	}
	return dir;
}

bool raw_get(struct loader *L, const struct ini_section *sec, const char *key, const char *dflt,
	     struct raw *r)
{
	const struct ini_entry *e = sec ? ini_find(&L->doc, sec, key) : NULL;
	if (e) {
		*r = (struct raw){e->value, e->file, e->line, true};
		return true;
	}
	*r = (struct raw){dflt, sec ? sec->file : L->c->path, sec ? sec->line : 0, false};
	return dflt != NULL;
}

void config_report(struct loader *L, enum diag_level lvl, const struct raw *r, const char *section,
		   const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(L->d, lvl, r->file, r->line, section, key, fmt, ap);
	va_end(ap);
}

void base_expansions(struct loader *L, struct expand_ctx *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->host_node_name = L->hostname;
	ex->env = L->env.v;
}

int expand_raw(struct loader *L, const struct raw *r, const char *section, const char *key,
	       struct expand_ctx *ex, unsigned flags, char **out)
{
	char *err = NULL;
	char *here = NULL;

	if (flags & KF_NOEXPAND) {
		*out = xstrdup(r->value);
		return 0;
	}
	if (r->from_file) {
		here = path_dir(r->file);
		ex->here = here;
	}
	int rc = expand(r->value, ex, out, &err);
	if (rc == 0 && (flags & KF_TWICE)) {
		char *again = NULL;
		rc = expand(*out, ex, &again, &err);
		free(*out);
		*out = again;
	}
	if (rc < 0) {
		config_report(L, DIAG_ERROR, r, section, key, "%s", err);
		free(err);
	}
	free(here);
	ex->here = NULL;
	return rc;
}

static int parse_into(struct loader *L, const struct keydef *k, const struct raw *r,
		      const char *section, const char *v, void *dst)
{
	char *why = NULL;
	int rc = ktype_ops(k->type)->parse(k, v, dst, &why);
	/* a parser may accept a value with a warning (a # comment in environment) */
	if (why)
		config_report(L, rc == 0 ? DIAG_WARNING : DIAG_ERROR, r, section, k->name, "%s",
			      why);
	free(why);
	return rc == 0 ? 0 : -1;
}

int load_key(struct loader *L, const struct keydef *k, const struct ini_section *sec,
	     const char *section, struct expand_ctx *ex, const char *override, void *dst)
{
	struct raw r;
	char *v = NULL;

	if (override) {
		r = (struct raw){override, "command line", 0, false};
		return parse_into(L, k, &r, section, override, dst);
	}
	if (!raw_get(L, sec, k->name, k->dflt, &r)) {
		if (k->flags & KF_REQUIRED) {
			config_report(L, DIAG_ERROR, &r, section, k->name, "required, but missing");
			return -1;
		}
		if (ktype_ops(k->type)->unset_is_minus_one)
			*(int *)dst = -1;
		return 0;
	}
	if (expand_raw(L, &r, section, k->name, ex, k->flags, &v) < 0)
		return -1;
	int rc = parse_into(L, k, &r, section, v, dst);
	free(v);
	return rc;
}

static const char *override_for(const struct config_overrides *ov, const char *key)
{
	const char *found = NULL;
	for (size_t i = 0; ov && i < ov->n; i++)
		if (strcmp(ov->v[i].key, key) == 0)
			found = ov->v[i].value;
	return found;
}

int load_section(struct loader *L, const struct section_def *def, const struct ini_section *sec,
		 const char *section, struct expand_ctx *ex, const struct config_overrides *ov,
		 void *base)
{
	int rc = 0;
	for (size_t i = 0; i < section_nkeys(def); i++) {
		const struct keydef *k = section_key(def, i);
		if (k->flags & KF_EARLY)
			continue;
		if (load_key(L, k, sec, section, ex, override_for(ov, k->name),
			     (char *)base + k->off) < 0)
			rc = -1;
	}
	return rc;
}

void config_override(struct config_overrides *ov, const char *key, const char *value)
{
	ov->v = xrealloc(ov->v, (ov->n + 1) * sizeof(*ov->v));
	ov->v[ov->n++] = (struct config_override){key, value};
}

void config_overrides_free(struct config_overrides *ov)
{
	free(ov->v);
	ov->v = NULL;
	ov->n = 0;
}
