#include "rpc.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_output.h"
#include "mainlog.h"
#include "signals.h"
#include "util.h"

/* One per-process step of a start/stop/signal over several processes (supervisord's
 * make_allfunc), or of a single-process call that waits. */
enum op_kind { OP_START, OP_STOP };
enum op_state { OP_WAIT, OP_OK, OP_FAULT };

struct op {
	struct process *p; /* NULL once forgotten */
	char *name;	   /* namespec as the caller named it, for fault texts */
	enum op_kind kind;
	enum op_state st;
	int code;
	/* supervisord lists immediate results first, then those it waited for; each in process
	 * order (they finish in the same loop pass) */
	unsigned done;
	size_t index;
};

struct rpc_pending {
	bool list; /* answer an array of result structs, not a bare true */
	unsigned finished;
	struct op *ops;
	size_t n;
};

static void fault(struct rpc_answer *a, int code, const char *detail)
{
	struct buf sb;
	buf_init(&sb, 4096);
	xr_fault_string(&sb, code, detail);
	a->fault = code;
	a->fault_text = xstrdup(sb.data ? sb.data : xr_fault_name(code));
	buf_free(&sb);
}

void rpc_answer_clear(struct rpc_answer *a)
{
	xr_free(a->value);
	free(a->fault_text);
	memset(a, 0, sizeof(*a));
}

static const char *mood_name(enum mood m)
{
	switch (m) {
	case MOOD_FATAL:
		return "FATAL";
	case MOOD_RUNNING:
		return "RUNNING";
	case MOOD_RESTARTING:
		return "RESTARTING";
	case MOOD_SHUTDOWN:
		return "SHUTDOWN";
	}
	return "UNKNOWN";
}

/* Python's str(timedelta) in whole seconds. */
static void timedelta(long long secs, char *buf, size_t n)
{
	if (secs < 0)
		secs = 0;
	long long days = secs / 86400, rest = secs % 86400;
	if (days)
		snprintf(buf, n, "%lld day%s, %lld:%02lld:%02lld", days, days == 1 ? "" : "s",
			 rest / 3600, rest / 60 % 60, rest % 60);
	else
		snprintf(buf, n, "%lld:%02lld:%02lld", rest / 3600, rest / 60 % 60, rest % 60);
}

void rpc_describe(const struct process *p, time_t now, char *buf, size_t n)
{
	switch (p->fsm.state) {
	case PS_RUNNING: {
		char up[64];
		timedelta((long long)(now - p->start_wall), up, sizeof(up));
		snprintf(buf, n, "pid %d, uptime %s", (int)p->pid, up);
		break;
	}
	case PS_FATAL:
	case PS_BACKOFF:
		if (p->fsm.spawnerr[0])
			snprintf(buf, n, "%s", p->fsm.spawnerr);
		else
			snprintf(buf, n, "unknown error (try \"tail %s\")", p->conf->name);
		break;
	case PS_STOPPED:
	case PS_EXITED:
		if (p->start_wall) {
			struct tm tm;
			time_t stop = p->stop_wall;
			localtime_r(&stop, &tm);
			strftime(buf, n, "%b %d %I:%M %p", &tm);
		} else {
			snprintf(buf, n, "Not started");
		}
		break;
	default:
		buf[0] = '\0';
	}
}

static struct xr_value *process_info(const struct process *p)
{
	char desc[256];
	time_t now = time(NULL);
	const char *out = output_logfile(p, 1), *err = output_logfile(p, 2);
	struct xr_value *st = xr_struct();
	rpc_describe(p, now, desc, sizeof(desc));
	xr_struct_set(st, "name", xr_string(p->conf->name));
	xr_struct_set(st, "group", xr_string(p->conf->group));
	xr_struct_set(st, "start", xr_int((long long)p->start_wall));
	xr_struct_set(st, "stop", xr_int((long long)p->stop_wall));
	xr_struct_set(st, "now", xr_int((long long)now));
	xr_struct_set(st, "state", xr_int(p->fsm.state));
	xr_struct_set(st, "statename", xr_string(proc_state_name(p->fsm.state)));
	xr_struct_set(st, "spawnerr", xr_string(p->fsm.spawnerr));
	xr_struct_set(st, "exitstatus", xr_int(p->fsm.exitstatus));
	xr_struct_set(st, "logfile", xr_string(out ? out : ""));
	xr_struct_set(st, "stdout_logfile", xr_string(out ? out : ""));
	xr_struct_set(st, "stderr_logfile", xr_string(err ? err : ""));
	xr_struct_set(st, "pid", xr_int(p->pid));
	xr_struct_set(st, "description", xr_string(desc));
	return st;
}

/* --- arguments --- */

struct args {
	const struct xr_value *params;
	size_t n;
};

static const char *arg_str(const struct args *a, size_t i)
{
	const struct xr_value *v = xr_item(a->params, i);
	return v && v->type == XR_STRING ? v->u.str.ptr : NULL;
}

static bool arg_bool(const struct args *a, size_t i, bool def)
{
	const struct xr_value *v = xr_item(a->params, i);
	if (!v)
		return def;
	if (v->type == XR_BOOL)
		return v->u.b;
	if (v->type == XR_INT)
		return v->u.i != 0;
	return def;
}

static bool arg_int(const struct args *a, size_t i, long long *out)
{
	const struct xr_value *v = xr_item(a->params, i);
	if (!v)
		return false;
	if (v->type == XR_INT) {
		*out = v->u.i;
		return true;
	}
	if (v->type == XR_STRING) {
		char *end;
		errno = 0;
		*out = strtoll(v->u.str.ptr, &end, 10);
		return *end == '\0' && end != v->u.str.ptr && !errno;
	}
	return false;
}

/* --- names --- */

