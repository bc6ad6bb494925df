/*
 * The config model: loads the document (inifile.c, include.c) into struct config through the key
 * tables (keys.c, loader.c), builds process groups, and compares groups for reload.
 */
#include "config.h"
#include "depends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keytypes.h"
#include "loader.h"
#include "net.h"
#include "passwd.h"
#include "strtab.h"

extern char **environ;

const char *config_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t dd = edit_distance(word, cands[i]);
		if (dd < best_d) {
			best_d = dd;
			best = cands[i];
		}
	}
	size_t len = strlen(word);
	return best && best_d <= (len < 6 ? 1 : len / 3 + 1) ? best : NULL;
}

static const char *suggest_key(const char *key, const struct section_def *def)
{
	const char *cands[64];
	size_t m = 0;
	for (size_t i = 0; i < section_nkeys(def) && m < ARRAY_SIZE(cands); i++)
		cands[m++] = section_key(def, i)->name;
	return config_suggest(key, cands, m);
}

/* The sections each kind of process is read from, and their prefixes. */
static const struct {
	enum sec_kind sec;
	const char *prefix;
} kinds[] = {
    [KIND_PROGRAM] = {SEC_PROGRAM, "program:"},
    [KIND_EVENTLISTENER] = {SEC_EVENTLISTENER, "eventlistener:"},
    [KIND_FCGI] = {SEC_FCGI, "fcgi-program:"},
};

static const struct section_def *kind_def(enum proc_kind kind)
{
	return section_by_kind(kinds[kind].sec);
}

/* The kind of process a section holds; false for a section that holds none. */
static bool kind_of(const struct section_def *def, enum proc_kind *kind)
{
	for (size_t k = 0; def && k < ARRAY_SIZE(kinds); k++)
		if (kinds[k].sec == def->kind) {
			*kind = (enum proc_kind)k;
			return true;
		}
	return false;
}

static void proc_conf_free(struct proc_conf *p)
{
	if (!p)
		return;
	keys_free(kind_def(p->kind), p);
	free(p->program);
	free(p->group);
	free(p->section);
	free(p->file);
	sv_free(&p->argv);
	free(p);
}

void group_conf_ref(struct group_conf *g)
{
	g->refs++;
}

void group_conf_unref(struct group_conf *g)
{
	if (!g || --g->refs > 0)
		return;
	for (size_t i = 0; i < g->nprocs; i++)
		proc_conf_free(g->procs[i]);
	free(g->procs);
	free(g->name);
	free(g->file);
	free(g);
}

/* One process of a program section, in supervisord's order (options.py): the keys read before
 * its per-process loop see the start-up environment and [supervisord] environment as ENV_ names,
 * and no process_num; environment is expanded against those alone; its expanded entries then
 * become ENV_ names for the keys read inside the loop (KF_PROC: command, directory, logfiles...).
 */
static int load_process(struct loader *L, const struct section_def *def,
			const struct ini_section *sec, struct expand_ctx *ex, struct proc_conf *p)
{
	struct expand_ctx early = *ex;
	struct strvec env = {0};
	const struct keydef *envkey = NULL;
	int rc = 0;

	early.has_process_num = false;
	ex->env = L->env.v;
	for (size_t i = 0; i < section_nkeys(def); i++)
		if (strcmp(section_key(def, i)->name, "environment") == 0)
			envkey = section_key(def, i);
	if (load_key(L, envkey, sec, sec->name, ex, NULL, &p->environment) < 0)
		rc = -1;
	for (size_t i = 0; i < L->env.n; i++)
		sv_push(&env, xstrdup(L->env.v[i]));
	for (size_t i = 0; i < p->environment.n; i++)
		sv_push(&env, xstrdup(p->environment.v[i]));
	ex->env = env.v;
	for (size_t i = 0; i < section_nkeys(def); i++) {
		const struct keydef *k = section_key(def, i);
		if (k == envkey || (k->flags & KF_EARLY))
			continue;
		if (load_key(L, k, sec, sec->name, (k->flags & KF_PROC) ? ex : &early, NULL,
			     (char *)p + k->off) < 0)
			rc = -1;
	}
	ex->env = L->env.v;
	sv_free(&env);
	return rc;
}

