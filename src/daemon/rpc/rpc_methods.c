/* The supervisor.* handlers that answer at once: state, process and config info, groups,
 * signals, stdin. Arguments arrive checked against the method's signature (rpc.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "child_output.h"
#include "deps.h"
#include "events.h"
#include "log_target.h"
#include "mainlog.h"
#include "passwd.h"
#include "ready.h"
#include "rpc_internal.h"
#include "schedule.h"
#include "signals.h"
#include "version.h"

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
		const char *health = health_of(p);
		timedelta((long long)(now - p->start_wall), up, sizeof(up));
		snprintf(buf, n, "pid %d, uptime %s%s%s", (int)p->pid, up, health ? ", " : "",
			 health ? health : "");
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
		/* an autostart, or a start request, waiting for depends_on */
		if (p->fsm.state == PS_STOPPED &&
		    (p->start_when_ready || (!p->fsm.ever_started && p->conf->autostart)) &&
		    !deps_ready(p, buf, n))
			break;
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
	ready_describe(p, buf, n);
	schedule_describe(p, buf, n);
}

/* A running process's tree usage, for a program with memory_max, or every one with [supervisord]
 * process_resources (off by default: the answer stays supervisord's, member for member). Bytes and
 * seconds are doubles: XML-RPC's int has 32 bits. */
static void resource_members(struct xr_value *st, struct process *p)
{
	const struct res_usage *u = resources_shown(p);
	if (!u)
		return;
	xr_struct_set(st, "cpu_seconds", xr_double(u->cpu_seconds));
	xr_struct_set(st, "rss_bytes", xr_double((double)u->rss_bytes));
	if (u->pss_bytes >= 0)
		xr_struct_set(st, "pss_bytes", xr_double((double)u->pss_bytes));
	xr_struct_set(st, "fds", xr_int(u->fds));
	xr_struct_set(st, "threads", xr_int(u->threads));
	xr_struct_set(st, "processes", xr_int(u->procs));
}

/* pidvisor's additions to a process-info struct; supervisord's clients ignore members they do
 * not know: the health check's state (unhealthy too after a missed watchdog, for pidvisor
 * check), depends_on as written (ctl stop names dependents), and resources. */
static void pidvisor_members(struct xr_value *st, struct process *p)
{
	resource_members(st, p);
	const char *health = ready_watchdog_missed(p) ? "unhealthy" : health_of(p);
	if (health)
		xr_struct_set(st, "health", xr_string(health));
	if (p->conf->ready.kind == READY_NOTIFY)
		xr_struct_set(st, "status_text", xr_string(ready_status_text(p)));
	const struct dep_list *deps = &p->conf->depends_on;
	if (!deps->n)
		return;
	struct buf text = {0};
	for (size_t i = 0; i < deps->n; i++)
		buf_printf(&text, "%s%s%s:%s", i ? "," : "", deps->v[i].name,
			   deps->v[i].group ? ":*" : "", dep_cond_name(deps->v[i].cond));
	if (!text.failed)
		xr_struct_set(st, "depends_on", xr_string(text.data));
	buf_free(&text);
}

/* A log file as supervisord's config holds it once started: NULL for none (NONE, syslog, the
 * stderr of redirect_stderr), the path of an AUTO file (named when the process was added, as
 * supervisord does), else the value as written, /dev/stdout included. */
static const char *logfile_of(const struct proc_conf *pc, const struct process *p, int channel)
{
	const struct log_conf *lc = channel == 2 ? &pc->err : &pc->out;
	if (channel == 2 && pc->redirect_stderr)
		return NULL;
	switch (log_target_of(lc->logfile)) {
	case LOG_TARGET_NONE:
	case LOG_TARGET_SYSLOG:
		return NULL;
	case LOG_TARGET_AUTO:
		return p ? output_logfile(p, channel) : NULL;
	default:
		return lc->logfile;
	}
}

/* supervisord resets exitstatus at each spawn and sets it when a run ends (0 for a run that did
 * not get past startsecs): only STOPPED and EXITED show the last run's status. */