/* supervisord's split_namespec + _getGroupAndProcess. *p is NULL for "group:*" or "group:". */
static bool lookup(struct rpc_server *rs, const char *name, struct pgroup **g, struct process **p,
		   struct rpc_answer *out)
{
	char group[512], proc[512];
	const char *colon = strchr(name, ':');
	if (colon) {
		snprintf(group, sizeof(group), "%.*s", (int)(colon - name), name);
		snprintf(proc, sizeof(proc), "%s", colon + 1);
	} else {
		snprintf(group, sizeof(group), "%s", name);
		snprintf(proc, sizeof(proc), "%s", name);
	}
	*g = supervisor_find_group(rs->sv, group);
	*p = NULL;
	if (!*g) {
		fault(out, XR_BAD_NAME, name);
		return false;
	}
	if (!proc[0] || strcmp(proc, "*") == 0)
		return true;
	for (size_t i = 0; i < (*g)->nprocs; i++)
		if (strcmp((*g)->procs[i]->conf->name, proc) == 0)
			*p = (*g)->procs[i];
	if (!*p) {
		fault(out, XR_BAD_NAME, name);
		return false;
	}
	return true;
}

static char *namespec(const struct process *p)
{
	char buf[1024];
	return xstrdup(process_namespec(p, buf, sizeof(buf)));
}

/* --- start / stop one process --- */

static void op_start(struct rpc_server *rs, struct op *op, bool wait)
{
	struct process *p = op->p;
	if (p->fsm.state == PS_UNKNOWN) {
		op->st = OP_FAULT;
		op->code = XR_FAILED;
		return;
	}
	if (proc_state_running(p->fsm.state)) {
		op->st = OP_FAULT;
		op->code = XR_ALREADY_STARTED;
		return;
	}
	supervisor_start_process(rs->sv, p);
	if (p->fsm.spawnerr[0]) {
		op->st = OP_FAULT;
		op->code = XR_SPAWN_ERROR;
		return;
	}
	op->st = wait && p->fsm.state != PS_RUNNING ? OP_WAIT : OP_OK;
}

static void op_poll(struct op *op)
{
	if (op->st != OP_WAIT)
		return;
	struct process *p = op->p;
	if (!p) {
		op->st = op->kind == OP_STOP ? OP_OK : OP_FAULT;
		op->code = XR_ABNORMAL_TERMINATION;
		return;
	}
	if (op->kind == OP_STOP) {
		if (proc_state_stopped(p->fsm.state))
			op->st = OP_OK;
		return;
	}
	if (p->fsm.spawnerr[0]) {
		op->st = OP_FAULT;
		op->code = XR_SPAWN_ERROR;
	} else if (p->fsm.state == PS_RUNNING) {
		op->st = OP_OK;
	} else if (p->fsm.state != PS_STARTING) {
		op->st = OP_FAULT;
		op->code = XR_ABNORMAL_TERMINATION;
	}
}

static void op_stop(struct rpc_server *rs, struct op *op, bool wait)
{
	struct process *p = op->p;
	if (!proc_state_running(p->fsm.state)) {
		op->st = OP_FAULT;
		op->code = XR_NOT_RUNNING;
		return;
	}
	supervisor_stop_process(rs->sv, p);
	if (p->fsm.state == PS_UNKNOWN) {
		op->st = OP_FAULT;
		op->code = XR_FAILED;
		return;
	}
	op->st = wait && !proc_state_stopped(p->fsm.state) ? OP_WAIT : OP_OK;
}

static struct xr_value *result_struct(const struct process *p, int code, const char *desc)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "name", xr_string(p ? p->conf->name : ""));
	xr_struct_set(st, "group", xr_string(p ? p->conf->group : ""));
	xr_struct_set(st, "status", xr_int(code));
	xr_struct_set(st, "description", xr_string(desc));
	return st;
}

static void op_fault_text(const struct op *op, char *buf, size_t n)
{
	struct buf sb;
	buf_init(&sb, 4096);
	xr_fault_string(&sb, op->code, op->name);
	snprintf(buf, n, "%s", sb.data ? sb.data : "");
	buf_free(&sb);
}

static int cmp_done(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	if (a->done != b->done)
		return a->done < b->done ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Finishes a pending when every op is done; false while waiting. */
static bool pending_finish(struct rpc_pending *pd, struct rpc_answer *out)
{
	bool waiting = false;
	for (size_t i = 0; i < pd->n; i++) {
		op_poll(&pd->ops[i]);
		if (pd->ops[i].st == OP_WAIT)
			waiting = true;
		else if (!pd->ops[i].done)
			pd->ops[i].done = pd->finished ? 2 : 1;
	}
	pd->finished = 1;
	if (waiting)
		return false;
	if (pd->n)
		qsort(pd->ops, pd->n, sizeof(*pd->ops), cmp_done);
	if (!pd->list) {
		struct op *op = &pd->ops[0];
		if (op->st == OP_OK)
			out->value = xr_bool(true);
		else
			fault(out, op->code, op->name);
		return true;
	}
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < pd->n; i++) {
		struct op *op = &pd->ops[i];
		char text[1024];
		if (op->st == OP_OK)
			snprintf(text, sizeof(text), "OK");
		else
			op_fault_text(op, text, sizeof(text));
		xr_array_add(arr,
			     result_struct(op->p, op->st == OP_OK ? XR_SUCCESS : op->code, text));
	}
	out->value = arr;
	return true;
}

void rpc_pending_free(struct rpc_pending *pd)
{
	if (!pd)
		return;
	for (size_t i = 0; i < pd->n; i++)
		free(pd->ops[i].name);
	free(pd->ops);
	free(pd);
}

void rpc_forget_process(struct rpc_pending *pd, const struct process *p)
{
	for (size_t i = 0; i < pd->n; i++)
		if (pd->ops[i].p == p)
			pd->ops[i].p = NULL;
}

bool rpc_poll(struct rpc_server *rs, struct rpc_pending *pd, struct rpc_answer *out)
{
	(void)rs;
	return pending_finish(pd, out);
}

static void settle(struct rpc_pending *pd, struct rpc_answer *out)
{
	if (pending_finish(pd, out))
		rpc_pending_free(pd);
	else
		out->pending = pd;
}

