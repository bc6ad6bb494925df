/* The `pidvisor ctl` actions on the configuration: avail, reread, update, add and remove. Each
 * does what supervisorctl's do_<action> does, call for call. */
#include "ctl_internal.h"

#include <stdlib.h>
#include <string.h>

/* Faults of the config-level calls (avail, reread, update): shutting down is
 * a message, anything else ends the action. */
static bool config_call(struct ctl *c, struct rpc_result *r, const char *method,
			const char *shutdown_text, bool show_cant_reread)
{
	if (!ctl_call(c, r, method, NULL, 0))
		return false;
	if (r->status != RPC_FAULT)
		return true;
	c->exitstatus = EXIT_GENERIC;
	if (r->fault_code == XR_SHUTDOWN_STATE)
		ctl_out("%s", shutdown_text);
	else if (r->fault_code == XR_CANT_REREAD && show_cant_reread)
		ctl_out("ERROR: %s", r->fault_string);
	else {
		ctl_unexpected_fault(c, r);
		return false;
	}
	rpc_result_free(r);
	return false;
}

void ctl_do_avail(struct ctl *c, const char *arg)
{
	struct rpc_result r;
	if (!ctl_no_arguments(c, "avail", arg) ||
	    !config_call(c, &r, "supervisor.getAllConfigInfo", "ERROR: supervisor shutting down",
			 false))
		return;
	for (size_t i = 0; i < xr_len(r.value); i++) {
		const struct xr_value *info = xr_item(r.value, i);
		char spec[1024], prio[64];
		ctl_make_namespec(spec, sizeof(spec), xr_member_str(info, "group", ""),
				  xr_member_str(info, "name", ""));
		snprintf(prio, sizeof(prio), "%lld:%lld", xr_member_int(info, "group_prio", 0),
			 xr_member_int(info, "process_prio", 0));
		ctl_out("%-32s %-9s %-9s %s", spec,
			xr_member_bool(info, "inuse", false) ? "in use" : "avail",
			xr_member_bool(info, "autostart", false) ? "auto" : "manual", prio);
	}
	rpc_result_free(&r);
}

/* reloadConfig() answers [[added, changed, removed]]. */
static const struct xr_value *change_list(const struct xr_value *result, size_t which)
{
	return xr_item(xr_item(result, 0), which);
}

static const char *item_str(const struct xr_value *list, size_t i)
{
	const struct xr_value *v = xr_item(list, i);
	return v && v->type == XR_STRING ? v->u.str.ptr : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ctl_do_reread(struct ctl *c, const char *arg)
{
	struct rpc_result r;
	if (!ctl_no_arguments(c, "reread", arg) ||
	    !config_call(c, &r, "supervisor.reloadConfig", "ERROR: supervisor shutting down", true))
		return;
	static const char *const kinds[] = {"available", "changed", "disappeared"};
	size_t total = 0;
	for (size_t k = 0; k < 3; k++)
		total += xr_len(change_list(r.value, k));
	char **lines = calloc(total + 1, sizeof(char *));
	size_t n = 0;
	/* a name in several lists keeps the last kind, as the dict update does */
	for (size_t k = 0; lines && k < 3; k++) {
		const struct xr_value *list = change_list(r.value, k);
		for (size_t i = 0; i < xr_len(list); i++) {
			const char *s = item_str(list, i);
			size_t j;
			for (j = 0; j < n; j++)
				if (strncmp(lines[j], s, strlen(s)) == 0 &&
				    lines[j][strlen(s)] == ':')
					break;
			char *line;
			if (asprintf(&line, "%s: %s", s, kinds[k]) < 0)
				continue;
			if (j < n)
				free(lines[j]);
			lines[j == n ? n++ : j] = line;
		}
	}
	if (!n)
		ctl_out("No config updates to processes");
	if (lines)
		qsort(lines, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		ctl_out("%s", lines[i]);
		free(lines[i]);
	}
	free(lines);
	rpc_result_free(&r);
}

/* add and remove: one call per group name, known faults become lines. */
struct group_fault {
	int code;
	const char *fmt; /* may use the group name once */
	int exit;	 /* -1: the exit status is kept */
};

static const struct group_fault add_faults[] = {
    {XR_SHUTDOWN_STATE, "ERROR: shutting down", EXIT_GENERIC},
    {XR_ALREADY_ADDED, "ERROR: process group already active", -1},
    {XR_BAD_NAME, "ERROR: no such process/group: %s", EXIT_GENERIC},
    {0, NULL, 0},
};

static const struct group_fault remove_faults[] = {
    {XR_STILL_RUNNING, "ERROR: process/group still running: %s", EXIT_GENERIC},
    {XR_BAD_NAME, "ERROR: no such process/group: %s", EXIT_GENERIC},
    {0, NULL, 0},
};

static void group_calls(struct ctl *c, const char *arg, const char *method, const char *done,
			const struct group_fault *faults)
{
	struct ctl_words w;
	struct rpc_result r;
	ctl_split_words(arg, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (!ctl_call_s(c, &r, method, w.v[i], NULL))
			break;
		const struct group_fault *f = faults;
		while (r.status == RPC_FAULT && f->code && f->code != r.fault_code)
			f++;
		if (r.status != RPC_FAULT) {
			ctl_out("%s: %s", w.v[i], done);
		} else if (f->code) {
			ctl_out(f->fmt, w.v[i]);
			if (f->exit >= 0)
				c->exitstatus = f->exit;
		} else {
			c->exitstatus = EXIT_GENERIC;
			ctl_unexpected_fault(c, &r);
			break;
		}
		rpc_result_free(&r);
	}
	ctl_words_free(&w);
}

void ctl_do_add(struct ctl *c, const char *arg)
{
	group_calls(c, arg, "supervisor.addProcessGroup", "added process group", add_faults);
}

void ctl_do_remove(struct ctl *c, const char *arg)
{
	group_calls(c, arg, "supervisor.removeProcessGroup", "removed process group",
		    remove_faults);
}

/* update's group calls are not guarded in supervisorctl: any fault ends it. */
static bool update_step(struct ctl *c, const char *method, const char *group,
			struct rpc_result *keep)
{
	struct rpc_result r;
	if (!ctl_call_value(c, &r, method, group))
		return false;
	if (keep)
		*keep = r;
	else
		rpc_result_free(&r);
	return true;
}

static bool wanted(const struct ctl_words *w, const char *group)
{
	return !w->n || ctl_words_has(w, group);
}

/* The groups named on the command line, each once (Python uses a set); none for all. */
static void update_names(const char *arg, struct ctl_words *w)
{
	ctl_split_words(arg, w);
	if (ctl_words_has(w, "all"))
		w->n = 0;
	size_t kept = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct ctl_words seen = {w->v, kept, NULL};
		if (!ctl_words_has(&seen, w->v[i]))
			w->v[kept++] = w->v[i];
	}
	w->n = kept;
}