/* [fcgi-program:x]: socket_owner names a user (and group); owner and mode are for unix sockets */
static int finish_fcgi(struct loader *L, struct proc_conf *p, const struct ini_section *sec,
		       const char *section)
{
	struct raw r;
	int rc = 0;
	if (!p->socket.is_unix && (p->socket_owner || p->socket_mode >= 0)) {
		raw_get(L, sec, p->socket_owner ? "socket_owner" : "socket_mode", NULL, &r);
		config_report(L, DIAG_ERROR, &r, section,
			      p->socket_owner ? "socket_owner" : "socket_mode",
			      "only applies to a unix:// socket");
		rc = -1;
	}
	if (p->socket_owner) {
		char *user = xstrdup(p->socket_owner), *group = strchr(user, ':');
		struct user_info ui;
		gid_t gid;
		if (group)
			*group++ = '\0';
		raw_get(L, sec, "socket_owner", NULL, &r);
		if (user_lookup(user, &ui) < 0) {
			config_report(L, DIAG_ERROR, &r, section, "socket_owner",
				      "no such user '%s' in /etc/passwd", user);
			rc = -1;
		} else if (group && group_lookup(group, &gid) < 0) {
			config_report(L, DIAG_ERROR, &r, section, "socket_owner",
				      "no such group '%s' in /etc/group", group);
			rc = -1;
		}
		free(user);
	}
	return rc;
}

static int finish_proc(struct loader *L, struct proc_conf *p, const struct ini_section *sec,
		       const char *section)
{
	struct raw r;
	char *why = NULL;
	int rc = 0;

	if (!raw_get(L, sec, "killasgroup", NULL, &r))
		p->killasgroup = p->stopasgroup;
	else if (p->stopasgroup && !p->killasgroup) {
		config_report(L, DIAG_ERROR, &r, section, "killasgroup",
			      "cannot be false when stopasgroup is true");
		rc = -1;
	}
	raw_get(L, sec, "command", NULL, &r);
	if (p->command && split_command(p->command, &p->argv, &why) < 0) {
		config_report(L, DIAG_ERROR, &r, section, "command", "%s", why);
		free(why);
		rc = -1;
	} else if (p->command && p->argv.n == 0) {
		config_report(L, DIAG_ERROR, &r, section, "command", "is empty");
		rc = -1;
	}
	raw_get(L, sec, "process_name", NULL, &r);
	if (p->name && !valid_name(p->name)) {
		config_report(L, DIAG_ERROR, &r, section, "process_name",
			      "'%s' is not a valid name (no whitespace, ':' or '/')", p->name);
		rc = -1;
	}
	if (p->on_unhealthy != UNHEALTHY_NONE && p->health.kind == HEALTH_NONE &&
	    p->watchdog_sec <= 0 && raw_get(L, sec, "on_unhealthy", NULL, &r)) {
		config_report(L, DIAG_ERROR, &r, section, "on_unhealthy",
			      "needs a healthcheck or watchdog_sec in the same section");
		rc = -1;
	}
	if (p->watchdog_sec > 0 && p->ready.kind != READY_NOTIFY &&
	    raw_get(L, sec, "watchdog_sec", NULL, &r)) {
		config_report(L, DIAG_ERROR, &r, section, "watchdog_sec",
			      "needs ready=notify in the same section (WATCHDOG=1 comes on its "
			      "socket)");
		rc = -1;
	}
	if (p->schedule_run_on_start && !p->schedule.set) {
		raw_get(L, sec, "schedule_run_on_start", NULL, &r);
		config_report(L, DIAG_ERROR, &r, section, "schedule_run_on_start",
			      "needs a schedule in the same section (without one, autostart "
			      "starts a program at start-up)");
		rc = -1;
	}
	if (!p->memory_max && raw_get(L, sec, "on_memory", NULL, &r)) {
		config_report(L, DIAG_ERROR, &r, section, "on_memory",
			      "needs memory_max in the same section");
		rc = -1;
	}
	if (p->redirect_stderr && p->kind == KIND_EVENTLISTENER) {
		raw_get(L, sec, "redirect_stderr", NULL, &r);
		config_report(L, DIAG_ERROR, &r, section, "redirect_stderr",
			      "cannot be true for an event listener: stderr would interfere with "
			      "the event listener protocol on stdout");
		rc = -1;
	} else if (p->redirect_stderr && raw_get(L, sec, "stderr_logfile", NULL, &r)) {
		config_report(L, DIAG_WARNING, &r, section, "stderr_logfile",
			      "ignored because redirect_stderr is true");
	}
	if (p->kind == KIND_EVENTLISTENER) {
		raw_get(L, sec, "result_handler", NULL, &r);
		if (strcmp(p->result_handler, RESULT_HANDLER_DEFAULT) != 0 &&
		    strcmp(p->result_handler, RESULT_HANDLER_STDOUT) != 0) {
			config_report(L, DIAG_ERROR, &r, section, "result_handler",
				      "'%s' cannot be resolved: only " RESULT_HANDLER_DEFAULT
				      " and " RESULT_HANDLER_STDOUT " are built in",
				      p->result_handler);
			rc = -1;
		}
	}
	if (p->kind == KIND_FCGI)
		rc |= finish_fcgi(L, p, sec, section);
	return rc;
}

