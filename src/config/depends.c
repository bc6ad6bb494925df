#include "depends.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "strtab.h"
#include "util.h"

static const char *const cond_names[] = {"started", "running", "healthy", "completed", "ready"};

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
				while (c < ARRAY_SIZE(cond_names) &&
				       strcmp(cond_names[c], what) != 0)
					c++;
				if (c == ARRAY_SIZE(cond_names)) {
					*why =
					    xasprintf("'%s' is not a condition (started, running, "
						      "healthy, completed, ready)",
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
 * section's keys). Names are found through hashes: a config of 20,000 programs in one chain is
 * checked in linear time. */
struct node {
	const struct proc_conf *p;
	const char *group;
	size_t next_in_group; /* 1 + the index of the next node of the same group, 0 at the end */
	int mark;	      /* cycle search: 0 new, 1 on the path, 2 done */
	size_t depth;	      /* its place on the path while marked 1 */
};

struct graph {
	struct node *nodes;
	size_t count;
	struct strtab programs; /* name -> 1 + node index */
	struct strtab groups;	/* name -> 1 + the first node index of the group */
};

static struct node *find_program(const struct graph *G, const char *name)
{
	uintptr_t i = (uintptr_t)strtab_find(&G->programs, name);
	return i ? &G->nodes[i - 1] : NULL;
}

static struct node *first_of_group(const struct graph *G, const char *name)
{
	uintptr_t i = (uintptr_t)strtab_find(&G->groups, name);
	return i ? &G->nodes[i - 1] : NULL;
}

static struct node *next_of_group(const struct graph *G, const struct node *n)
{
	return n->next_in_group ? &G->nodes[n->next_in_group - 1] : NULL;
}

static void put(struct strtab *t, const char *name, size_t val)
{
	struct strtab_entry *e = strtab_put(t, name, strlen(name));
	if (!e)
		xalloc_failed();
	e->val = (void *)(uintptr_t)val;
}

static void graph_build(struct graph *G, const struct config *c)
{
	size_t n = 0;
	for (size_t g = 0; g < c->ngroups; g++)
		n += c->groups[g]->nprocs;
	memset(G, 0, sizeof(*G));
	G->nodes = xcalloc(n ? n : 1, sizeof(*G->nodes));
	for (size_t g = 0; g < c->ngroups; g++) {
		const char *group = c->groups[g]->name;
		if (!strtab_get(&G->groups, group, strlen(group)))
			put(&G->groups, group, 0);
		size_t last = 0;
		for (size_t i = 0; i < c->groups[g]->nprocs; i++) {
			const struct proc_conf *p = c->groups[g]->procs[i];
			if (find_program(G, p->program))
				continue;
			struct node *nd = &G->nodes[G->count];
			nd->p = p;
			nd->group = group;
			put(&G->programs, p->program, ++G->count);
			if (last)
				G->nodes[last - 1].next_in_group = G->count;
			else
				put(&G->groups, group, G->count);
			last = G->count;
		}
	}
}

static void graph_free(struct graph *G)
{
	strtab_free(&G->programs);
	strtab_free(&G->groups);
	free(G->nodes);
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

__attribute__((format(printf, 4, 5))) static void
report(struct loader *L, enum diag_level level, const struct proc_conf *p, const char *fmt, ...)
{
	/* the line is looked up only for a report: a lookup per item would be quadratic */
	struct raw r;
	where(L, p, &r);
	struct buf msg = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	config_report(L, level, &r, p->section, "depends_on", "%s", msg.data ? msg.data : "?");
	buf_free(&msg);
}

/* What a program must have for a condition on it to make sense; NULL when nothing is missing. */
static const char *cond_needs(enum dep_cond c, const struct proc_conf *q)
{
	if (c == DEP_HEALTHY && q->health.kind == HEALTH_NONE)
		return "a healthcheck";
	if (c == DEP_READY && q->ready.kind == READY_NONE)
		return "a ready= key";
	return NULL;
}

/* What d names exists, is not p, and has a healthcheck when it must be healthy (ready=, ready). */
static int check_one(struct loader *L, const struct graph *G, const struct proc_conf *p,
		     const struct dep *d)
{
	struct node *m = d->group ? first_of_group(G, d->name) : find_program(G, d->name);
	if (!m && !(d->group && strtab_get(&G->groups, d->name, strlen(d->name)))) {
		report(L, DIAG_ERROR, p, "no %s named '%s'", d->group ? "group" : "program",
		       d->name);
		return -1;
	}
	if (!d->group && !strcmp(d->name, p->program)) {
		report(L, DIAG_ERROR, p, "a program cannot depend on itself");
		return -1;
	}
	for (struct node *q = m; q; q = d->group ? next_of_group(G, q) : NULL) {
		const char *need = cond_needs(d->cond, q->p);
		if (need) {
			report(L, DIAG_ERROR, p, "'%s:%s' needs %s in [program:%s]", d->name,
			       dep_cond_name(d->cond), need, q->p->program);
			return -1;
		}
	}
	/* Nothing starts a program with autostart=false but a person (or a start of one of
	 * its dependents): an autostarted dependent would wait for ever. */
	for (struct node *q = m; p->autostart && q; q = d->group ? next_of_group(G, q) : NULL)
		if (!q->p->autostart) {
			report(L, DIAG_WARNING, p,
			       "'%s' (%s) can only hold once something starts [program:%s], which "
			       "has autostart=false: %s waits in STOPPED until then (ctl start %s "
			       "starts both)",
			       d->name, dep_cond_name(d->cond), q->p->program, p->program,
			       p->program);
			break;
		}
	return 0;
}

/* One step of the depth-first search: a node on the path, and what of it is still to visit. */
struct frame {
	struct node *n;
	size_t k;	  /* its next depends_on item */
	struct node *cur; /* the next target of item k-1 (a group's members), or NULL */
};

static void report_cycle(struct loader *L, struct frame *path, size_t depth, struct node *n,
			 struct node *m)
{
	/* spelled from the program whose line is named: n -> m -> ... -> n */
	struct buf cycle = {0};
	buf_puts(&cycle, n->p->program);
	for (size_t k = m->depth; k <= depth; k++)
		buf_printf(&cycle, " -> %s", path[k].n->p->program);
	report(L, DIAG_ERROR, n->p, "a cycle: %s", cycle.data ? cycle.data : "?");
	buf_free(&cycle);
}

/* Depth-first from root with a stack of its own (a chain of 20,000 would overflow the real
 * one); a node met again on the path closes a cycle. */
static bool cyclic(struct loader *L, const struct graph *G, struct frame *path, struct node *root)
{
	size_t depth = 0;
	path[0] = (struct frame){root, 0, NULL};
	root->mark = 1;
	root->depth = 0;
	for (;;) {
		struct frame *f = &path[depth];
		struct node *m = f->cur;
		if (m) {
			f->cur = f->n->p->depends_on.v[f->k - 1].group ? next_of_group(G, m) : NULL;
		} else if (f->k < f->n->p->depends_on.n) {
			const struct dep *d = &f->n->p->depends_on.v[f->k++];
			m = d->group ? first_of_group(G, d->name) : find_program(G, d->name);
			f->cur = m && d->group ? next_of_group(G, m) : NULL;
		} else {
			f->n->mark = 2;
			if (depth-- == 0)
				return false;
			continue;
		}
		if (!m || m->mark == 2)
			continue;
		if (m->mark == 1) {
			report_cycle(L, path, depth, f->n, m);
			return true;
		}
		m->mark = 1;
		m->depth = ++depth;
		path[depth] = (struct frame){m, 0, NULL};
	}
}

int check_depends(struct loader *L)
{
	struct config *c = L->c;
	struct graph G;
	graph_build(&G, c);
	int rc = 0;
	for (size_t i = 0; i < G.count; i++) {
		const struct proc_conf *p = G.nodes[i].p;
		for (size_t k = 0; k < p->depends_on.n; k++)
			if (check_one(L, &G, p, &p->depends_on.v[k]) < 0)
				rc = -1;
	}
	struct frame *path = xcalloc(G.count ? G.count : 1, sizeof(*path));
	for (size_t i = 0; rc == 0 && i < G.count; i++)
		if (G.nodes[i].mark == 0 && cyclic(L, &G, path, &G.nodes[i]))
			rc = -1;
	free(path);
	graph_free(&G);
	return rc;
}