static int exitstatus_of(const struct process *p)
{
	enum proc_state st = p->fsm.state;
	return st == PS_STOPPED || st == PS_EXITED || st == PS_UNKNOWN ? p->fsm.exitstatus : 0;
}

static struct xr_value *process_info(struct process *p)
{
	char desc[FSM_SPAWNERR_MAX]; /* a whole spawn error */
	time_t now = time(NULL);
	const char *out = logfile_of(p->conf, p, 1), *err = logfile_of(p->conf, p, 2);
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
	xr_struct_set(st, "exitstatus", xr_int(exitstatus_of(p)));
	xr_struct_set(st, "logfile", xr_string(out ? out : ""));
	xr_struct_set(st, "stdout_logfile", xr_string(out ? out : ""));
	xr_struct_set(st, "stderr_logfile", xr_string(err ? err : ""));
	xr_struct_set(st, "pid", xr_int(p->pid));
	xr_struct_set(st, "description", xr_string(desc));
	pidvisor_members(st, p);
	return st;
}

void rpc_api_version(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_string(SUPERVISOR_API_VERSION);
}

void rpc_supervisor_version(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_string(SUPERVISOR_VERSION);
}

void rpc_identification(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_string(rs->sv->cfg->sd.identifier);
}

void rpc_get_state(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "statecode", xr_int(rs->sv->mood));
	xr_struct_set(st, "statename", xr_string(mood_name(rs->sv->mood)));
	out->value = st;
}

void rpc_get_pid(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	out->value = xr_int(getpid());
}

void rpc_shutdown(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (rpc_shutting_down(rs, out))
		return;
	log_warn("received shutdown request");
	supervisor_shutdown(rs->sv);
	out->value = xr_bool(true);
}

void rpc_restart(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (rpc_shutting_down(rs, out))
		return;
	log_warn("received restart request");
	char *why = NULL;
	if (supervisor_reload(rs->sv, &why) < 0) {
		/* the new config has errors: nothing changed, say why */
		rpc_fault(out, XR_CANT_REREAD, why);
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

static struct config *latest(struct rpc_server *rs)
{
	return rs->sv->latest ? rs->sv->latest : rs->sv->cfg;
}

void rpc_reload_config(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct diag d = {0};
	if (rpc_shutting_down(rs, out))
		return;
	struct config *c = config_load(rs->sv->config_path, rs->sv->overrides, &d);
	if (!c) {
		struct buf why;
		buf_init(&why, sizeof(out->fault_text));
		for (size_t i = 0; i < d.n; i++)
			if (d.items[i].level == DIAG_ERROR)
				buf_printf(&why, "%s%s", why.len ? "; " : "", d.items[i].text);
		rpc_fault(out, XR_CANT_REREAD, why.data);
		buf_free(&why);
		diag_free(&d);
		return;
	}
	diag_free(&d);
	struct supervisor *sv = rs->sv;
	size_t na = 0, nc = 0, nr = 0;
	struct group_conf **added = malloc((c->ngroups + 1) * sizeof(*added));
	struct group_conf **changed = malloc((c->ngroups + 1) * sizeof(*changed));
	struct group_conf **removed = malloc((sv->ngroups + 1) * sizeof(*removed));
	if (!added || !changed || !removed) {
		rpc_fault(out, XR_FAILED, "out of memory");
		config_free(c);
		goto done;
	}
	for (size_t i = 0; i < c->ngroups; i++) {
		struct pgroup *g = supervisor_find_group(sv, c->groups[i]->name);
		if (!g)
			added[na++] = c->groups[i];
		else if (!group_conf_equal(g->conf, c->groups[i]))
			changed[nc++] = c->groups[i];
	}
	for (size_t i = 0; i < sv->ngroups; i++)
		if (!config_find_group(c, sv->groups[i]->conf->name))
			removed[nr++] = sv->groups[i]->conf;
	struct xr_value *inner = xr_array();
	xr_array_add(inner, name_list(added, na));
	xr_array_add(inner, name_list(changed, nc));
	xr_array_add(inner, name_list(removed, nr));
	out->value = xr_array();
	xr_array_add(out->value, inner);
	/* the running groups keep their own configs; later adds come from this one */
	if (sv->latest != sv->cfg)
		config_free(sv->latest);
	sv->latest = c;
done:
	free(added);
	free(changed);
	free(removed);
}

void rpc_add_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	if (rpc_shutting_down(rs, out))
		return;
	struct group_conf *gc = config_find_group(latest(rs), name);
	if (!gc) {
		rpc_fault(out, XR_BAD_NAME, name);
		return;
	}
	if (supervisor_find_group(rs->sv, name)) {
		rpc_fault(out, XR_ALREADY_ADDED, name);
		return;
	}
	struct pgroup *g = supervisor_add_group(rs->sv, gc);
	if (!g) {
		rpc_fault(out, XR_FAILED, "out of memory");
		return;
	}
	log_info("added process group %s", name);
	for (size_t i = 0; i < g->nprocs; i++)
		supervisor_tick_process(rs->sv, g->procs[i]);
	out->value = xr_bool(true);
}

void rpc_remove_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	struct pgroup *g = rpc_group(rs, name, out);
	if (!g)
		return;
	for (size_t i = 0; i < g->nprocs; i++)
		if (!proc_state_stopped(g->procs[i]->fsm.state) || g->procs[i]->pid > 0) {
			rpc_fault(out, XR_STILL_RUNNING, name);
			return;
		}
	log_info("removed process group %s", name);
	supervisor_remove_group(rs->sv, g);
	out->value = xr_bool(true);
}