/* numprocs and numprocs_start, read before process_num exists */
static int load_counts(struct loader *L, const struct ini_section *sec, struct expand_ctx *ex,
		       struct proc_conf *counts)
{
	const struct section_def *def = section_of(sec->name);
	int rc = 0;
	for (size_t i = 0; i < section_nkeys(def); i++) {
		const struct keydef *k = section_key(def, i);
		if ((k->flags & KF_EARLY) &&
		    load_key(L, k, sec, sec->name, ex, NULL, (char *)counts + k->off) < 0)
			rc = -1;
	}
	if (rc == 0 && counts->numprocs > 1) {
		struct raw r;
		raw_get(L, sec, "process_name", "%(program_name)s", &r);
		if (!strstr(r.value, "%(process_num)")) {
			config_report(L, DIAG_ERROR, &r, sec->name, "process_name",
				      "must contain %%(process_num) when numprocs > 1");
			rc = -1;
		}
	}
	return rc;
}

/* Loads a [program:x], [eventlistener:x] or [fcgi-program:x] section's processes into g, as a
 * process of kind (a [group:x] loads an fcgi-program as a plain program, as supervisord does). */
static int load_program(struct loader *L, const struct ini_section *sec, const char *group_name,
			struct group_conf *g, enum proc_kind kind)
{
	const char *program = strchr(sec->name, ':') + 1;
	struct expand_ctx ex;
	struct proc_conf counts = {0};
	int rc = 0;

