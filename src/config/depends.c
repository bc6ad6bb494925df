#include "depends.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "util.h"

static const char *const cond_names[] = {"started", "running", "healthy", "completed"};

const char *dep_cond_name(enum dep_cond c)
{
	return cond_names[c];
}

void dep_list_free(struct dep_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool dep_list_equal(const struct dep_list *a, const struct dep_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || a->v[i].cond != b->v[i].cond ||
		    a->v[i].group != b->v[i].group)
			return false;
	return true;
}

int parse_depends(const char *v, struct dep_list *out, char **why)
{
	char *copy = xstrdup(v), *save = NULL;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *item = str_strip(tok);
		if (!*item)
			continue;
		struct dep d = {.cond = DEP_RUNNING};
		char *colon = strchr(item, ':');
		if (colon) {
			*colon = '\0';
			const char *what = colon + 1;
			if (!strcmp(what, "*")) {
				d.group = true;
				/* a group with a condition: workers:*:healthy */
				what = "";
			} else if (!strncmp(what, "*:", 2)) {
				d.group = true;
				what += 2;
			}
			if (*what) {
				size_t c = 0;
				while (c < 4 && strcmp(cond_names[c], what) != 0)
					c++;
				if (c == 4) {
					*why =
					    xasprintf("'%s' is not a condition (started, running, "
						      "healthy, completed)",
						      what);
					rc = -1;
					break;
				}
				d.cond = (enum dep_cond)c;
			}
		}
		if (!valid_name(item)) {
			*why = xasprintf("'%s' is not a program or group name", item);
			rc = -1;
			break;
		}
		d.name = xstrdup(item);
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = d;
	}
	free(copy);
	if (rc < 0)
		dep_list_free(out);
	return rc;
}

/* The programs of the config, flat: [program:x] name -> its first proc_conf (they share the
 * section's keys). */
struct node {
	const struct proc_conf *p;
	const char *group;
	int mark; /* cycle search: 0 new, 1 on the path, 2 done */
};

static struct node *find_program(struct node *nodes, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(nodes[i].p->program, name))
			return &nodes[i];
	return NULL;
}

static bool group_exists(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i]->name, name))
			return true;
	return false;
}

static void where(struct loader *L, const struct proc_conf *p, struct raw *r)
{
	const struct ini_section *sec = ini_find_section(&L->doc, p->section);
	if (!sec || !raw_get(L, sec, "depends_on", NULL, r)) {
		r->value = "";
		r->file = p->file;
		r->line = p->line;
		r->from_file = true;
	}
}

/* Depth-first from n; a node met again on the path closes a cycle, which path[] spells. */
static bool cyclic(struct loader *L, struct node *nodes, size_t count, struct node *n,
		   const char **path, size_t depth)
{
	n->mark = 1;
	path[depth] = n->p->program;
	const struct dep_list *deps = &n->p->depends_on;
	for (size_t i = 0; i < deps->n; i++) {
		for (size_t j = 0; j < count; j++) {
			struct node *m = &nodes[j];
			bool hit = deps->v[i].group ? !strcmp(m->group, deps->v[i].name)
						    : !strcmp(m->p->program, deps->v[i].name);
			if (!hit || m->mark == 2)
				continue;
			if (m->mark == 1) {
				struct buf cycle = {0};
				size_t k = 0;
				while (k <= depth && strcmp(path[k], m->p->program) != 0)
					k++;
				/* spelled from the program whose line is named: n -> m -> ... -> n
				 */
				buf_puts(&cycle, n->p->program);
				for (; k <= depth; k++)
					buf_printf(&cycle, " -> %s", path[k]);
				struct raw r;
				where(L, n->p, &r);
				config_report(L, DIAG_ERROR, &r, n->p->section, "depends_on",
					      "a cycle: %s", cycle.data ? cycle.data : "?");
				buf_free(&cycle);
				return true;
			}
			if (cyclic(L, nodes, count, m, path, depth + 1))
				return true;
		}
	}
	n->mark = 2;
	return false;
}

int check_depends(struct loader *L)
{
	struct config *c = L->c;
	size_t n = 0;
	for (size_t g = 0; g < c->ngroups; g++)
		n += c->groups[g]->nprocs;
	struct node *nodes = xcalloc(n ? n : 1, sizeof(*nodes));
	size_t count = 0;
	for (size_t g = 0; g < c->ngroups; g++)
		for (size_t i = 0; i < c->groups[g]->nprocs; i++) {
			const struct proc_conf *p = c->groups[g]->procs[i];
			if (find_program(nodes, count, p->program))
				continue;
			nodes[count].p = p;
			nodes[count].group = c->groups[g]->name;
			count++;
		}
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		const struct proc_conf *p = nodes[i].p;
		const char *section = p->section;
		for (size_t k = 0; k < p->depends_on.n; k++) {
			const struct dep *d = &p->depends_on.v[k];
			struct raw r;
			where(L, p, &r);
			if (d->group ? !group_exists(c, d->name)
				     : !find_program(nodes, count, d->name)) {
				config_report(L, DIAG_ERROR, &r, section, "depends_on",
					      "no %s named '%s'", d->group ? "group" : "program",
					      d->name);
				rc = -1;
				continue;
			}
			if (!d->group && !strcmp(d->name, p->program)) {
				config_report(L, DIAG_ERROR, &r, section, "depends_on",
					      "a program cannot depend on itself");
				rc = -1;
				continue;
			}
			for (size_t j = 0; d->cond == DEP_HEALTHY && j < count; j++) {
				const struct proc_conf *q = nodes[j].p;
				bool hit = d->group ? !strcmp(nodes[j].group, d->name)
						    : !strcmp(q->program, d->name);
				if (hit && q->health.kind == HEALTH_NONE) {
					config_report(L, DIAG_ERROR, &r, section, "depends_on",
						      "'%s:healthy' needs a healthcheck in "
						      "[program:%s]",
						      d->name, q->program);
					rc = -1;
					break;
				}
			}
		}
	}
	const char **path = xcalloc(count ? count : 1, sizeof(*path));
	for (size_t i = 0; rc == 0 && i < count; i++)
		if (nodes[i].mark == 0 && cyclic(L, nodes, count, &nodes[i], path, 0))
			rc = -1;
	free(path);
	free(nodes);
	return rc;
}