/* A signal by name or number, as supervisord takes it; -1 when there is none such, with the
 * value as supervisord quotes it in text. */
static int signal_of(const struct arg *v, char *text, size_t n)
{
	if (v->str) {
		int sig = signal_parse(v->str);
		snprintf(text, n, "%s", v->str);
		return sig;
	}
	snprintf(text, n, "%lld", v->num);
	return v->num > 0 && v->num < NSIG ? (int)v->num : -1;
}

static int signal_one(struct process *p, int sig)
{
	if (!proc_state_signallable(p->fsm.state) || p->pid <= 0)
		return XR_NOT_RUNNING;
	if (kill(p->pid, sig) < 0 && errno != ESRCH)
		return XR_FAILED;
	return 0;
}

/* supervisord's make_allfunc over signalProcess: a bad signal is each process's BAD_SIGNAL
 * result, not a fault of the call. */
static void signal_many(struct rpc_server *rs, struct pgroup *only, const struct arg *signal,
			struct rpc_answer *out)
{
	size_t n;
	struct process **ps = rpc_collect(rs, only, &n, out);
	if (!ps)
		return;
	char sigtext[64];
	int sig = signal_of(signal, sigtext, sizeof(sigtext));
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++) {
		if (!proc_state_signallable(ps[i]->fsm.state))
			continue;
		int code = sig < 0 ? XR_BAD_SIGNAL : signal_one(ps[i], sig);
		struct rpc_answer text;
		snprintf(text.fault_text, sizeof(text.fault_text), "OK");
		if (code) {
			char name[1024];
			rpc_fault(&text, code,
				  sig < 0 ? sigtext : process_namespec(ps[i], name, sizeof(name)));
		}
		xr_array_add(arr,
			     rpc_result_struct(ps[i], code ? code : XR_SUCCESS, text.fault_text));
	}
	free(ps);
	out->value = arr;
}

void rpc_signal(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	struct pgroup *g;
	struct process *p;
	if (rpc_shutting_down(rs, out) || !rpc_lookup(rs, name, &g, &p, out))
		return;
	if (!p) {
		signal_many(rs, g, &a->v[1], out);
		return;
	}
	char sigtext[64];
	int sig = signal_of(&a->v[1], sigtext, sizeof(sigtext));
	int code = sig < 0 ? XR_BAD_SIGNAL : signal_one(p, sig);
	if (code)
		rpc_fault(out, code, code == XR_BAD_SIGNAL ? sigtext : name);
	else
		out->value = xr_bool(true);
}

void rpc_signal_group(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct pgroup *g = rpc_group(rs, a->v[0].str, out);
	if (g)
		signal_many(rs, g, &a->v[1], out);
}