static struct rpc_pending *pending_new(bool list)
{
	struct rpc_pending *pd = xcalloc(1, sizeof(*pd));
	pd->list = list;
	return pd;
}

static struct op *pending_add(struct rpc_pending *pd, struct process *p, enum op_kind kind,
			      const char *name)
{
	pd->ops = xrealloc(pd->ops, (pd->n + 1) * sizeof(*pd->ops));
	struct op *op = &pd->ops[pd->n++];
	memset(op, 0, sizeof(*op));
	op->p = p;
	op->kind = kind;
	op->name = name ? xstrdup(name) : namespec(p);
	op->index = pd->n - 1;
	return op;
}

/* Processes of one group or of all, in priority order (reverse for stops). */
static void collect(struct rpc_server *rs, struct pgroup *only, bool reverse, struct process ***out,
		    size_t *n)
{
	struct supervisor *sv = rs->sv;
	*out = NULL;
	*n = 0;
	for (size_t gi = 0; gi < sv->ngroups; gi++) {
		struct pgroup *g = sv->groups[reverse ? sv->ngroups - 1 - gi : gi];
		if (only && g != only)
			continue;
		for (size_t i = 0; i < g->nprocs; i++) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = g->procs[reverse ? g->nprocs - 1 - i : i];
		}
	}
}

static bool shutting_down(struct rpc_server *rs, struct rpc_answer *out)
{
	if (rs->sv->mood < MOOD_RUNNING) {
		fault(out, XR_SHUTDOWN_STATE, NULL);
		return true;
	}
	return false;
}

static void start_many(struct rpc_server *rs, struct pgroup *only, bool wait,
		       struct rpc_answer *out)
{
	struct process **ps;
	size_t n;
	struct rpc_pending *pd = pending_new(true);
	collect(rs, only, false, &ps, &n);
	for (size_t i = 0; i < n; i++)
		if (!proc_state_running(ps[i]->fsm.state))
			op_start(rs, pending_add(pd, ps[i], OP_START, NULL), wait);
	free(ps);
	settle(pd, out);
}

static void stop_many(struct rpc_server *rs, struct pgroup *only, bool wait, struct rpc_answer *out)
{
	struct process **ps;
	size_t n;
	struct rpc_pending *pd = pending_new(true);
	/* supervisord's RPC stops in ascending priority too (signals all at once) */
	collect(rs, only, false, &ps, &n);
	for (size_t i = 0; i < n; i++)
		if (proc_state_running(ps[i]->fsm.state))
			op_stop(rs, pending_add(pd, ps[i], OP_STOP, NULL), wait);
	free(ps);
	settle(pd, out);
}

/* --- handlers --- */

typedef void (*handler_fn)(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

static void m_version(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_string(SUPERVISOR_API_VERSION);
}

static void m_supervisor_version(struct rpc_server *rs, const struct args *a,
				 struct rpc_answer *out)
{
	out->value = xr_string(SUPERVISOR_VERSION);
}

static void m_identification(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_string(rs->sv->cfg->sd.identifier);
}

static void m_get_state(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "statecode", xr_int(rs->sv->mood));
	xr_struct_set(st, "statename", xr_string(mood_name(rs->sv->mood)));
	out->value = st;
}

static void m_get_pid(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_int(getpid());
}

/* supervisord's readFile(): offset/length rules shared by the main and program logs. */
static void read_file(const char *path, long long offset, long long length, struct rpc_answer *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		fault(out, XR_FAILED, NULL);
		return;
	}
	long long size = st.st_size, pos, want;
	if (offset < 0) {
		if (length) {
			close(fd);
			fault(out, XR_BAD_ARGUMENTS, NULL);
			return;
		}
		pos = size + offset < 0 ? 0 : size + offset;
		want = -offset;
	} else {
		if (length < 0) {
			close(fd);
			fault(out, XR_BAD_ARGUMENTS, NULL);
			return;
		}
		pos = offset;
		want = length == 0 ? size - offset : length;
	}
	if (want > size - pos)
		want = size - pos;
	if (want < 0)
		want = 0;
	if (want > 16 * 1024 * 1024)
		want = 16 * 1024 * 1024;
	char *buf = xmalloc((size_t)want + 1);
	ssize_t got = want ? pread(fd, buf, (size_t)want, pos) : 0;
	close(fd);
	out->value = xr_string_len(buf, got > 0 ? (size_t)got : 0);
	free(buf);
}

static void m_read_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	long long offset, length;
	arg_int(a, 0, &offset);
	arg_int(a, 1, &length);
	const char *path = log_path();
	if (!path || access(path, F_OK) < 0) {
		fault(out, XR_NO_FILE, path ? path : "none");
		return;
	}
	read_file(path, offset, length, out);
}

static void m_clear_log(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *path = log_path();
	if (!path || access(path, F_OK) < 0) {
		fault(out, XR_NO_FILE, path ? path : "none");
		return;
	}
	if (truncate(path, 0) < 0) {
		fault(out, XR_FAILED, strerror(errno));
		return;
	}
	log_reopen();
	out->value = xr_bool(true);
}

static void m_shutdown(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (shutting_down(rs, out))
		return;
	log_warn("received shutdown request");
	supervisor_shutdown(rs->sv);
	out->value = xr_bool(true);
}

static void m_restart(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (shutting_down(rs, out))
		return;
	log_warn("received restart request");
	char *why = NULL;
	if (supervisor_reload(rs->sv, &why) < 0) {
		/* the new config has errors: nothing changed, say why */
		fault(out, XR_CANT_REREAD, why);
		free(why);
		return;
	}
	out->value = xr_bool(true);
}

static struct xr_value *name_list(struct group_conf **gs, size_t n)
{
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++)
		xr_array_add(arr, xr_string(gs[i]->name));
	return arr;
}

