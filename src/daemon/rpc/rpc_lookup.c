/* What every handler shares: the fault it answers with, and the groups and processes a call
 * names (supervisord's split_namespec and _getGroupAndProcess), found or faulted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"

/* A UTF-8 sequence cut at the end of s is dropped: XML must stay well-formed. */
static void trim_utf8(char *s, size_t len)
{
	size_t i = len, cont = 0;
	while (i > 0 && cont < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	if (cont < need)
		s[i - 1] = '\0';
}

void rpc_fault(struct rpc_answer *a, int code, const char *detail)
{
	int n;
	a->fault = code;
	if (detail)
		n = snprintf(a->fault_text, sizeof(a->fault_text), "%s: %s", xr_fault_name(code),
			     detail);
	else
		n = snprintf(a->fault_text, sizeof(a->fault_text), "%s", xr_fault_name(code));
	if (n >= (int)sizeof(a->fault_text))
		trim_utf8(a->fault_text, sizeof(a->fault_text) - 1);
}

void rpc_answer_clear(struct rpc_answer *a)
{
	xr_free(a->value);
	a->value = NULL;
	a->fault = 0;
	a->fault_text[0] = '\0';
	a->pending = NULL;
}

bool rpc_shutting_down(struct rpc_server *rs, struct rpc_answer *out)
{
	if (rs->sv->mood < MOOD_RUNNING) {
		rpc_fault(out, XR_SHUTDOWN_STATE, NULL);
		return true;
	}
	return false;
}

/* Names are compared by length, never copied: a name of any length is just not found. */
bool rpc_lookup(struct rpc_server *rs, const char *name, struct pgroup **g, struct process **p,
		struct rpc_answer *out)
{
	const char *colon = strchr(name, ':');
	size_t glen = colon ? (size_t)(colon - name) : strlen(name);
	const char *proc = colon ? colon + 1 : name;
	*g = NULL;
	*p = NULL;
	for (size_t i = 0; i < rs->sv->ngroups && !*g; i++) {
		const char *gname = rs->sv->groups[i]->conf->name;
		if (strlen(gname) == glen && memcmp(gname, name, glen) == 0)
			*g = rs->sv->groups[i];
	}
	if (!*g) {
		rpc_fault(out, XR_BAD_NAME, name);
		return false;
	}
	if (!proc[0] || strcmp(proc, "*") == 0)
		return true;
	for (size_t i = 0; i < (*g)->nprocs; i++)
		if (strcmp((*g)->procs[i]->conf->name, proc) == 0)
			*p = (*g)->procs[i];
	if (!*p) {
		rpc_fault(out, XR_BAD_NAME, name);
		return false;
	}
	return true;
}

struct pgroup *rpc_group(struct rpc_server *rs, const char *name, struct rpc_answer *out)
{
	struct pgroup *g;
	if (rpc_shutting_down(rs, out))
		return NULL;
	if (!(g = supervisor_find_group(rs->sv, name)))
		rpc_fault(out, XR_BAD_NAME, name);
	return g;
}

struct process *rpc_one_process(struct rpc_server *rs, const char *name, struct rpc_answer *out)
{
	struct pgroup *g;
	struct process *p;
	if (!rpc_lookup(rs, name, &g, &p, out))
		return NULL;
	if (!p)
		rpc_fault(out, XR_BAD_NAME, name);
	return p;
}

struct process **rpc_collect(struct rpc_server *rs, struct pgroup *only, size_t *n,
			     struct rpc_answer *out)
{
	struct supervisor *sv = rs->sv;
	size_t total = 0;
	for (size_t gi = 0; gi < sv->ngroups; gi++)
		if (!only || sv->groups[gi] == only)
			total += sv->groups[gi]->nprocs;
	struct process **ps = malloc((total ? total : 1) * sizeof(*ps));
	*n = 0;
	if (!ps) {
		rpc_fault(out, XR_FAILED, "out of memory");
		return NULL;
	}
	for (size_t gi = 0; gi < sv->ngroups; gi++)
		if (!only || sv->groups[gi] == only)
			for (size_t i = 0; i < sv->groups[gi]->nprocs; i++)
				ps[(*n)++] = sv->groups[gi]->procs[i];
	return ps;
}

struct xr_value *rpc_result_struct(const struct process *p, int code, const char *desc)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "name", xr_string(p ? p->conf->name : ""));
	xr_struct_set(st, "group", xr_string(p ? p->conf->group : ""));
	xr_struct_set(st, "status", xr_int(code));
	xr_struct_set(st, "description", xr_string(desc));
	return st;
}
