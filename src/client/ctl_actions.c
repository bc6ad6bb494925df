/* The `pidvisor ctl` action table and the actions that answer at once: start, stop, restart,
 * signal, status, pid, clear, shutdown, reload, version, open. Each does what supervisorctl's
 * do_<action> does, call for call. */
#include "ctl_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "states.h"

void ctl_split_namespec(const char *spec, char *group, size_t gsize, const char **process,
			char *pbuf, size_t psize)
{
	const char *colon = strchr(spec, ':');
	if (!colon) {
		snprintf(group, gsize, "%s", spec);
		snprintf(pbuf, psize, "%s", spec);
		*process = pbuf;
		return;
	}
	snprintf(group, gsize, "%.*s", (int)(colon - spec), spec);
	snprintf(pbuf, psize, "%s", colon + 1);
	*process = (!*pbuf || strcmp(pbuf, "*") == 0) ? NULL : pbuf;
}

/* The shape start, stop and signal share: `all`, `group:*` or names. The
 * group and all calls take (name[, sig]); single ones raise faults that are
 * turned into result lines. */
struct multi_call {
	const char *name;
	const char *missing; /* too few words */
	int missing_exit;
	size_t min_words; /* 2 for signal: the signal name comes first */
	const char *all_method, *group_method, *one_method;
	const struct ctl_result_kind *kind;
	int bad_group_exit;
};

static void run_multi(struct ctl *c, const struct ctl_words *names, const struct multi_call *m,
		      const char *sig)
{
	struct rpc_result r;
	if (ctl_words_has(names, "all")) {
		if (!ctl_call_value(c, &r, m->all_method, sig))
			return;
		ctl_print_results(c, m->kind, r.value);
		rpc_result_free(&r);
		return;
	}
	for (size_t i = 0; i < names->n; i++) {
		char group[512], pbuf[512];
		const char *process;
		ctl_split_namespec(names->v[i], group, sizeof(group), &process, pbuf, sizeof(pbuf));
		if (!process) {
			if (!ctl_call_s(c, &r, m->group_method, group, sig))
				return;
			if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
				ctl_out("%s: ERROR (no such group)", group);
				c->exitstatus = m->bad_group_exit;
			} else if (r.status == RPC_FAULT) {
				c->exitstatus = EXIT_GENERIC;
				ctl_unexpected_fault(c, &r);
				return;
			} else {
				ctl_print_results(c, m->kind, r.value);
			}
			rpc_result_free(&r);
			continue;
		}
		if (!ctl_call_s(c, &r, m->one_method, names->v[i], sig))
			return;
		bool ok =
		    r.status == RPC_FAULT
			? ctl_print_result(c, m->kind, group, process, r.fault_code, r.fault_string)
			: ctl_print_result(c, m->kind, group, process, XR_SUCCESS, "");
		rpc_result_free(&r);
		if (!ok)
			return;
	}
}

static const struct multi_call start_call = {
    "start",
    "Error: start requires a process name",
    EXIT_INVALID_ARGS,
    1,
    "supervisor.startAllProcesses",
    "supervisor.startProcessGroup",
    "supervisor.startProcess",
    &ctl_start_kind,
    EXIT_INVALID_ARGS,
};
static const struct multi_call stop_call = {
    "stop",
    "Error: stop requires a process name",
    EXIT_GENERIC,
    1,
    "supervisor.stopAllProcesses",
    "supervisor.stopProcessGroup",
    "supervisor.stopProcess",
    &ctl_stop_kind,
    EXIT_GENERIC,
};
static const struct multi_call signal_call = {
    "signal",
    "Error: signal requires a signal name and a process name",
    EXIT_GENERIC,
    2,
    "supervisor.signalAllProcesses",
    "supervisor.signalProcessGroup",
    "supervisor.signalProcess",
    &ctl_signal_kind,
    EXIT_GENERIC,
};