void rpc_signal_all(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	if (!rpc_shutting_down(rs, out))
		signal_many(rs, NULL, &a->v[0], out);
}

void rpc_process_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct process *p = rpc_one_process(rs, a->v[0].str, out);
	if (p)
		out->value = process_info(p);
}

static int cmp_by_group_then_name(const void *x, const void *y)
{
	const struct process *a = *(struct process *const *)x, *b = *(struct process *const *)y;
	int c = strcmp(a->conf->group, b->conf->group);
	return c ? c : strcmp(a->conf->name, b->conf->name);
}

void rpc_all_process_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	size_t n;
	struct process **ps = rpc_collect(rs, NULL, &n, out);
	if (!ps)
		return;
	qsort(ps, n, sizeof(*ps), cmp_by_group_then_name);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++)
		xr_array_add(arr, process_info(ps[i]));
	free(ps);
	out->value = arr;
}

static int cmp_conf_name(const void *x, const void *y)
{
	const struct proc_conf *a = *(struct proc_conf *const *)x,
			       *b = *(struct proc_conf *const *)y;
	return strcmp(a->name, b->name);
}

static struct xr_value *config_info(struct rpc_server *rs, struct config *c,
				    const struct proc_conf *pc)
{
	struct group_conf *gc = config_find_group(c, pc->group);
	struct pgroup *running = supervisor_find_group(rs->sv, pc->group);
	const struct process *p = NULL;
	/* supervisord names an AUTO log file when it adds a group from a config: a group still
	 * running from the config before reloadConfig shows its AUTO logs as "auto" */
	if (running && running->conf == gc)
		for (size_t j = 0; j < running->nprocs; j++)
			if (strcmp(running->procs[j]->conf->name, pc->name) == 0)
				p = running->procs[j];
	struct xr_value *st = xr_struct();
	struct xr_value *codes = xr_array();
	for (int code = 0; code < 256; code++)
		if (exitcodes_has(&pc->exitcodes, code))
			xr_array_add(codes, xr_int(code));
	xr_struct_set(st, "autostart", xr_bool(pc->autostart));
	xr_struct_set(st, "command", xr_string(pc->command));
	xr_struct_set(st, "directory", xr_string(pc->directory ? pc->directory : "none"));
	xr_struct_set(st, "exitcodes", codes);
	xr_struct_set(st, "group", xr_string(pc->group));
	xr_struct_set(st, "group_prio", xr_int(gc ? gc->priority : pc->priority));
	xr_struct_set(st, "inuse", xr_bool(running != NULL));
	xr_struct_set(st, "killasgroup", xr_bool(pc->killasgroup));
	xr_struct_set(st, "name", xr_string(pc->name));
	xr_struct_set(st, "process_prio", xr_int(pc->priority));
	xr_struct_set(st, "redirect_stderr", xr_bool(pc->redirect_stderr));
	/* AUTO is supervisord's None */
	bool url = pc->serverurl && strcasecmp(pc->serverurl, "AUTO") != 0;
	xr_struct_set(st, "serverurl", xr_string(url ? pc->serverurl : "none"));
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
		const char *path = logfile_of(pc, p, k + 1);
		bool is_auto = log_target_of(lcs[k]->logfile) == LOG_TARGET_AUTO &&
			       !(k == 1 && pc->redirect_stderr);
		xr_struct_set(st, key, xr_string(path ? path : is_auto ? "auto" : "none"));
		snprintf(key, sizeof(key), "%s_logfile_backups", pre[k]);
		xr_struct_set(st, key, xr_int(lcs[k]->backups));
		snprintf(key, sizeof(key), "%s_logfile_maxbytes", pre[k]);
		xr_struct_set(st, key, xr_int(lcs[k]->maxbytes));
		snprintf(key, sizeof(key), "%s_syslog", pre[k]);
		xr_struct_set(
		    st, key,
		    xr_bool(lcs[k]->syslog || log_target_of(lcs[k]->logfile) == LOG_TARGET_SYSLOG));
	}
	xr_struct_set(st, "stopsignal", xr_int(pc->stopsignal));
	xr_struct_set(st, "stopwaitsecs", xr_int(pc->stopwaitsecs));
	/* supervisord's name_to_uid: an int, or None without user= */
	struct user_info ui;
	if (!pc->user)
		xr_struct_set(st, "uid", xr_string("none"));
	else if (user_lookup(pc->user, &ui) == 0)
		xr_struct_set(st, "uid", xr_int(ui.uid));
	else
		xr_struct_set(st, "uid", xr_string(pc->user));
	return st;
}