	if (!valid_name(program)) {
		diag_add(L->d, DIAG_ERROR, sec->file, sec->line, sec->name, NULL,
			 "'%s' is not a valid program name (no whitespace, ':' or '/')", program);
		return -1;
	}
	base_expansions(L, &ex);
	ex.program_name = program;
	ex.group_name = group_name;
	if (load_counts(L, sec, &ex, &counts) < 0)
		return -1;
	for (long long i = 0; i < counts.numprocs; i++) {
		struct proc_conf *p = xcalloc(1, sizeof(*p));
		p->kind = kind;
		p->program = xstrdup(program);
		p->group = xstrdup(group_name);
		p->numprocs = counts.numprocs;
		p->numprocs_start = counts.numprocs_start;
		p->process_num = (int)(counts.numprocs_start + i);
		p->section = xstrdup(sec->name);
		p->file = xstrdup(sec->file);
		p->line = sec->line;
		ex.has_process_num = true;
		ex.process_num = p->process_num;
		ex.numprocs = (int)counts.numprocs;
		int prc = load_process(L, kind_def(kind), sec, &ex, p);
		if (prc == 0)
			prc = finish_proc(L, p, sec, sec->name);
		g->procs = xgrow(g->procs, g->nprocs, sizeof(*g->procs));
		g->procs[g->nprocs++] = p;
		if (prc < 0) {
			rc = -1;
			break; /* the same mistake would repeat for every process */
		}
	}
	return rc;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_conf *x = *(struct proc_conf *const *)a,
			       *y = *(struct proc_conf *const *)b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b)
{
	const struct group_conf *x = *(struct group_conf *const *)a,
				*y = *(struct group_conf *const *)b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct group_conf *new_group(struct loader *L, const char *name, const char *file, int line)
{
	struct group_conf *g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	g->name = xstrdup(name);
	g->file = xstrdup(file);
	g->line = line;
	L->c->groups = xgrow(L->c->groups, L->c->ngroups, sizeof(*L->c->groups));
	L->c->groups[L->c->ngroups++] = g;
	return g;
}

/* [group:x]: its programs stop being groups of their own; their names are added to grouped. */
static int load_group_section(struct loader *L, const struct ini_section *sec,
			      struct strvec *grouped)
{
	const char *gname = sec->name + strlen("group:");
	const struct section_def *def = section_by_kind(SEC_GROUP);
	struct group_section gs = {0};
	struct expand_ctx ex;
	struct raw where;
	int rc = 0;

	if (!valid_name(gname)) {
		diag_add(L->d, DIAG_ERROR, sec->file, sec->line, sec->name, NULL,
			 "'%s' is not a valid group name", gname);
		return -1;
	}
	base_expansions(L, &ex);
	if (load_section(L, def, sec, sec->name, &ex, NULL, &gs) < 0) {
		keys_free(def, &gs);
		return -1;
	}
	struct group_conf *g = new_group(L, gname, sec->file, sec->line);
	g->priority = gs.priority;
	raw_get(L, sec, "programs", NULL, &where);
	if (!gs.programs || !gs.programs[strspn(gs.programs, ", \t\n")])
		config_report(L, DIAG_WARNING, &where, sec->name, "programs",
			      "none: an empty group, as in supervisord");
	char *save = NULL;
	for (char *p = gs.programs ? strtok_r(gs.programs, ", \t\n", &save) : NULL; p;
	     p = strtok_r(NULL, ", \t\n", &save)) {
		char *pname = xasprintf("program:%s", p), *fname = xasprintf("fcgi-program:%s", p);
		const struct ini_section *ps = ini_find_section(&L->doc, pname);
		const struct ini_section *fs = ini_find_section(&L->doc, fname);
		free(pname);
		free(fname);
		if (!ps && !fs) {
			config_report(L, DIAG_ERROR, &where, sec->name, "programs",
				      "no [program:%s] or [fcgi-program:%s] section", p, p);
			rc = -1;
			continue;
		}
		if (ps && fs) {
			config_report(
			    L, DIAG_ERROR, &where, sec->name, "programs",
			    "'%s' is ambiguous: both [program:%s] and [fcgi-program:%s] exist", p,
			    p, p);
			rc = -1;
			continue;
		}
		if (load_program(L, ps ? ps : fs, gname, g, KIND_PROGRAM) < 0)
			rc = -1;
		sv_push(grouped, xstrdup(p));
	}
	keys_free(def, &gs);
	return rc;
}

static bool in_strvec(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* Names must be unique: groups, and processes within a group (looked up by hash: a config can
 * hold 20,000 programs). */
static int check_unique_and_sort(struct loader *L)
{
	struct config *c = L->c;
	int rc = 0;
	struct strtab groups = {0}, procs = {0};
	for (size_t i = 0; i < c->ngroups; i++) {
		struct group_conf *g = c->groups[i];
		struct strtab_entry *e = strtab_put(&groups, g->name, strlen(g->name));
		if (!e)
			xalloc_failed();
		if (e->val) {
			const struct group_conf *first = e->val;
			diag_add(L->d, DIAG_ERROR, g->file, g->line, NULL, NULL,
				 "duplicate group name '%s' (also defined at %s:%d)", g->name,
				 first->file, first->line);
			rc = -1;
		} else {
			e->val = g;
		}
		for (size_t a = 0; a < g->nprocs; a++) {
			const char *name = g->procs[a]->name;
			if (!(e = strtab_put(&procs, name, strlen(name))))
				xalloc_failed();
			if (e->val == g) {
				diag_add(L->d, DIAG_ERROR, g->procs[a]->file, g->procs[a]->line,
					 NULL, "process_name",
					 "duplicate process name '%s' in group '%s'", name,
					 g->name);
				rc = -1;
			}
			e->val = g;
		}
		if (g->nprocs) /* qsort's base may not be NULL, even for 0 items */
			qsort(g->procs, g->nprocs, sizeof(*g->procs), cmp_proc);
	}
	strtab_free(&groups);
	strtab_free(&procs);
	if (c->ngroups)
		qsort(c->groups, c->ngroups, sizeof(*c->groups), cmp_group);
	return rc;
}

static int load_groups(struct loader *L)
{
	struct strvec grouped = {0};
	int rc = 0;

	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		const struct section_def *def = section_of(sec->name);
		if (def && def->kind == SEC_GROUP && load_group_section(L, sec, &grouped) < 0)
			rc = -1;
	}
	/* then each [program:x], [eventlistener:x] and [fcgi-program:x] not in a [group:x] is a
	 * group of its own (an eventlistener's is its pool) */
	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		const struct section_def *def = section_of(sec->name);
		enum proc_kind kind;
		if (!kind_of(def, &kind))
			continue;
		const char *program = strchr(sec->name, ':') + 1;
		if (kind != KIND_EVENTLISTENER && in_strvec(&grouped, program))
			continue;
		struct group_conf *g = new_group(L, program, sec->file, sec->line);
		g->kind = kind;
		struct raw r;
		if (load_program(L, sec, g->name, g, kind) < 0)
			rc = -1;
		else if (kind == KIND_EVENTLISTENER && !raw_get(L, sec, "priority", NULL, &r))
			g->priority = -1; /* a pool's: started first and stopped last; its
					     processes keep 999, as in supervisord */
		else if (g->nprocs)
			g->priority = g->procs[0]->priority;
	}
	sv_free(&grouped);
	return rc < 0 ? rc : check_unique_and_sort(L);
}