static void do_multi(struct ctl *c, const char *arg, const struct multi_call *m)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	if (w.n < m->min_words) {
		ctl_out("%s", m->missing);
		c->exitstatus = m->missing_exit;
		ctl_print_help(m->name);
	} else {
		/* signal: the first word is the signal, passed along with every call */
		struct ctl_words names = {w.v + m->min_words - 1, w.n - (m->min_words - 1), NULL};
		run_multi(c, &names, m, m->min_words == 2 ? w.v[0] : NULL);
	}
	ctl_words_free(&w);
}

static void do_start(struct ctl *c, const char *arg)
{
	do_multi(c, arg, &start_call);
}

/* Whether info's depends_on names the program `name` (or its group as "group:*"). */
static bool depends_on(const struct xr_value *info, const char *group, const char *name)
{
	const char *deps = xr_member_str(info, "depends_on", "");
	size_t gl = strlen(group), nl = strlen(name);
	for (const char *d = deps; *d; d += strcspn(d, ",") + (d[strcspn(d, ",")] == ',')) {
		if (!strncmp(d, name, nl) && d[nl] == ':' && strncmp(d + nl, ":*", 2) != 0)
			return true;
		if (!strncmp(d, group, gl) && !strncmp(d + gl, ":*", 2))
			return true;
	}
	return false;
}

/* pidvisor's depends_on: before `stop db`, the running programs that depend on db are named;
 * with --force, or a yes at a terminal, they stop first; otherwise only db stops, as with
 * supervisorctl. Against supervisord (no depends_on member) nothing changes. */
static void do_stop(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	bool force = false;
	struct buf rest = {0}, first = {0};
	for (size_t i = 0; i < w.n; i++) {
		if (!strcmp(w.v[i], "--force"))
			force = true;
		else
			buf_printf(&rest, "%s%s", rest.len ? " " : "", w.v[i]);
	}
	struct rpc_result r;
	bool called = w.n && strcmp(w.v[0], "all") != 0 &&
		      ctl_call_s(c, &r, "supervisor.getAllProcessInfo", NULL, NULL);
	bool have = called && r.status == RPC_OK;
	for (size_t i = 0; have && i < w.n; i++) {
		char group[512], name[512];
		const char *colon = strchr(w.v[i], ':');
		snprintf(group, sizeof(group), "%.*s",
			 colon ? (int)(colon - w.v[i]) : (int)strlen(w.v[i]), w.v[i]);
		snprintf(name, sizeof(name), "%s", colon ? colon + 1 : w.v[i]);
		for (size_t k = 0; k < xr_len(r.value); k++) {
			const struct xr_value *info = xr_item(r.value, k);
			long long st = xr_member_int(info, "state", -1);
			if (!proc_state_running((enum proc_state)st) ||
			    !depends_on(info, group, name))
				continue;
			const char *g = xr_member_str(info, "group", ""),
				   *n = xr_member_str(info, "name", "");
			buf_printf(&first, "%s%s%s%s", first.len ? " " : "", strcmp(g, n) ? g : "",
				   strcmp(g, n) ? ":" : "", n);
		}
	}
	if (called)
		rpc_result_free(&r);
	if (first.len && !force && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		printf("%s depend%s on what you stop. Stop %s first? [y/N] ", first.data,
		       strchr(first.data, ' ') ? "" : "s", strchr(first.data, ' ') ? "them" : "it");
		fflush(stdout);
		char answer[16] = "";
		force =
		    fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
		if (!force) {
			ctl_out("Not stopped.");
			goto out;
		}
	} else if (first.len && !force) {
		fprintf(stderr, "note: %s depend%s on it; `stop --force` stops %s first\n",
			first.data, strchr(first.data, ' ') ? "" : "s",
			strchr(first.data, ' ') ? "them" : "it");
	}
	if (first.len && force)
		do_multi(c, first.data, &stop_call);
	do_multi(c, rest.data ? rest.data : "", &stop_call);
out:
	buf_free(&first);
	buf_free(&rest);
	ctl_words_free(&w);
}