static void m_reload_config(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct diag d = {0};
	if (shutting_down(rs, out))
		return;
	struct config *c = config_load(rs->sv->config_path, rs->sv->overrides, &d);
	if (!c) {
		struct buf why = {0};
		for (size_t i = 0; i < d.n; i++)
			if (d.items[i].level == DIAG_ERROR)
				buf_printf(&why, "%s%s", why.len ? "; " : "", d.items[i].text);
		fault(out, XR_CANT_REREAD, why.data);
		buf_free(&why);
		diag_free(&d);
		return;
	}
	diag_free(&d);
	struct group_conf **added = NULL, **changed = NULL, **removed = NULL;
	size_t na = 0, nc = 0, nr = 0;
	struct supervisor *sv = rs->sv;
	for (size_t i = 0; i < c->ngroups; i++) {
		struct pgroup *g = supervisor_find_group(sv, c->groups[i]->name);
		if (!g) {
			added = xrealloc(added, (na + 1) * sizeof(*added));
			added[na++] = c->groups[i];
		} else if (!group_conf_equal(g->conf, c->groups[i])) {
			changed = xrealloc(changed, (nc + 1) * sizeof(*changed));
			changed[nc++] = c->groups[i];
		}
	}
	for (size_t i = 0; i < sv->ngroups; i++)
		if (!config_find_group(c, sv->groups[i]->conf->name)) {
			removed = xrealloc(removed, (nr + 1) * sizeof(*removed));
			removed[nr++] = sv->groups[i]->conf;
		}
	struct xr_value *inner = xr_array();
	xr_array_add(inner, name_list(added, na));
	xr_array_add(inner, name_list(changed, nc));
	xr_array_add(inner, name_list(removed, nr));
	out->value = xr_array();
	xr_array_add(out->value, inner);
	free(added);
	free(changed);
	free(removed);
	/* the running groups keep their own configs; later adds come from this one */
	if (sv->latest != sv->cfg)
		config_free(sv->latest);
	sv->latest = c;
}

static struct config *latest(struct rpc_server *rs)
{
	return rs->sv->latest ? rs->sv->latest : rs->sv->cfg;
}

static void m_add_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	if (shutting_down(rs, out))
		return;
	struct group_conf *gc = config_find_group(latest(rs), name);
	if (!gc) {
		fault(out, XR_BAD_NAME, name);
		return;
	}
	if (supervisor_find_group(rs->sv, name)) {
		fault(out, XR_ALREADY_ADDED, name);
		return;
	}
	struct pgroup *g = supervisor_add_group(rs->sv, gc);
	log_info("added process group %s", name);
	for (size_t i = 0; i < g->nprocs; i++)
		supervisor_tick_process(rs->sv, g->procs[i]);
	out->value = xr_bool(true);
}

static void m_remove_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	if (shutting_down(rs, out))
		return;
	struct pgroup *g = supervisor_find_group(rs->sv, name);
	if (!g) {
		fault(out, XR_BAD_NAME, name);
		return;
	}
	for (size_t i = 0; i < g->nprocs; i++)
		if (!proc_state_stopped(g->procs[i]->fsm.state) || g->procs[i]->pid > 0) {
			fault(out, XR_STILL_RUNNING, name);
			return;
		}
	log_info("removed process group %s", name);
	supervisor_remove_group(rs->sv, g);
	out->value = xr_bool(true);
}

static void m_start(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	bool wait = arg_bool(a, 1, true);
	struct pgroup *g;
	struct process *p;
	if (shutting_down(rs, out) || !lookup(rs, name, &g, &p, out))
		return;
	if (!p) {
		start_many(rs, g, wait, out);
		return;
	}
	/* supervisord checks the command before trying, to fail fast */
	char *err = NULL;
	if (!process_check_command(p, &err)) {
		fault(out, strstr(err, "can't find") ? XR_NO_FILE : XR_NOT_EXECUTABLE, err);
		free(err);
		return;
	}
	struct rpc_pending *pd = pending_new(false);
	op_start(rs, pending_add(pd, p, OP_START, name), wait);
	settle(pd, out);
}

/* The group named by the first argument, or NULL with the fault set. */
static struct pgroup *group_arg(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	struct pgroup *g;
	if (shutting_down(rs, out))
		return NULL;
	if (!(g = supervisor_find_group(rs->sv, name)))
		fault(out, XR_BAD_NAME, name);
	return g;
}

static void m_start_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct pgroup *g = group_arg(rs, a, out);
	if (g)
		start_many(rs, g, arg_bool(a, 1, true), out);
}

static void m_start_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (!shutting_down(rs, out))
		start_many(rs, NULL, arg_bool(a, 0, true), out);
}

static void m_stop(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	bool wait = arg_bool(a, 1, true);
	struct pgroup *g;
	struct process *p;
	if (shutting_down(rs, out) || !lookup(rs, name, &g, &p, out))
		return;
	if (!p) {
		stop_many(rs, g, wait, out);
		return;
	}
	struct rpc_pending *pd = pending_new(false);
	op_stop(rs, pending_add(pd, p, OP_STOP, name), wait);
	settle(pd, out);
}

static void m_stop_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct pgroup *g = group_arg(rs, a, out);
	if (g)
		stop_many(rs, g, arg_bool(a, 1, true), out);
}

static void m_stop_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (!shutting_down(rs, out))
		stop_many(rs, NULL, arg_bool(a, 0, true), out);
}

static int signal_arg(const struct args *a, size_t i)
{
	const struct xr_value *v = xr_item(a->params, i);
	if (!v)
		return -1;
	if (v->type == XR_INT)
		return v->u.i > 0 && v->u.i < NSIG ? (int)v->u.i : -1;
	if (v->type == XR_STRING)
		return signal_parse(v->u.str.ptr);
	return -1;
}

static const char *signal_arg_text(const struct args *a, size_t i, char *buf, size_t n)
{
	const struct xr_value *v = xr_item(a->params, i);
	if (v && v->type == XR_INT)
		snprintf(buf, n, "%lld", v->u.i);
	else
		snprintf(buf, n, "%s", v && v->type == XR_STRING ? v->u.str.ptr : "");
	return buf;
}