void rpc_all_config_info(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct config *c = latest(rs);
	size_t n = 0;
	for (size_t gi = 0; gi < c->ngroups; gi++)
		n += c->groups[gi]->nprocs;
	struct proc_conf **pcs = malloc((n ? n : 1) * sizeof(*pcs));
	if (!pcs) {
		rpc_fault(out, XR_FAILED, "out of memory");
		return;
	}
	n = 0;
	for (size_t gi = 0; gi < c->ngroups; gi++)
		for (size_t i = 0; i < c->groups[gi]->nprocs; i++)
			pcs[n++] = c->groups[gi]->procs[i];
	qsort(pcs, n, sizeof(*pcs), cmp_conf_name);
	struct xr_value *arr = xr_array();
	for (size_t i = 0; i < n; i++)
		xr_array_add(arr, config_info(rs, c, pcs[i]));
	free(pcs);
	out->value = arr;
}

/* Python's str() of a scalar XML-RPC value: a string as it is, else its text in buf ("" for a
 * container, which supervisord's listeners never get in practice). */
static const char *py_str(const struct xr_value *v, char *buf, size_t size, size_t *len)
{
	buf[0] = '\0';
	switch (v ? v->type : XR_NIL) {
	case XR_STRING:
	case XR_BASE64:
	case XR_DATETIME:
		*len = v->u.str.len;
		return v->u.str.ptr;
	case XR_INT:
		snprintf(buf, size, "%lld", v->u.i);
		break;
	case XR_BOOL:
		snprintf(buf, size, "%s", v->u.b ? "True" : "False");
		break;
	case XR_DOUBLE:
		xr_format_double(buf, size, v->u.d);
		break;
	case XR_NIL:
		snprintf(buf, size, "None");
		break;
	default:
		break;
	}
	*len = strlen(buf);
	return buf;
}

void rpc_send_stdin(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const char *name = a->v[0].str;
	const struct xr_value *chars = a->v[1].value;
	/* supervisord checks chars before the name: anything but a string is INCORRECT_PARAMETERS
	 * with the value's str() */
	if (chars->type != XR_STRING) {
		char text[64];
		size_t n;
		struct buf detail = {0};
		const char *v = py_str(chars, text, sizeof(text), &n);
		buf_append(&detail, v, n);
		rpc_fault(out, XR_INCORRECT_PARAMETERS, detail.data ? detail.data : "");
		buf_free(&detail);
		return;
	}
	struct process *p = rpc_one_process(rs, name, out);
	if (!p)
		return;
	if (p->pid <= 0 || p->fsm.killing) {
		rpc_fault(out, XR_NOT_RUNNING, name);
		return;
	}
	if (p->stdin_fd < 0) {
		rpc_fault(out, XR_NO_FILE, "Process has no stdin channel");
		return;
	}
	const char *s = chars->u.str.ptr;
	size_t len = chars->u.str.len;
	/* the pipe is non-blocking: a full one fails the call rather than the loop */
	while (len > 0) {
		ssize_t w = write(p->stdin_fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rpc_fault(out, XR_NO_FILE, "Process has no stdin channel");
			return;
		}
		s += w;
		len -= (size_t)w;
	}
	out->value = xr_bool(true);
}

void rpc_remote_comm(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	/* type and data may be any values: supervisord formats them with %s into the
	 * REMOTE_COMMUNICATION event's payload */
	char text[2][64];
	const char *s[2];
	size_t n[2];
	for (int i = 0; i < 2; i++)
		s[i] = py_str(a->v[i].value, text[i], sizeof(text[i]), &n[i]);
	events_remote(rs->sv, s[0], n[0], s[1], n[1]);
	out->value = xr_bool(true);
}