static void do_signal(struct ctl *c, const char *arg)
{
	do_multi(c, arg, &signal_call);
}

static void do_restart(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	size_t n = w.n;
	ctl_words_free(&w);
	if (!n) {
		ctl_out("Error: restart requires a process name");
		c->exitstatus = EXIT_GENERIC;
		ctl_print_help("restart");
		return;
	}
	do_stop(c, arg);
	if (c->auth_required.status != RPC_HTTP)
		do_start(c, arg);
}

static void do_status(struct ctl *c, const char *arg)
{
	bool raised;
	if (!ctl_upcheck_ex(c, &raised)) {
		if (!raised) /* status reports every refusal as 4 */
			c->exitstatus = EXIT_STATUS_UNKNOWN;
		return;
	}
	struct rpc_result r;
	if (!ctl_call_value(c, &r, "supervisor.getAllProcessInfo", NULL))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	/* pidvisor extension: --json anywhere among the names */
	bool json = false;
	size_t kept = 0;
	for (size_t i = 0; i < w.n; i++) {
		if (strcmp(w.v[i], "--json") == 0)
			json = true;
		else
			w.v[kept++] = w.v[i];
	}
	w.n = kept;
	size_t total = xr_len(r.value), n = 0, cap = total + 1;
	const struct xr_value **match = malloc(cap * sizeof(*match));
	if (!match) {
		perror("pidvisor ctl");
		exit(EXIT_GENERIC);
	}
	FILE *errs = json ? stderr : stdout;
	if (!w.n || ctl_words_has(&w, "all")) {
		for (size_t i = 0; i < total; i++)
			match[n++] = xr_item(r.value, i);
	} else {
		for (size_t k = 0; k < w.n; k++) {
			char group[512], pbuf[512];
			const char *process;
			bool bad = true;
			ctl_split_namespec(w.v[k], group, sizeof(group), &process, pbuf,
					   sizeof(pbuf));
			for (size_t i = 0; i < total; i++) {
				const struct xr_value *info = xr_item(r.value, i);
				if (strcmp(xr_member_str(info, "group", ""), group) != 0 ||
				    (process &&
				     strcmp(xr_member_str(info, "name", ""), process) != 0))
					continue;
				bad = false;
				if (n == cap) {
					const struct xr_value **m2 =
					    realloc(match, (cap *= 2) * sizeof(*match));
					if (!m2) {
						perror("pidvisor ctl");
						exit(EXIT_GENERIC);
					}
					match = m2;
				}
				match[n++] = info;
			}
			if (bad) {
				if (process)
					fprintf(errs, "%s: ERROR (no such process)\n", w.v[k]);
				else
					fprintf(errs, "%s: ERROR (no such group)\n", group);
				c->exitstatus = EXIT_STATUS_UNKNOWN;
			}
		}
	}
	if (json)
		ctl_status_json(stdout, match, n);
	else
		ctl_status_table(stdout, match, n);
	for (size_t i = 0; i < n; i++)
		if (proc_state_stopped((enum proc_state)xr_member_int(match[i], "state", 0)))
			c->exitstatus = EXIT_STATUS_NOT_RUNNING;
	free(match);
	ctl_words_free(&w);
	rpc_result_free(&r);
}

static void do_pid(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	struct rpc_result r;
	ctl_split_words(arg, &w);
	if (!w.n) {
		if (ctl_call_value(c, &r, "supervisor.getPID", NULL)) {
			ctl_out("%lld", r.value->type == XR_INT ? r.value->u.i : 0);
			rpc_result_free(&r);
		}
	} else if (ctl_words_has(&w, "all")) {
		if (ctl_call_value(c, &r, "supervisor.getAllProcessInfo", NULL)) {
			for (size_t i = 0; i < xr_len(r.value); i++)
				ctl_out("%lld", xr_member_int(xr_item(r.value, i), "pid", 0));
			rpc_result_free(&r);
		}
	} else {
		for (size_t i = 0; i < w.n; i++) {
			if (!ctl_call_s(c, &r, "supervisor.getProcessInfo", w.v[i], NULL))
				break;
			if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
				c->exitstatus = EXIT_GENERIC;
				ctl_out("No such process %s", w.v[i]);
			} else if (r.status == RPC_FAULT) {
				c->exitstatus = EXIT_GENERIC;
				ctl_unexpected_fault(c, &r);
				break;
			} else {
				long long pid = xr_member_int(r.value, "pid", 0);
				ctl_out("%lld", pid);
				if (pid == 0)
					c->exitstatus = EXIT_NOT_RUNNING;
			}
			rpc_result_free(&r);
		}
	}
	ctl_words_free(&w);
}