static int signal_one(struct process *p, int sig)
{
	if (!proc_state_signallable(p->fsm.state) || p->pid <= 0)
		return XR_NOT_RUNNING;
	if (kill(p->pid, sig) < 0 && errno != ESRCH)
		return XR_FAILED;
	return 0;
}

static void signal_many(struct rpc_server *rs, struct pgroup *only, int sig, struct rpc_answer *out)
{
	struct process **ps;
	size_t n;
	collect(rs, only, false, &ps, &n);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++) {
		if (!proc_state_signallable(ps[i]->fsm.state))
			continue;
		int code = signal_one(ps[i], sig);
		char text[1024] = "OK";
		if (code) {
			struct op op = {.code = code, .name = namespec(ps[i])};
			op_fault_text(&op, text, sizeof(text));
			free(op.name);
		}
		xr_array_add(arr, result_struct(ps[i], code ? code : XR_SUCCESS, text));
	}
	free(ps);
	out->value = arr;
}

static void m_signal(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	char sigtext[64];
	struct pgroup *g;
	struct process *p;
	if (shutting_down(rs, out) || !lookup(rs, name, &g, &p, out))
		return;
	int sig = signal_arg(a, 1);
	if (sig < 0) {
		fault(out, XR_BAD_SIGNAL, signal_arg_text(a, 1, sigtext, sizeof(sigtext)));
		return;
	}
	if (!p) {
		signal_many(rs, g, sig, out);
		return;
	}
	int code = signal_one(p, sig);
	if (code)
		fault(out, code, name);
	else
		out->value = xr_bool(true);
}

static void m_signal_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	char sigtext[64];
	struct pgroup *g = group_arg(rs, a, out);
	if (!g)
		return;
	int sig = signal_arg(a, 1);
	if (sig < 0) {
		fault(out, XR_BAD_SIGNAL, signal_arg_text(a, 1, sigtext, sizeof(sigtext)));
		return;
	}
	signal_many(rs, g, sig, out);
}

static void m_signal_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	char sigtext[64];
	if (shutting_down(rs, out))
		return;
	int sig = signal_arg(a, 0);
	if (sig < 0) {
		fault(out, XR_BAD_SIGNAL, signal_arg_text(a, 0, sigtext, sizeof(sigtext)));
		return;
	}
	signal_many(rs, NULL, sig, out);
}

static void m_process_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	struct pgroup *g;
	struct process *p;
	if (!lookup(rs, name, &g, &p, out))
		return;
	if (!p) {
		fault(out, XR_BAD_NAME, name);
		return;
	}
	out->value = process_info(p);
}

static int cmp_by_group_then_name(const void *x, const void *y)
{
	const struct process *a = *(struct process *const *)x, *b = *(struct process *const *)y;
	int c = strcmp(a->conf->group, b->conf->group);
	return c ? c : strcmp(a->conf->name, b->conf->name);
}

static void m_all_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct process **ps;
	size_t n;
	collect(rs, NULL, false, &ps, &n);
	qsort(ps, n, sizeof(*ps), cmp_by_group_then_name);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++)
		xr_array_add(arr, process_info(ps[i]));
	free(ps);
	out->value = arr;
}

static struct xr_value *str_or_none(const char *s)
{
	return xr_string(s ? s : "none");
}

static struct xr_value *logfile_value(const char *s)
{
	if (!s)
		return xr_string("none");
	return xr_string(strcmp(s, "AUTO") == 0 ? "auto" : s);
}

static int cmp_conf_name(const void *x, const void *y)
{
	const struct proc_conf *a = *(struct proc_conf *const *)x,
			       *b = *(struct proc_conf *const *)y;
	return strcmp(a->name, b->name);
}

static void m_all_config(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct config *c = latest(rs);
	struct proc_conf **pcs = NULL;
	long long *gprio = NULL;
	size_t n = 0;
	for (size_t gi = 0; gi < c->ngroups; gi++)
		for (size_t i = 0; i < c->groups[gi]->nprocs; i++) {
			pcs = xrealloc(pcs, (n + 1) * sizeof(*pcs));
			pcs[n++] = c->groups[gi]->procs[i];
		}
	qsort(pcs, n, sizeof(*pcs), cmp_conf_name);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++) {
		struct proc_conf *pc = pcs[i];
		struct group_conf *gc = config_find_group(c, pc->group);
		struct pgroup *running = supervisor_find_group(rs->sv, pc->group);
		bool inuse = false;
		if (running)
			for (size_t j = 0; j < running->nprocs; j++)
				if (strcmp(running->procs[j]->conf->name, pc->name) == 0)
					inuse = true;
		struct xr_value *st = xr_struct();
		struct xr_value *codes = xr_array();
		for (int code = 0; code < 256; code++)
			if (exitcodes_has(&pc->exitcodes, code))
				xr_array_add(codes, xr_int(code));
		xr_struct_set(st, "autostart", xr_bool(pc->autostart));
		xr_struct_set(st, "autorestart",
			      xr_string(pc->autorestart == AUTORESTART_TRUE    ? "true"
					: pc->autorestart == AUTORESTART_FALSE ? "false"
									       : "unexpected"));
		xr_struct_set(st, "command", xr_string(pc->command));
		xr_struct_set(st, "directory", str_or_none(pc->directory));
		xr_struct_set(st, "exitcodes", codes);
		xr_struct_set(st, "group", xr_string(pc->group));
		xr_struct_set(st, "group_prio", xr_int(gc ? gc->priority : pc->priority));
		xr_struct_set(st, "inuse", xr_bool(inuse));
		xr_struct_set(st, "killasgroup", xr_bool(pc->killasgroup));
		xr_struct_set(st, "name", xr_string(pc->name));
		xr_struct_set(st, "process_prio", xr_int(pc->priority));
		xr_struct_set(st, "redirect_stderr", xr_bool(pc->redirect_stderr));
		xr_struct_set(st, "serverurl", logfile_value(pc->serverurl));
		xr_struct_set(st, "startretries", xr_int(pc->startretries));
		xr_struct_set(st, "startsecs", xr_int(pc->startsecs));
		const struct log_conf *lcs[2] = {&pc->out, &pc->err};
		const char *pre[2] = {"stdout", "stderr"};
		for (int k = 0; k < 2; k++) {
			char key[64];
			snprintf(key, sizeof(key), "%s_capture_maxbytes", pre[k]);
			xr_struct_set(st, key, xr_int(lcs[k]->capture_maxbytes));
			snprintf(key, sizeof(key), "%s_events_enabled", pre[k]);
			xr_struct_set(st, key, xr_bool(lcs[k]->events_enabled));
			snprintf(key, sizeof(key), "%s_logfile", pre[k]);
			xr_struct_set(st, key, logfile_value(lcs[k]->logfile));
			snprintf(key, sizeof(key), "%s_logfile_backups", pre[k]);
			xr_struct_set(st, key, xr_int(lcs[k]->backups));
			snprintf(key, sizeof(key), "%s_logfile_maxbytes", pre[k]);
			xr_struct_set(st, key, xr_int(lcs[k]->maxbytes));
			snprintf(key, sizeof(key), "%s_syslog", pre[k]);
			xr_struct_set(st, key, xr_bool(lcs[k]->syslog));
		}
		xr_struct_set(st, "stopsignal", xr_int(pc->stopsignal));
		xr_struct_set(st, "stopwaitsecs", xr_int(pc->stopwaitsecs));
		xr_struct_set(st, "uid", pc->user ? xr_string(pc->user) : xr_string("none"));
		xr_array_add(arr, st);
	}
	free(pcs);
	free(gprio);
	out->value = arr;
}