/* A named group that neither runs nor is added is an error line; false when the call failed. */
static bool check_update_names(struct ctl *c, const struct ctl_words *w,
			       const struct xr_value *added)
{
	struct rpc_result infos;
	if (!w->n)
		return true;
	if (!ctl_call_value(c, &infos, "supervisor.getAllProcessInfo", NULL))
		return false;
	for (size_t i = 0; i < w->n; i++) {
		bool known = false;
		for (size_t j = 0; !known && j < xr_len(infos.value); j++)
			known = strcmp(xr_member_str(xr_item(infos.value, j), "group", ""),
				       w->v[i]) == 0;
		for (size_t j = 0; !known && j < xr_len(added); j++)
			known = strcmp(item_str(added, j), w->v[i]) == 0;
		if (!known) {
			ctl_out("ERROR: no such group: %s", w->v[i]);
			c->exitstatus = EXIT_GENERIC;
		}
	}
	rpc_result_free(&infos);
	return true;
}

/* A removed group stops, and goes unless one of its processes failed to stop. False when a
 * call failed, as update_groups: that ends the update. */
static bool update_removed(struct ctl *c, const struct ctl_words *w, const struct xr_value *removed)
{
	for (size_t i = 0; i < xr_len(removed); i++) {
		const char *g = item_str(removed, i);
		struct rpc_result stopped;
		if (!wanted(w, g))
			continue;
		if (!update_step(c, "supervisor.stopProcessGroup", g, &stopped))
			return false;
		ctl_out("%s: stopped", g);
		bool fails = false;
		for (size_t j = 0; j < xr_len(stopped.value); j++)
			fails |= xr_member_int(xr_item(stopped.value, j), "status", 0) == XR_FAILED;
		rpc_result_free(&stopped);
		if (fails) {
			ctl_out("%s: has problems; not removing", g);
			c->exitstatus = EXIT_GENERIC;
			continue;
		}
		if (!update_step(c, "supervisor.removeProcessGroup", g, NULL))
			return false;
		ctl_out("%s: removed process group", g);
	}
	return true;
}

/* What update does to each changed or added group: calls, each with the line it prints. */
struct group_step {
	const char *method;
	const char *done; /* NULL: nothing printed */
};

static const struct group_step changed_steps[] = {
    {"supervisor.stopProcessGroup", "stopped"},
    {"supervisor.removeProcessGroup", NULL},
    {"supervisor.addProcessGroup", "updated process group"},
    {NULL, NULL},
};

static const struct group_step added_steps[] = {
    {"supervisor.addProcessGroup", "added process group"},
    {NULL, NULL},
};

static bool update_groups(struct ctl *c, const struct ctl_words *w, const struct xr_value *list,
			  const struct group_step *steps)
{
	for (size_t i = 0; i < xr_len(list); i++) {
		const char *g = item_str(list, i);
		if (!wanted(w, g))
			continue;
		for (const struct group_step *s = steps; s->method; s++) {
			if (!update_step(c, s->method, g, NULL))
				return false;
			if (s->done)
				ctl_out("%s: %s", g, s->done);
		}
	}
	return true;
}

void ctl_do_update(struct ctl *c, const char *arg)
{
	struct rpc_result r;
	if (!config_call(c, &r, "supervisor.reloadConfig", "ERROR: already shutting down", false))
		return;
	const struct xr_value *added = change_list(r.value, 0), *changed = change_list(r.value, 1),
			      *removed = change_list(r.value, 2);
	struct ctl_words w;
	update_names(arg, &w);
	if (check_update_names(c, &w, added) && update_removed(c, &w, removed) &&
	    update_groups(c, &w, changed, changed_steps))
		update_groups(c, &w, added, added_steps);
	ctl_words_free(&w);
	rpc_result_free(&r);
}