static void do_clear(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	struct rpc_result r;
	ctl_split_words(arg, &w);
	if (!w.n) {
		ctl_out("Error: clear requires a process name");
		c->exitstatus = EXIT_GENERIC;
		ctl_print_help("clear");
	} else if (ctl_words_has(&w, "all")) {
		if (ctl_call_value(c, &r, "supervisor.clearAllProcessLogs", NULL)) {
			ctl_print_results(c, &ctl_clear_kind, r.value);
			rpc_result_free(&r);
		}
	} else {
		for (size_t i = 0; i < w.n; i++) {
			char group[512], pbuf[512];
			const char *process;
			ctl_split_namespec(w.v[i], group, sizeof(group), &process, pbuf,
					   sizeof(pbuf));
			if (!ctl_call_s(c, &r, "supervisor.clearProcessLogs", w.v[i], NULL))
				break;
			/* a "g:*" name gives process None; Python prints "g:None" */
			bool ok = ctl_print_result(
			    c, &ctl_clear_kind, group, process ? process : "None",
			    r.status == RPC_FAULT ? r.fault_code : XR_SUCCESS, r.fault_string);
			rpc_result_free(&r);
			if (!ok)
				break;
		}
	}
	ctl_words_free(&w);
}

bool ctl_no_arguments(struct ctl *c, const char *name, const char *arg)
{
	if (!*arg)
		return true;
	ctl_out("Error: %s accepts no arguments", name);
	c->exitstatus = EXIT_GENERIC;
	ctl_print_help(name);
	return false;
}

static void do_shutdown(struct ctl *c, const char *arg)
{
	if (!ctl_no_arguments(c, "shutdown", arg) ||
	    !ctl_confirm(c, "Really shut the remote supervisord process down y/N? "))
		return;
	struct rpc_result r;
	enum rpc_status st = ctl_call_raw(c, &r, "supervisor.shutdown", NULL, 0);
	if (!c->rpc_ready)
		return;
	if (st == RPC_OK) {
		ctl_out("Shut down");
	} else if (st == RPC_FAULT && r.fault_code == XR_SHUTDOWN_STATE) {
		ctl_out("ERROR: already shutting down");
	} else if (st == RPC_CONNECT && (r.sys_errno == ECONNREFUSED || r.sys_errno == ENOENT)) {
		c->exitstatus = EXIT_GENERIC;
		ctl_out("ERROR: %s %s (already shut down?)", c->serverurl,
			r.sys_errno == ENOENT ? "no such file" : "refused connection");
	} else if (st == RPC_HTTP && r.http_status == 401) {
		c->auth_required = r;
	} else {
		ctl_report(c, &r);
	}
	rpc_result_free(&r);
}

static void do_reload(struct ctl *c, const char *arg)
{
	if (!ctl_no_arguments(c, "reload", arg) ||
	    !ctl_confirm(c, "Really restart the remote supervisord process y/N? "))
		return;
	struct rpc_result r;
	if (!ctl_call(c, &r, "supervisor.restart", NULL, 0))
		return;
	if (r.status != RPC_FAULT) {
		ctl_out("Restarted supervisord");
	} else if (r.fault_code == XR_SHUTDOWN_STATE) {
		c->exitstatus = EXIT_GENERIC;
		ctl_out("ERROR: already shutting down");
	} else {
		ctl_unexpected_fault(c, &r);
		return;
	}
	rpc_result_free(&r);
}