static struct process *one_process(struct rpc_server *rs, const char *name, struct rpc_answer *out)
{
	struct pgroup *g;
	struct process *p;
	if (!name) {
		fault(out, XR_INCORRECT_PARAMETERS, NULL);
		return NULL;
	}
	if (!lookup(rs, name, &g, &p, out))
		return NULL;
	if (!p)
		fault(out, XR_BAD_NAME, name);
	return p;
}

/* readFile()'s rules over the in-memory tail of a program with no log file. */
static void read_tail(const struct process *p, int channel, long long offset, long long length,
		      struct rpc_answer *out)
{
	long long size = (long long)output_tail_size(p, channel), pos, want;
	if ((offset < 0 && length) || (offset >= 0 && length < 0)) {
		fault(out, XR_BAD_ARGUMENTS, NULL);
		return;
	}
	if (offset < 0) {
		pos = size + offset < 0 ? 0 : size + offset;
		want = -offset;
	} else {
		pos = offset;
		want = length ? length : size - offset;
	}
	if (want > size - pos)
		want = size - pos;
	if (want < 0)
		want = 0;
	char *buf = xmalloc((size_t)want + 1);
	size_t got = output_tail_read(p, channel, (unsigned long long)pos, (size_t)want, buf);
	out->value = xr_string_len(buf, got);
	free(buf);
}

static void read_process_log(struct rpc_server *rs, const struct args *a, int channel,
			     struct rpc_answer *out)
{
	long long offset, length;
	struct process *p = one_process(rs, arg_str(a, 0), out);
	if (!p)
		return;
	arg_int(a, 1, &offset);
	arg_int(a, 2, &length);
	const char *path = output_logfile(p, channel);
	if (!path && output_has_tail(p, channel)) {
		read_tail(p, channel, offset, length, out);
		return;
	}
	if (!path || access(path, F_OK) < 0) {
		fault(out, XR_NO_FILE, arg_str(a, 0));
		return;
	}
	read_file(path, offset, length, out);
}

static void m_read_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	read_process_log(rs, a, 1, out);
}

static void m_read_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	read_process_log(rs, a, 2, out);
}

/* supervisord's tailFile(). */
static void tail_process_log(struct rpc_server *rs, const struct args *a, int channel,
			     struct rpc_answer *out)
{
	long long offset, length;
	struct process *p = one_process(rs, arg_str(a, 0), out);
	if (!p)
		return;
	arg_int(a, 1, &offset);
	arg_int(a, 2, &length);
	const char *path = output_logfile(p, channel);
	struct stat st;
	out->value = xr_array();
	if (!path && output_has_tail(p, channel)) {
		st.st_size = (off_t)output_tail_size(p, channel);
	} else if (!path || stat(path, &st) < 0) {
		xr_array_add(out->value, xr_string(""));
		xr_array_add(out->value, xr_int(0));
		xr_array_add(out->value, xr_bool(false));
		return;
	}
	long long sz = st.st_size;
	bool overflow = false;
	if (sz > offset + length) {
		overflow = true;
		offset = sz - 1;
	}
	if (offset + length > sz) {
		if (offset > sz - 1)
			length = 0;
		offset = sz - length;
	}
	if (offset < 0)
		offset = 0;
	if (length < 0)
		length = 0;
	if (length > 16 * 1024 * 1024)
		length = 16 * 1024 * 1024;
	char *buf = xmalloc((size_t)length + 1);
	ssize_t got = 0;
	if (!path) {
		got = (ssize_t)output_tail_read(p, channel, (unsigned long long)offset,
						(size_t)length, buf);
	} else if (length) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			got = pread(fd, buf, (size_t)length, offset);
			close(fd);
		}
	}
	xr_array_add(out->value, xr_string_len(buf, got > 0 ? (size_t)got : 0));
	xr_array_add(out->value, xr_int(sz));
	xr_array_add(out->value, xr_bool(overflow));
	free(buf);
}

static void m_tail_stdout(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	tail_process_log(rs, a, 1, out);
}

static void m_tail_stderr(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	tail_process_log(rs, a, 2, out);
}

static void clear_one(struct process *p)
{
	for (int ch = 1; ch <= 2; ch++) {
		output_tail_clear(p, ch);
		const char *path = output_logfile(p, ch);
		if (path && truncate(path, 0) == 0)
			output_reopen(p);
	}
}