static void warn_unknown_section(struct loader *L, const struct ini_section *sec)
{
	static const char *const names[] = {
	    "supervisord",	"program:",	    "group:",	     "include",
	    "unix_http_server", "inet_http_server", "supervisorctl", "rpcinterface:",
	    "eventlistener:",	"fcgi-program:"};
	/* compare the part before ':' so [programx:web] suggests [program:web] */
	char head[128];
	const char *colon = strchr(sec->name, ':');
	size_t hn = colon ? (size_t)(colon - sec->name) + 1 : strlen(sec->name);
	snprintf(head, sizeof(head), "%.*s", (int)(hn < 127 ? hn : 127), sec->name);
	str_lower(head);
	const char *s = config_suggest(head, names, ARRAY_SIZE(names));
	if (s)
		diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
			 "unknown section, ignored (did you mean [%s%s]? section names are "
			 "case-sensitive)",
			 s, colon ? colon + 1 : "");
	else
		diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
			 "unknown section, ignored");
}

static void warn_unknown_keys(struct loader *L, const struct ini_section *sec,
			      const struct section_def *def)
{
	for (size_t j = 0; j < sec->n; j++) {
		const struct ini_entry *e = &sec->entries[j];
		if (section_find_key(def, e->key))
			continue;
		const char *s = suggest_key(e->key, def);
		if (s)
			diag_add(L->d, DIAG_WARNING, e->file, e->line, sec->name, e->key,
				 "unknown key, ignored (did you mean '%s'?)", s);
		else
			diag_add(L->d, DIAG_WARNING, e->file, e->line, sec->name, e->key,
				 "unknown key, ignored");
	}
}

/* supervisord passes every key of [rpcinterface:x] but the factory (those of [DEFAULT] too) to
 * make_main_rpcinterface, which takes none: with an HTTP server to serve it, it exits 2 with
 * "Could not make supervisor rpc interface". */
static void check_rpc_options(struct loader *L, const struct ini_section *sec)
{
	const struct ini_section *dflt =
	    L->doc.default_index < L->doc.n ? &L->doc.sections[L->doc.default_index] : NULL;
	if (!ini_find_section(&L->doc, "unix_http_server") &&
	    !ini_find_section(&L->doc, "inet_http_server"))
		return;
	for (int d = 0; d < 2; d++) {
		const struct ini_section *src = d ? dflt : sec;
		for (size_t j = 0; src && j < src->n; j++) {
			const struct ini_entry *e = &src->entries[j];
			if (strcmp(e->key, "supervisor.rpcinterface_factory") == 0 ||
			    ini_find(&L->doc, sec, e->key) != e)
				continue;
			diag_add(L->d, DIAG_ERROR, e->file, e->line, sec->name, e->key,
				 "%smake_main_rpcinterface takes no options (supervisord exits: "
				 "\"Could not make supervisor rpc interface\")",
				 d ? "inherited from [DEFAULT], but " : "");
		}
	}
}

static void check_sections(struct loader *L)
{
	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		const struct section_def *def = section_of(sec->name);
		if (!def) {
			warn_unknown_section(L, sec);
		} else if (def->skipped) {
			diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL, "%s",
				 def->skipped);
		} else if (def->kind == SEC_RPC) {
			const struct ini_entry *e =
			    ini_find(&L->doc, sec, "supervisor.rpcinterface_factory");
			if (!e ||
			    strcmp(e->value, "supervisor.rpcinterface:make_main_rpcinterface") != 0)
				diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
					 "only supervisor.rpcinterface:make_main_rpcinterface is "
					 "built in; this interface is skipped");
			else
				check_rpc_options(L, sec);
		} else if (def->keys) {
			warn_unknown_keys(L, sec, def);
		}
	}
}