static void do_version(struct ctl *c, const char *arg)
{
	if (!ctl_no_arguments(c, "version", arg) || !ctl_upcheck(c))
		return;
	struct rpc_result r;
	if (!ctl_call_value(c, &r, "supervisor.getSupervisorVersion", NULL))
		return;
	ctl_out("%s", r.value->type == XR_STRING ? r.value->u.str.ptr : "");
	rpc_result_free(&r);
}

static void do_open(struct ctl *c, const char *arg)
{
	if (strncmp(arg, "unix:", 5) != 0 && strncmp(arg, "http:", 5) != 0) {
		ctl_out("ERROR: url must be http:// or unix://");
		c->exitstatus = EXIT_GENERIC;
		return;
	}
	ctl_replace(&c->serverurl, arg);
	ctl_disconnect(c);
	int saved = c->exitstatus;
	do_status(c, "");
	c->exitstatus = saved;
}

static void do_eof(struct ctl *c, const char *arg)
{
	(void)arg;
	putchar('\n');
	c->quit = true;
}

const struct ctl_action ctl_actions[] = {
    {"add", ctl_do_add, "add <name> [...]\tActivates any updates in config for process/group"},
    {"avail", ctl_do_avail, "avail\t\t\tDisplay all configured processes"},
    {"clear", do_clear,
     "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple "
     "process' log files\nclear all\t\tClear all process' log files"},
    {"exit", do_eof, "exit\tExit the supervisor shell."},
    {"fg", ctl_do_fg, "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit"},
    {"maintail", ctl_do_maintail,
     "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n"
     "maintail -100\tlast 100 *bytes* of supervisord main log file\n"
     "maintail\tlast 1600 *bytes* of supervisor main log file\n"},
    {"open", do_open,
     "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use "
     "unix:///socket/path)"},
    {"pid", do_pid,
     "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child "
     "process by name.\npid all\t\t\tGet the PID of every child process, one per line."},
    {"quit", do_eof, "quit\tExit the supervisor shell."},
    {"reload", do_reload, "reload \t\tRestart the remote supervisord."},
    {"remove", ctl_do_remove, "remove <name> [...]\tRemoves process/group from active config"},
    {"reread", ctl_do_reread,
     "reread \t\t\tReload the daemon's configuration files without add/remove"},
    {"restart", do_restart,
     "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a "
     "group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\t"
     "Restart all processes\nNote: restart does not reread config files. For that, see reread "
     "and update."},
    {"shutdown", do_shutdown, "shutdown \tShut the remote supervisord down."},
    {"signal", do_signal,
     "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\t"
     "Signal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple "
     "processes or groups\nsignal <signal name> all\t\tSignal all processes"},
    {"start", do_start,
     "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\n"
     "start <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all "
     "processes"},
    {"status", do_status,
     "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all "
     "processes in a group\nstatus <name> <name>\tGet status for multiple named processes\n"
     "status\t\t\tGet all process status info"},
    {"stop", do_stop,
     "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop "
     "<name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes"},
    {"tail", ctl_do_tail,
     "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous "
     "tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* "
     "of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"},
    {"update", ctl_do_update,
     "update\t\t\tReload config and add/remove as necessary, and will restart affected "
     "programs\nupdate all\t\tReload config and add/remove as necessary, and will restart "
     "affected programs\nupdate <gname> [...]\tUpdate specific groups"},
    {"version", do_version, "version\t\t\tShow the version of the remote supervisord process"},
    {"help", ctl_do_help, NULL},
    {"EOF", do_eof, NULL},
};

const size_t ctl_nactions = sizeof(ctl_actions) / sizeof(ctl_actions[0]);

const struct ctl_action *ctl_find_action(const char *name)
{
	for (size_t i = 0; i < ctl_nactions; i++)
		if (strcmp(ctl_actions[i].name, name) == 0)
			return &ctl_actions[i];
	return NULL;
}