static void m_clear_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct process *p = one_process(rs, arg_str(a, 0), out);
	if (!p)
		return;
	clear_one(p);
	out->value = xr_bool(true);
}

static void m_clear_all_logs(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct process **ps;
	size_t n;
	collect(rs, NULL, false, &ps, &n);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++) {
		clear_one(ps[i]);
		xr_array_add(arr, result_struct(ps[i], XR_SUCCESS, "OK"));
	}
	free(ps);
	out->value = arr;
}

static void m_send_stdin(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	const struct xr_value *chars = xr_item(a->params, 1);
	struct process *p = one_process(rs, name, out);
	if (!p)
		return;
	if (p->pid <= 0 || p->fsm.killing) {
		fault(out, XR_NOT_RUNNING, name);
		return;
	}
	if (p->stdin_fd < 0) {
		fault(out, XR_NO_FILE, "Process has no stdin channel");
		return;
	}
	const char *s = chars->u.str.ptr;
	size_t len = chars->u.str.len;
	while (len > 0) {
		ssize_t w = write(p->stdin_fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fault(out, XR_NO_FILE, "Process has no stdin channel");
			return;
		}
		s += w;
		len -= (size_t)w;
	}
	out->value = xr_bool(true);
}

static void m_remote_comm(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	/* an event for listeners; pidvisor runs none, so there is nobody to tell */
	out->value = xr_bool(true);
}

static void m_list_methods(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_help(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

static const struct method {
	const char *name;
	handler_fn fn;
	unsigned min, max;     /* argument count */
	const char *signature; /* return type, then parameter types, comma-separated */
	const char *help;
} methods[] = {
    {"supervisor.addProcessGroup", m_add_group, 1, 1, "boolean,string",
     "Update the config for a running process from config file."},
    {"supervisor.clearAllProcessLogs", m_clear_all_logs, 0, 0, "array",
     "Clear all process log files"},
    {"supervisor.clearLog", m_clear_log, 0, 0, "boolean", "Clear the main log."},
    {"supervisor.clearProcessLog", m_clear_logs, 1, 1, "boolean,string",
     "Clear the stdout and stderr logs for the named process and reopen them."},
    {"supervisor.clearProcessLogs", m_clear_logs, 1, 1, "boolean,string",
     "Clear the stdout and stderr logs for the named process and reopen them."},
    {"supervisor.getAPIVersion", m_version, 0, 0, "string",
     "Return the version of the RPC API used by supervisord"},
    {"supervisor.getAllConfigInfo", m_all_config, 0, 0, "array",
     "Get info about all available process configurations. Each struct represents a single "
     "process (i.e. groups get flattened)."},
    {"supervisor.getAllProcessInfo", m_all_info, 0, 0, "array", "Get info about all processes"},
    {"supervisor.getIdentification", m_identification, 0, 0, "string",
     "Return identifying string of supervisord"},
    {"supervisor.getPID", m_get_pid, 0, 0, "int", "Return the PID of supervisord"},
    {"supervisor.getProcessInfo", m_process_info, 1, 1, "struct,string",
     "Get info about a process named name"},
    {"supervisor.getState", m_get_state, 0, 0, "struct",
     "Return current state of supervisord as a struct"},
    {"supervisor.getSupervisorVersion", m_supervisor_version, 0, 0, "string",
     "Return the version of the supervisor package in use by supervisord"},
    {"supervisor.getVersion", m_version, 0, 0, "string",
     "Return the version of the RPC API used by supervisord"},
    {"supervisor.readLog", m_read_log, 2, 2, "string,int,int",
     "Read length bytes from the main log starting at offset"},
    {"supervisor.readMainLog", m_read_log, 2, 2, "string,int,int",
     "Read length bytes from the main log starting at offset"},
    {"supervisor.readProcessLog", m_read_stdout, 3, 3, "string,string,int,int",
     "Read length bytes from name's stdout log starting at offset"},
    {"supervisor.readProcessStderrLog", m_read_stderr, 3, 3, "string,string,int,int",
     "Read length bytes from name's stderr log starting at offset"},
    {"supervisor.readProcessStdoutLog", m_read_stdout, 3, 3, "string,string,int,int",
     "Read length bytes from name's stdout log starting at offset"},
    {"supervisor.reloadConfig", m_reload_config, 0, 0, "array", "Reload the configuration."},
    {"supervisor.removeProcessGroup", m_remove_group, 1, 1, "boolean,string",
     "Remove a stopped process from the active configuration."},
    {"supervisor.restart", m_restart, 0, 0, "boolean", "Restart the supervisor process"},
    {"supervisor.sendProcessStdin", m_send_stdin, 2, 2, "boolean,string,string",
     "Send a string of chars to the stdin of the process name."},
    {"supervisor.sendRemoteCommEvent", m_remote_comm, 2, 2, "boolean,string,string",
     "Send an event that will be received by event listener subprocesses subscribing to the "
     "RemoteCommunicationEvent."},
    {"supervisor.shutdown", m_shutdown, 0, 0, "boolean", "Shut down the supervisor process"},
    {"supervisor.signalAllProcesses", m_signal_all, 1, 1, "array,string",
     "Send a signal to all processes in the process list"},
    {"supervisor.signalProcess", m_signal, 2, 2, "boolean,string,string",
     "Send an arbitrary UNIX signal to the process named by name"},
    {"supervisor.signalProcessGroup", m_signal_group, 2, 2, "array,string,string",
     "Send a signal to all processes in the group named 'name'"},
    {"supervisor.startAllProcesses", m_start_all, 0, 1, "array,boolean",
     "Start all processes listed in the configuration file"},
    {"supervisor.startProcess", m_start, 1, 2, "boolean,string,boolean", "Start a process"},
    {"supervisor.startProcessGroup", m_start_group, 1, 2, "array,string,boolean",
     "Start all processes in the group named 'name'"},
    {"supervisor.stopAllProcesses", m_stop_all, 0, 1, "array,boolean",
     "Stop all processes in the process list"},
    {"supervisor.stopProcess", m_stop, 1, 2, "boolean,string,boolean",
     "Stop a process named by name"},
    {"supervisor.stopProcessGroup", m_stop_group, 1, 2, "array,string,boolean",
     "Stop all processes in the process group named 'name'"},
    {"supervisor.tailProcessLog", m_tail_stdout, 3, 3, "array,string,int,int",
     "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog()."},
    {"supervisor.tailProcessStderrLog", m_tail_stderr, 3, 3, "array,string,int,int",
     "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog()."},
    {"supervisor.tailProcessStdoutLog", m_tail_stdout, 3, 3, "array,string,int,int",
     "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog()."},
    {"system.listMethods", m_list_methods, 0, 0, "array",
     "Return an array listing the available method names"},
    {"system.methodHelp", m_method_help, 1, 1, "string,string",
     "Return a string showing the method's documentation"},
    {"system.methodSignature", m_method_signature, 1, 1, "array,string",
     "Return an array describing the method signature in the form [rtype, ptype, ptype...] "
     "where rtype is the return data type of the method, and ptypes are the parameter data "
     "types that the method accepts in method argument order."},
    {"system.multicall", m_multicall, 1, 1, "array,array",
     "Process an array of calls, and return an array of results."},
};

static const struct method *find_method(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

static void m_list_methods(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		xr_array_add(arr, xr_string(methods[i].name));
	out->value = arr;
}

static void m_method_help(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	const struct method *m = name ? find_method(name) : NULL;
	if (!m) {
		fault(out, XR_SIGNATURE_UNSUPPORTED, NULL);
		return;
	}
	out->value = xr_string(m->help);
}

static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = arg_str(a, 0);
	const struct method *m = name ? find_method(name) : NULL;
	if (!m) {
		fault(out, XR_SIGNATURE_UNSUPPORTED, NULL);
		return;
	}
	struct xr_value *arr = xr_array();
	char *copy = xstrdup(m->signature), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		xr_array_add(arr, xr_string(t));
	free(copy);
	out->value = arr;
}

static struct xr_value *fault_struct(int code, const char *text)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "faultCode", xr_int(code));
	xr_struct_set(st, "faultString", xr_string(text ? text : ""));
	return st;
}