static int load_supervisord(struct loader *L, const struct config_overrides *ov)
{
	struct config *c = L->c;
	const struct ini_section *sec = ini_find_section(&L->doc, "supervisord");
	struct expand_ctx ex;

	if (!sec) {
		diag_add(L->d, DIAG_ERROR, c->path, 0, NULL, NULL,
			 "no [supervisord] section (it is required, even if empty)");
		return -1;
	}
	base_expansions(L, &ex);
	int rc =
	    load_section(L, section_by_kind(SEC_SUPERVISORD), sec, "supervisord", &ex, ov, &c->sd);
	if (!c->sd.childlogdir) {
		const char *tmp = getenv("TMPDIR");
		c->sd.childlogdir = xstrdup(tmp && *tmp ? tmp : "/tmp");
	}
	for (size_t i = 0; i < c->sd.environment.n; i++)
		sv_push(&L->env, xstrdup(c->sd.environment.v[i]));
	return rc;
}

static const struct {
	enum sec_kind kind;
	size_t off;
} servers[] = {
    {SEC_UNIX, offsetof(struct config, unix_server)},
    {SEC_INET, offsetof(struct config, inet_server)},
};

static int load_servers(struct loader *L)
{
	struct config *c = L->c;
	struct expand_ctx ex;
	int rc = 0;

	base_expansions(L, &ex);
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++) {
		const struct section_def *def = section_by_kind(servers[i].kind);
		const struct ini_section *sec = ini_find_section(&L->doc, def->prefix);
		struct http_server_conf *dst = (void *)((char *)c + servers[i].off);
		if (!sec)
			continue;
		dst->enabled = true;
		if (load_section(L, def, sec, def->prefix, &ex, NULL, dst) < 0)
			rc = -1;
		struct raw r;
		if (servers[i].kind == SEC_INET && L->strict && dst->port && !dst->password &&
		    !net_port_is_loopback(dst->port) && raw_get(L, sec, "port", NULL, &r))
			config_report(L, DIAG_ERROR, &r, def->prefix, "port",
				      "'%s' listens beyond loopback with no password (pidvisor "
				      "starts, with a CRIT line; set a username and password, or "
				      "use 127.0.0.1)",
				      dst->port);
	}
	const struct ini_section *ctl = ini_find_section(&L->doc, "supervisorctl");
	c->has_ctl_section = ctl != NULL;
	if (load_section(L, section_by_kind(SEC_CTL), ctl, "supervisorctl", &ex, NULL, &c->ctl) < 0)
		rc = -1;
	return rc;
}

struct config *config_load(const char *path, const struct config_overrides *ov, struct diag *d)
{
	struct loader L = {.d = d};
	struct config *c = xcalloc(1, sizeof(*c));
	int errors_before = d->errors;

	L.c = c;
	L.strict = ov && ov->strict;
	c->path = xstrdup(path);
	c->here = path_dir(path);
	if (gethostname(L.hostname, sizeof(L.hostname) - 1) < 0)
		snprintf(L.hostname, sizeof(L.hostname), "localhost");
	for (char **e = environ; e && *e; e++)
		sv_push(&L.env, xstrdup(*e));

	if (ini_load(&L.doc, path, d) < 0)
		goto fail;
	if (load_includes(&L) < 0)
		goto fail;
	check_sections(&L);
	if (load_supervisord(&L, ov) < 0)
		goto fail;
	load_servers(&L);
	if (load_groups(&L) == 0)
		check_depends(&L);
	if (d->errors > errors_before)
		goto fail;
	ini_free(&L.doc);
	sv_free(&L.env);
	return c;
fail:
	ini_free(&L.doc);
	sv_free(&L.env);
	config_free(c);
	return NULL;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ngroups; i++)
		group_conf_unref(c->groups[i]);
	free(c->groups);
	keys_free(section_by_kind(SEC_SUPERVISORD), &c->sd);
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++)
		keys_free(section_by_kind(servers[i].kind), (char *)c + servers[i].off);
	keys_free(section_by_kind(SEC_CTL), &c->ctl);
	free(c->path);
	free(c->here);
	free(c);
}

struct group_conf *config_find_group(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i]->name, name) == 0)
			return c->groups[i];
	return NULL;
}

bool proc_conf_equal(const struct proc_conf *a, const struct proc_conf *b)
{
	return a->kind == b->kind && keys_equal(kind_def(a->kind), a, b) &&
	       a->process_num == b->process_num && strcmp(a->group, b->group) == 0;
}

bool group_conf_equal(const struct group_conf *a, const struct group_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || a->kind != b->kind || a->priority != b->priority ||
	    a->nprocs != b->nprocs)
		return false;
	for (size_t i = 0; i < a->nprocs; i++)
		if (!proc_conf_equal(a->procs[i], b->procs[i]))
			return false;
	return true;
}