/* Calls that wait (start/stop) answer inside a multicall once they are done, so multicall
 * itself stays simple: each call runs to its immediate answer. */
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const struct xr_value *calls = xr_item(a->params, 0);
	struct xr_value *results = xr_array();
	for (size_t i = 0; i < xr_len(calls); i++) {
		const struct xr_value *c = xr_item(calls, i);
		const char *name = xr_member_str(c, "methodName", NULL);
		const struct xr_value *params = xr_member(c, "params");
		struct rpc_answer sub = {0};
		if (!name) {
			xr_array_add(results,
				     fault_struct(XR_INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS"));
			continue;
		}
		if (strcmp(name, "system.multicall") == 0) {
			xr_array_add(results, fault_struct(XR_INCORRECT_PARAMETERS,
							   "INCORRECT_PARAMETERS: Recursive "
							   "system.multicall forbidden"));
			continue;
		}
		struct xr_value *empty = NULL;
		if (!params || params->type != XR_ARRAY)
			params = empty = xr_array();
		rpc_dispatch(rs, name, params, &sub);
		xr_free(empty);
		if (sub.pending) {
			/* no waiting inside multicall: report what is true now */
			struct rpc_pending *pd = sub.pending;
			sub.pending = NULL;
			for (size_t k = 0; k < pd->n; k++)
				if (pd->ops[k].st == OP_WAIT)
					pd->ops[k].st = OP_OK;
			pending_finish(pd, &sub);
			rpc_pending_free(pd);
		}
		if (sub.fault)
			xr_array_add(results, fault_struct(sub.fault, sub.fault_text));
		else {
			xr_array_add(results, sub.value);
			sub.value = NULL;
		}
		rpc_answer_clear(&sub);
	}
	out->value = results;
}

/* Checks each argument against the method's signature, so handlers need not. A signal may be
 * a name or a number, as supervisord takes it. */
static bool types_match(const struct method *m, const struct xr_value *params)
{
	char sig[64];
	snprintf(sig, sizeof(sig), "%s", m->signature);
	char *save = NULL, *t = strtok_r(sig, ",", &save); /* the return type */
	bool signal_method = strstr(m->name, ".signal") != NULL;
	for (size_t i = 0; i < xr_len(params); i++) {
		const struct xr_value *v = xr_item(params, i);
		long long n;
		struct args one = {.params = params, .n = xr_len(params)};
		t = strtok_r(NULL, ",", &save);
		if (!t)
			return false;
		bool ok = !strcmp(t, "string")
			      ? v->type == XR_STRING || (signal_method && v->type == XR_INT)
			  : !strcmp(t, "int")	  ? arg_int(&one, i, &n)
			  : !strcmp(t, "boolean") ? v->type == XR_BOOL || v->type == XR_INT
			  : !strcmp(t, "array")	  ? v->type == XR_ARRAY
						  : false;
		if (!ok)
			return false;
	}
	return true;
}

void rpc_dispatch(struct rpc_server *rs, const char *method, const struct xr_value *params,
		  struct rpc_answer *out)
{
	memset(out, 0, sizeof(*out));
	const char *dot = strchr(method, '.');
	const struct method *m = find_method(method);
	if (!dot || method[0] == '_' || (dot && dot[1] == '_') || !m) {
		fault(out, XR_UNKNOWN_METHOD, NULL);
		return;
	}
	struct args a = {.params = params, .n = xr_len(params)};
	if (a.n < m->min || a.n > m->max || !types_match(m, params)) {
		fault(out, XR_INCORRECT_PARAMETERS, NULL);
		return;
	}
	m->fn(rs, &a, out);
	if (!out->value && !out->fault && !out->pending)
		fault(out, XR_FAILED, "out of memory");
}
