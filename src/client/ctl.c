/* `pidvisor ctl`: supervisorctl 4.2.5 in C. Same options, actions, output
 * text, column layout and exit codes (supervisor/supervisorctl.py is the
 * reference); the action table drives dispatch and `help`. Where Python would
 * die with a traceback summary, the same "error: <class ...>" line is printed. */
#include "ctl.h"
#include "json.h"
#include "states.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "client_config.h"
#include "rpc_client.h"

enum {
	EXIT_GENERIC = 1,
	EXIT_INVALID_ARGS = 2,
	EXIT_UNIMPLEMENTED = 3,
	EXIT_INSUFFICIENT_PRIVILEGES = 4,
	EXIT_NOT_INSTALLED = 5,
	EXIT_NOT_RUNNING = 7,
	EXIT_STATUS_NOT_RUNNING = 3,
	EXIT_STATUS_UNKNOWN = 4,
};

/* Python file/line pairs that supervisorctl's traceback summaries name. */
#define PY_CLIENT     "/usr/lib/python3.11/xmlrpc/client.py"
#define PY_SUP_XMLRPC "/usr/lib/python3/dist-packages/supervisor/xmlrpc.py"
#define PY_SUP_CTL    "/usr/lib/python3/dist-packages/supervisor/supervisorctl.py"
#define PY_SOCKET     "/usr/lib/python3.11/socket.py"

#define DEFAULT_SERVERURL "http://localhost:9001"

struct ctl {
	const char *progname;
	char *serverurl;
	char *username, *password;
	char *prompt;
	bool interactive;
	struct rpc_client rpc;
	bool rpc_ready;
	int exitstatus;
	/* status RPC_HTTP (the 401 answer) when one ended the current command */
	struct rpc_result auth_required;
	bool quit; /* quit, exit or EOF in the shell */
};

static volatile sig_atomic_t interrupted;

__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void replace(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? strdup(value) : NULL;
}

/* ---- words and names ---- */

struct words {
	char **v;
	size_t n;
	char *buf;
};

/* str.split(): runs of whitespace separate, no empty words. */
static void split_words(const char *s, struct words *w)
{
	w->buf = strdup(s);
	w->n = 0;
	w->v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	if (!w->buf || !w->v) {
		perror("pidvisor ctl");
		exit(EXIT_GENERIC);
	}
	for (char *save = NULL, *t = strtok_r(w->buf, " \t\n\r\f\v", &save); t;
	     t = strtok_r(NULL, " \t\n\r\f\v", &save))
		w->v[w->n++] = t;
}

static void words_free(struct words *w)
{
	free(w->v);
	free(w->buf);
}

static bool words_has(const struct words *w, const char *s)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i], s) == 0)
			return true;
	return false;
}

/* supervisor.options.split_namespec: "g:p", "g:*"/"g:" (process NULL), "p". */
static void split_namespec(const char *spec, char *group, size_t gsize, const char **process,
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

static void make_namespec(char *buf, size_t size, const char *group, const char *name)
{
	if (strcmp(group, name) == 0)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s:%s", group, name);
}

/* ---- Python-style error lines ---- */

/* repr() of a str, for Fault messages. */
static void py_repr(struct buf *sb, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	buf_putc(sb, q);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == (unsigned char)q)
			buf_printf(sb, "\\%c", *p);
		else if (*p == '\n')
			buf_puts(sb, "\\n");
		else if (*p == '\r')
			buf_puts(sb, "\\r");
		else if (*p == '\t')
			buf_puts(sb, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(sb, "\\x%02x", *p);
		else
			buf_putc(sb, (char)*p);
	}
	buf_putc(sb, q);
}

static const struct {
	int err;
	const char *cls;
} os_errors[] = {
    {ENOENT, "FileNotFoundError"},	  {ECONNREFUSED, "ConnectionRefusedError"},
    {ECONNRESET, "ConnectionResetError"}, {EPIPE, "BrokenPipeError"},
    {EACCES, "PermissionError"},	  {EPERM, "PermissionError"},
    {ETIMEDOUT, "TimeoutError"},
};

/* Prints what supervisorctl prints when a call raises unexpectedly. */
static void report(struct ctl *c, const struct rpc_result *r)
{
	struct buf sb;
	buf_init(&sb, 0);
	const char *cls = "OSError";
	switch (r->status) {
	case RPC_FAULT:
		buf_printf(&sb, "<Fault %d: ", r->fault_code);
		py_repr(&sb, r->fault_string ? r->fault_string : "");
		out("error: <class 'xmlrpc.client.Fault'>, %s>: file: %s line: 668", sb.data,
		    PY_CLIENT);
		break;
	case RPC_CONNECT:
		for (size_t i = 0; i < sizeof(os_errors) / sizeof(os_errors[0]); i++)
			if (os_errors[i].err == r->sys_errno)
				cls = os_errors[i].cls;
		out("error: <class '%s'>, [Errno %d] %s: file: %s line: %d", cls, r->sys_errno,
		    strerror(r->sys_errno), c->rpc.is_unix ? PY_SUP_XMLRPC : PY_SOCKET,
		    c->rpc.is_unix ? 557 : 836);
		break;
	case RPC_HTTP:
		out("error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for "
		    "127.0.0.1/RPC2: %d %s>: file: %s line: 539",
		    r->http_status, r->reason, PY_SUP_XMLRPC);
		break;
	default:
		out("error: %s", r->message);
		break;
	}
	buf_free(&sb);
	c->exitstatus = EXIT_GENERIC;
}

/* ---- calls ---- */

static bool ensure_client(struct ctl *c)
{
	if (c->rpc_ready)
		return true;
	char err[256];
	if (!rpc_client_init(&c->rpc, c->serverurl, c->username, c->password, err, sizeof(err))) {
		out("error: <class 'ValueError'>, %s: file: %s line: 505", err, PY_SUP_XMLRPC);
		c->exitstatus = EXIT_GENERIC;
		return false;
	}
	c->rpc_ready = true;
	return true;
}

/* Raw call: the caller handles every outcome. */
static enum rpc_status call_raw(struct ctl *c, struct rpc_result *r, const char *method,
				const struct xr_value *const *params, size_t n)
{
	if (!ensure_client(c)) {
		memset(r, 0, sizeof(*r));
		r->status = RPC_PROTOCOL;
		return RPC_PROTOCOL;
	}
	return rpc_call(&c->rpc, method, params, n, r);
}

/* Call with Python's propagation: transport errors are reported (401 ends
 * the command), and false is returned so the action stops. Faults come back
 * as true with r->status == RPC_FAULT. */
static bool call(struct ctl *c, struct rpc_result *r, const char *method,
		 const struct xr_value *const *params, size_t n)
{
	enum rpc_status st = call_raw(c, r, method, params, n);
	if (st == RPC_OK || st == RPC_FAULT)
		return true;
	if (st == RPC_HTTP && r->http_status == 401)
		c->auth_required = *r;
	else if (c->rpc_ready)
		report(c, r);
	rpc_result_free(r);
	return false;
}

static bool call_s(struct ctl *c, struct rpc_result *r, const char *method, const char *a,
		   const char *b)
{
	struct xr_value *p[2] = {a ? xr_string(a) : NULL, b ? xr_string(b) : NULL};
	size_t n = b ? 2 : a ? 1 : 0;
	bool ok = call(c, r, method, (const struct xr_value *const *)p, n);
	xr_free(p[0]);
	xr_free(p[1]);
	return ok;
}

static bool call_read_log(struct ctl *c, struct rpc_result *r, const char *method, const char *name,
			  long long offset)
{
	struct xr_value *p[3] = {name ? xr_string(name) : NULL, xr_int(offset), xr_int(0)};
	bool ok = name ? call(c, r, method, (const struct xr_value *const *)p, 3)
		       : call(c, r, method, (const struct xr_value *const *)p + 1, 2);
	for (int i = 0; i < 3; i++)
		xr_free(p[i]);
	return ok;
}

/* A fault nobody expected ends the action like an uncaught exception. */
static void unexpected_fault(struct ctl *c, struct rpc_result *r)
{
	report(c, r);
	rpc_result_free(r);
}

/* A call whose every fault is unexpected: true with r->value set. */
static bool call_value(struct ctl *c, struct rpc_result *r, const char *method, const char *arg)
{
	if (!call_s(c, r, method, arg, NULL))
		return false;
	if (r->status == RPC_FAULT) {
		unexpected_fault(c, r);
		return false;
	}
	return true;
}

/* Controller.upcheck: true when the server speaks API 3.0. *raised tells a
 * failure that supervisorctl reports as an exception from one it returns. */
static bool upcheck_ex(struct ctl *c, bool *raised)
{
	struct rpc_result r;
	enum rpc_status st = call_raw(c, &r, "supervisor.getVersion", NULL, 0);
	*raised = true;
	if (!c->rpc_ready)
		return false;
	bool ok = false;
	if (st == RPC_CONNECT && r.sys_errno == ECONNREFUSED) {
		out("%s refused connection", c->serverurl);
		c->exitstatus = EXIT_INSUFFICIENT_PRIVILEGES;
		*raised = false;
	} else if (st == RPC_CONNECT && r.sys_errno == ENOENT) {
		out("%s no such file", c->serverurl);
		c->exitstatus = EXIT_NOT_RUNNING;
		*raised = false;
	} else if (st == RPC_FAULT && r.fault_code == XR_UNKNOWN_METHOD) {
		out("Sorry, supervisord responded but did not recognize the supervisor namespace "
		    "commands that supervisorctl uses to control it.  Please check that the "
		    "[rpcinterface:supervisor] section is enabled in the configuration file (see "
		    "sample.conf).");
		c->exitstatus = EXIT_UNIMPLEMENTED;
		*raised = false;
	} else if (st == RPC_HTTP && r.http_status == 401) {
		c->auth_required = r;
	} else if (st != RPC_OK) {
		report(c, &r);
	} else if (r.value->type != XR_STRING ||
		   strcmp(r.value->u.str.ptr, SUPERVISOR_API_VERSION) != 0) {
		out("Sorry, this version of supervisorctl expects to talk to a server with API "
		    "version 3.0, but the remote version is %s.",
		    r.value->type == XR_STRING ? r.value->u.str.ptr : "?");
		c->exitstatus = EXIT_NOT_INSTALLED;
		*raised = false;
	} else {
		ok = true;
	}
	rpc_result_free(&r);
	return ok;
}

static bool upcheck(struct ctl *c)
{
	bool raised;
	return upcheck_ex(c, &raised);
}

/* ---- per-process results ---- */

struct result_text {
	int code;
	const char *text; /* NULL: print the fault description itself */
};

static const struct result_text start_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_NO_FILE, "no such file"},
    {XR_NOT_EXECUTABLE, "file is not executable"},
    {XR_ALREADY_STARTED, "already started"},
    {XR_SPAWN_ERROR, "spawn error"},
    {XR_ABNORMAL_TERMINATION, "abnormal termination"},
    {0, NULL},
};

static const struct result_text signal_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_BAD_SIGNAL, "bad signal name"},
    {XR_NOT_RUNNING, "not running"},
    {XR_FAILED, NULL},
    {0, NULL},
};

static const struct result_text clear_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_FAILED, "failed"},
    {0, NULL},
};

struct result_kind {
	const struct result_text *texts;
	const char *success; /* "started", "stopped", "signalled", "cleared" */
	int ignored;	     /* fault that does not change the exit status */
	int py_line;	     /* where supervisorctl raises on an unknown code */
};

static const struct result_kind start_kind = {start_texts, "started", XR_ALREADY_STARTED, 761};
static const struct result_kind stop_kind = {signal_texts, "stopped", XR_NOT_RUNNING, 835};
static const struct result_kind signal_kind = {signal_texts, "signalled", -1, 835};
static const struct result_kind clear_kind = {clear_texts, "cleared", -1, 1260};

/* Controller.set_exitstatus_from_xmlrpc_fault */
static void exit_from_fault(struct ctl *c, int code, int ignored)
{
	if (code == ignored || code == XR_SUCCESS)
		return;
	if (code == XR_SPAWN_ERROR || code == XR_ABNORMAL_TERMINATION || code == XR_NOT_RUNNING)
		c->exitstatus = EXIT_NOT_RUNNING;
	else
		c->exitstatus = EXIT_GENERIC;
}

/* Prints one result line; false for a code supervisorctl does not know
 * (it raises ValueError there, which ends the action). */
static bool print_result(struct ctl *c, const struct result_kind *k, const char *group,
			 const char *name, int code, const char *description)
{
	char spec[1024];
	make_namespec(spec, sizeof(spec), group, name);
	if (code == XR_SUCCESS) {
		out("%s: %s", spec, k->success);
		exit_from_fault(c, code, k->ignored);
		return true;
	}
	for (const struct result_text *t = k->texts; t->code; t++) {
		if (t->code != code)
			continue;
		if (t->text)
			out("%s: ERROR (%s)", spec, t->text);
		else
			out("%s", description);
		exit_from_fault(c, code, k->ignored);
		return true;
	}
	out("error: <class 'ValueError'>, Unknown result code %d for %s: file: %s line: %d", code,
	    spec, PY_SUP_CTL, k->py_line);
	c->exitstatus = EXIT_GENERIC;
	return false;
}

static void print_results(struct ctl *c, const struct result_kind *k, const struct xr_value *list)
{
	for (size_t i = 0; i < xr_len(list); i++) {
		const struct xr_value *r = xr_item(list, i);
		if (!print_result(c, k, xr_member_str(r, "group", ""), xr_member_str(r, "name", ""),
				  (int)xr_member_int(r, "status", 0),
				  xr_member_str(r, "description", "")))
			return;
	}
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
	const struct result_kind *kind;
	int bad_group_exit;
};

static void run_multi(struct ctl *c, const struct words *names, const struct multi_call *m,
		      const char *sig)
{
	struct rpc_result r;
	if (words_has(names, "all")) {
		if (!call_value(c, &r, m->all_method, sig))
			return;
		print_results(c, m->kind, r.value);
		rpc_result_free(&r);
		return;
	}
	for (size_t i = 0; i < names->n; i++) {
		char group[512], pbuf[512];
		const char *process;
		split_namespec(names->v[i], group, sizeof(group), &process, pbuf, sizeof(pbuf));
		if (!process) {
			if (!call_s(c, &r, m->group_method, group, sig))
				return;
			if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
				out("%s: ERROR (no such group)", group);
				c->exitstatus = m->bad_group_exit;
			} else if (r.status == RPC_FAULT) {
				c->exitstatus = EXIT_GENERIC;
				unexpected_fault(c, &r);
				return;
			} else {
				print_results(c, m->kind, r.value);
			}
			rpc_result_free(&r);
			continue;
		}
		if (!call_s(c, &r, m->one_method, names->v[i], sig))
			return;
		bool ok =
		    r.status == RPC_FAULT
			? print_result(c, m->kind, group, process, r.fault_code, r.fault_string)
			: print_result(c, m->kind, group, process, XR_SUCCESS, "");
		rpc_result_free(&r);
		if (!ok)
			return;
	}
}

/* ---- actions ---- */

struct action {
	const char *name;
	void (*run)(struct ctl *c, const char *arg);
	const char *help; /* NULL: not listed by `help` */
};

static void print_help(const char *name);

static const struct multi_call start_call = {
    "start",
    "Error: start requires a process name",
    EXIT_INVALID_ARGS,
    1,
    "supervisor.startAllProcesses",
    "supervisor.startProcessGroup",
    "supervisor.startProcess",
    &start_kind,
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
    &stop_kind,
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
    &signal_kind,
    EXIT_GENERIC,
};

static void do_multi(struct ctl *c, const char *arg, const struct multi_call *m)
{
	if (!upcheck(c))
		return;
	struct words w;
	split_words(arg, &w);
	if (w.n < m->min_words) {
		out("%s", m->missing);
		c->exitstatus = m->missing_exit;
		print_help(m->name);
	} else {
		/* signal: the first word is the signal, passed along with every call */
		struct words names = {w.v + m->min_words - 1, w.n - (m->min_words - 1), NULL};
		run_multi(c, &names, m, m->min_words == 2 ? w.v[0] : NULL);
	}
	words_free(&w);
}

static void do_start(struct ctl *c, const char *arg)
{
	do_multi(c, arg, &start_call);
}

static void do_stop(struct ctl *c, const char *arg)
{
	do_multi(c, arg, &stop_call);
}

static void do_signal(struct ctl *c, const char *arg)
{
	do_multi(c, arg, &signal_call);
}

static void do_restart(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	split_words(arg, &w);
	size_t n = w.n;
	words_free(&w);
	if (!n) {
		out("Error: restart requires a process name");
		c->exitstatus = EXIT_GENERIC;
		print_help("restart");
		return;
	}
	do_stop(c, arg);
	if (c->auth_required.status != RPC_HTTP)
		do_start(c, arg);
}

static bool is_stopped_state(long long state)
{
	return proc_state_stopped((enum proc_state)state);
}

/* `status --json`: every member of each process struct, plus namespec. */
static void json_str(struct buf *b, const char *s)
{
	json_string(b, s, strlen(s));
}

static void print_status_json(const struct xr_value *const *infos, size_t n)
{
	struct buf sb;
	buf_init(&sb, 0);
	buf_putc(&sb, '[');
	for (size_t i = 0; i < n; i++) {
		const struct xr_value *info = infos[i];
		char spec[1024];
		make_namespec(spec, sizeof(spec), xr_member_str(info, "group", ""),
			      xr_member_str(info, "name", ""));
		buf_puts(&sb, i ? ",\n {" : "\n {");
		buf_puts(&sb, "\"namespec\": ");
		json_str(&sb, spec);
		for (size_t m = 0; info->type == XR_STRUCT && m < info->u.st.len; m++) {
			const struct xr_member *mem = &info->u.st.members[m];
			buf_puts(&sb, ", ");
			json_str(&sb, mem->name);
			buf_puts(&sb, ": ");
			if (mem->value->type == XR_INT)
				buf_printf(&sb, "%lld", mem->value->u.i);
			else if (mem->value->type == XR_BOOL)
				buf_puts(&sb, mem->value->u.b ? "true" : "false");
			else if (mem->value->type == XR_STRING)
				json_str(&sb, mem->value->u.str.ptr);
			else
				buf_puts(&sb, "null");
		}
		buf_putc(&sb, '}');
	}
	buf_puts(&sb, n ? "\n]" : "]");
	out("%s", sb.data);
	buf_free(&sb);
}

static void print_status_table(const struct xr_value *const *infos, size_t n)
{
	size_t width = 30;
	char spec[1024];
	for (size_t i = 0; i < n; i++) {
		make_namespec(spec, sizeof(spec), xr_member_str(infos[i], "group", ""),
			      xr_member_str(infos[i], "name", ""));
		if (strlen(spec) > width)
			width = strlen(spec);
	}
	for (size_t i = 0; i < n; i++) {
		make_namespec(spec, sizeof(spec), xr_member_str(infos[i], "group", ""),
			      xr_member_str(infos[i], "name", ""));
		out("%-*s%-10s%s", (int)width + 3, spec, xr_member_str(infos[i], "statename", ""),
		    xr_member_str(infos[i], "description", ""));
	}
}

static void do_status(struct ctl *c, const char *arg)
{
	bool raised;
	if (!upcheck_ex(c, &raised)) {
		if (!raised) /* status reports every refusal as 4 */
			c->exitstatus = EXIT_STATUS_UNKNOWN;
		return;
	}
	struct rpc_result r;
	if (!call_value(c, &r, "supervisor.getAllProcessInfo", NULL))
		return;
	struct words w;
	split_words(arg, &w);
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
	if (!w.n || words_has(&w, "all")) {
		for (size_t i = 0; i < total; i++)
			match[n++] = xr_item(r.value, i);
	} else {
		for (size_t k = 0; k < w.n; k++) {
			char group[512], pbuf[512];
			const char *process;
			bool bad = true;
			split_namespec(w.v[k], group, sizeof(group), &process, pbuf, sizeof(pbuf));
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
		print_status_json(match, n);
	else
		print_status_table(match, n);
	for (size_t i = 0; i < n; i++)
		if (is_stopped_state(xr_member_int(match[i], "state", 0)))
			c->exitstatus = EXIT_STATUS_NOT_RUNNING;
	free(match);
	words_free(&w);
	rpc_result_free(&r);
}

static void do_pid(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	struct rpc_result r;
	split_words(arg, &w);
	if (!w.n) {
		if (call_value(c, &r, "supervisor.getPID", NULL)) {
			out("%lld", r.value->type == XR_INT ? r.value->u.i : 0);
			rpc_result_free(&r);
		}
	} else if (words_has(&w, "all")) {
		if (call_value(c, &r, "supervisor.getAllProcessInfo", NULL)) {
			for (size_t i = 0; i < xr_len(r.value); i++)
				out("%lld", xr_member_int(xr_item(r.value, i), "pid", 0));
			rpc_result_free(&r);
		}
	} else {
		for (size_t i = 0; i < w.n; i++) {
			if (!call_s(c, &r, "supervisor.getProcessInfo", w.v[i], NULL))
				break;
			if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
				c->exitstatus = EXIT_GENERIC;
				out("No such process %s", w.v[i]);
			} else if (r.status == RPC_FAULT) {
				c->exitstatus = EXIT_GENERIC;
				unexpected_fault(c, &r);
				break;
			} else {
				long long pid = xr_member_int(r.value, "pid", 0);
				out("%lld", pid);
				if (pid == 0)
					c->exitstatus = EXIT_NOT_RUNNING;
			}
			rpc_result_free(&r);
		}
	}
	words_free(&w);
}

static void write_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	fwrite(data, 1, len, stdout);
	fflush(stdout);
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C ends a stream the way KeyboardInterrupt does in supervisorctl (a
 * newline, the exit status kept). While caught, SIGINT stays blocked except
 * inside ppoll() under sigint_wait_mask, so it cannot slip in between a
 * check of the flag and a blocking wait. */
static sigset_t sigint_wait_mask;

static void catch_sigint(bool on)
{
	struct sigaction sa = {.sa_handler = on ? on_sigint : SIG_DFL};
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigemptyset(&sa.sa_mask);
	if (on) {
		interrupted = 0;
		sigaction(SIGINT, &sa, NULL);
		sigprocmask(SIG_BLOCK, &block, &sigint_wait_mask);
		sigdelset(&sigint_wait_mask, SIGINT);
	} else {
		sigprocmask(SIG_UNBLOCK, &block, NULL); /* a pending one only sets the flag */
		sigaction(SIGINT, &sa, NULL);
	}
}

/* `tail -f` / `maintail -f`: the /logtail stream, until Ctrl-C or the end. */
static void tail_follow(struct ctl *c, const char *path)
{
	out("==> Press Ctrl-C to exit <==");
	fflush(stdout);
	struct rpc_client stream;
	char err[256];
	if (!rpc_client_init(&stream, c->serverurl, c->username, c->password, err, sizeof(err))) {
		fprintf(stderr, "%s%s Cannot connect, error: %s\n", c->serverurl, path, err);
		return;
	}
	struct rpc_result r;
	catch_sigint(true);
	enum rpc_status st =
	    rpc_stream(&stream, path, write_stdout, NULL, &interrupted, &sigint_wait_mask, &r);
	catch_sigint(false);
	if (interrupted)
		putchar('\n');
	else if (st == RPC_HTTP)
		fprintf(stderr, "%s%s Cannot read, status code %d\n", c->serverurl, path,
			r.http_status);
	else if (st == RPC_CONNECT)
		fprintf(stderr, "%s%s Cannot connect, error: %s\n", c->serverurl, path, r.message);
	rpc_result_free(&r);
	rpc_client_close(&stream);
	buf_free(&stream.auth);
}

/* "-N" → N bytes; "-f" → follow (returns 0 and sets *follow). */
static bool parse_tail_modifier(const char *mod, long long *bytes, bool *follow)
{
	const char *what = mod + 1;
	*follow = strcmp(what, "f") == 0;
	if (*follow)
		return true;
	/* Python's int(): optional sign and surrounding spaces, digits, '_' between digits */
	char *end;
	errno = 0;
	long long v = strtoll(what, &end, 10);
	if (end == what || *end || errno)
		return false;
	*bytes = v;
	return true;
}

/* who: the process name, or NULL for the main log (no BAD_NAME there). */
static void read_log_result(struct ctl *c, struct rpc_result *r, const char *who)
{
	if (r->status == RPC_FAULT) {
		c->exitstatus = EXIT_GENERIC;
		if (r->fault_code == XR_NO_FILE)
			out("%s: ERROR (no log file)", who ? who : "supervisord");
		else if (r->fault_code == XR_FAILED)
			out("%s: ERROR (unknown error reading log)", who ? who : "supervisord");
		else if (r->fault_code == XR_BAD_NAME && who)
			out("%s: ERROR (no such process name)", who);
		else {
			unexpected_fault(c, r);
			return;
		}
	} else {
		if (r->value->type == XR_STRING)
			fwrite(r->value->u.str.ptr, 1, r->value->u.str.len, stdout);
		putchar('\n');
	}
	rpc_result_free(r);
}

static void do_tail(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	split_words(arg, &w);
	const char *modifier = NULL, *name = NULL, *channel = "stdout";
	char chan[64];
	char **a = w.v;
	size_t n = w.n;
	long long bytes = 1600;
	bool follow = false;
	if (n < 1 || n > 3) {
		out(n < 1 ? "Error: too few arguments" : "Error: too many arguments");
		c->exitstatus = EXIT_GENERIC;
		print_help("tail");
		goto done;
	}
	if (a[0][0] == '-') {
		modifier = a[0];
		a++;
		n--;
	}
	if (n == 1) {
		name = a[0];
	} else if (n) {
		name = a[0];
		snprintf(chan, sizeof(chan), "%s", a[n - 1]);
		for (char *p = chan; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(chan, "stderr") != 0 && strcmp(chan, "stdout") != 0) {
			struct buf sb;
			buf_init(&sb, 0);
			py_repr(&sb, a[n - 1]);
			out("Error: bad channel %s", sb.data);
			buf_free(&sb);
			c->exitstatus = EXIT_GENERIC;
			goto done;
		}
		channel = strcmp(chan, "stderr") == 0 ? "stderr" : "stdout";
	} else {
		out("Error: tail requires process name");
		c->exitstatus = EXIT_GENERIC;
		goto done;
	}
	if (modifier && !parse_tail_modifier(modifier, &bytes, &follow)) {
		out("Error: bad argument %s", modifier);
		c->exitstatus = EXIT_GENERIC;
		goto done;
	}
	if (follow) {
		struct buf path;
		buf_init(&path, 0);
		buf_printf(&path, "/logtail/%s/%s", name, channel);
		tail_follow(c, path.data);
		buf_free(&path);
		goto done;
	}
	struct rpc_result r;
	if (call_read_log(c, &r,
			  strcmp(channel, "stdout") == 0 ? "supervisor.readProcessStdoutLog"
							 : "supervisor.readProcessStderrLog",
			  name, -bytes))
		read_log_result(c, &r, name);
done:
	words_free(&w);
}

static void do_maintail(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	split_words(arg, &w);
	long long bytes = 1600;
	bool follow = false;
	if (w.n > 1) {
		out("Error: too many arguments");
		c->exitstatus = EXIT_GENERIC;
		print_help("maintail");
	} else if (w.n == 1 &&
		   (w.v[0][0] != '-' || !parse_tail_modifier(w.v[0], &bytes, &follow))) {
		out("Error: bad argument %s", w.v[0]);
		c->exitstatus = EXIT_GENERIC;
	} else if (follow) {
		tail_follow(c, "/mainlogtail");
	} else {
		struct rpc_result r;
		if (call_read_log(c, &r, "supervisor.readLog", NULL, -bytes))
			read_log_result(c, &r, NULL);
	}
	words_free(&w);
}

static void do_clear(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	struct rpc_result r;
	split_words(arg, &w);
	if (!w.n) {
		out("Error: clear requires a process name");
		c->exitstatus = EXIT_GENERIC;
		print_help("clear");
	} else if (words_has(&w, "all")) {
		if (call_value(c, &r, "supervisor.clearAllProcessLogs", NULL)) {
			print_results(c, &clear_kind, r.value);
			rpc_result_free(&r);
		}
	} else {
		for (size_t i = 0; i < w.n; i++) {
			char group[512], pbuf[512];
			const char *process;
			split_namespec(w.v[i], group, sizeof(group), &process, pbuf, sizeof(pbuf));
			if (!call_s(c, &r, "supervisor.clearProcessLogs", w.v[i], NULL))
				break;
			/* a "g:*" name gives process None; Python prints "g:None" */
			bool ok = print_result(c, &clear_kind, group, process ? process : "None",
					       r.status == RPC_FAULT ? r.fault_code : XR_SUCCESS,
					       r.fault_string);
			rpc_result_free(&r);
			if (!ok)
				break;
		}
	}
	words_free(&w);
}

/* Actions that take no argument print this and the help. */
static bool no_arguments(struct ctl *c, const char *name, const char *arg)
{
	if (!*arg)
		return true;
	out("Error: %s accepts no arguments", name);
	c->exitstatus = EXIT_GENERIC;
	print_help(name);
	return false;
}

/* Faults of the config-level calls (avail, reread, update): shutting down is
 * a message, anything else ends the action. */
static bool config_call(struct ctl *c, struct rpc_result *r, const char *method,
			const char *shutdown_text, bool show_cant_reread)
{
	if (!call(c, r, method, NULL, 0))
		return false;
	if (r->status != RPC_FAULT)
		return true;
	c->exitstatus = EXIT_GENERIC;
	if (r->fault_code == XR_SHUTDOWN_STATE)
		out("%s", shutdown_text);
	else if (r->fault_code == XR_CANT_REREAD && show_cant_reread)
		out("ERROR: %s", r->fault_string);
	else {
		unexpected_fault(c, r);
		return false;
	}
	rpc_result_free(r);
	return false;
}

static void do_avail(struct ctl *c, const char *arg)
{
	struct rpc_result r;
	if (!no_arguments(c, "avail", arg) ||
	    !config_call(c, &r, "supervisor.getAllConfigInfo", "ERROR: supervisor shutting down",
			 false))
		return;
	for (size_t i = 0; i < xr_len(r.value); i++) {
		const struct xr_value *info = xr_item(r.value, i);
		char spec[1024], prio[64];
		make_namespec(spec, sizeof(spec), xr_member_str(info, "group", ""),
			      xr_member_str(info, "name", ""));
		snprintf(prio, sizeof(prio), "%lld:%lld", xr_member_int(info, "group_prio", 0),
			 xr_member_int(info, "process_prio", 0));
		out("%-32s %-9s %-9s %s", spec,
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

static void do_reread(struct ctl *c, const char *arg)
{
	struct rpc_result r;
	if (!no_arguments(c, "reread", arg) ||
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
		out("No config updates to processes");
	if (lines)
		qsort(lines, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		out("%s", lines[i]);
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
	struct words w;
	struct rpc_result r;
	split_words(arg, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (!call_s(c, &r, method, w.v[i], NULL))
			break;
		const struct group_fault *f = faults;
		while (r.status == RPC_FAULT && f->code && f->code != r.fault_code)
			f++;
		if (r.status != RPC_FAULT) {
			out("%s: %s", w.v[i], done);
		} else if (f->code) {
			out(f->fmt, w.v[i]);
			if (f->exit >= 0)
				c->exitstatus = f->exit;
		} else {
			c->exitstatus = EXIT_GENERIC;
			unexpected_fault(c, &r);
			break;
		}
		rpc_result_free(&r);
	}
	words_free(&w);
}

static void do_add(struct ctl *c, const char *arg)
{
	group_calls(c, arg, "supervisor.addProcessGroup", "added process group", add_faults);
}

static void do_remove(struct ctl *c, const char *arg)
{
	group_calls(c, arg, "supervisor.removeProcessGroup", "removed process group",
		    remove_faults);
}

/* update's group calls are not guarded in supervisorctl: any fault ends it. */
static bool update_step(struct ctl *c, const char *method, const char *group,
			struct rpc_result *keep)
{
	struct rpc_result r;
	if (!call_value(c, &r, method, group))
		return false;
	if (keep)
		*keep = r;
	else
		rpc_result_free(&r);
	return true;
}

static bool wanted(const struct words *w, const char *group)
{
	return !w->n || words_has(w, group);
}

static void do_update(struct ctl *c, const char *arg)
{
	struct rpc_result r, infos;
	if (!config_call(c, &r, "supervisor.reloadConfig", "ERROR: already shutting down", false))
		return;
	const struct xr_value *added = change_list(r.value, 0), *changed = change_list(r.value, 1),
			      *removed = change_list(r.value, 2);
	struct words w;
	split_words(arg, &w);
	if (words_has(&w, "all"))
		w.n = 0;
	/* drop duplicates: Python uses a set */
	size_t kept = 0;
	for (size_t i = 0; i < w.n; i++) {
		struct words seen = {w.v, kept, NULL};
		if (!words_has(&seen, w.v[i]))
			w.v[kept++] = w.v[i];
	}
	w.n = kept;
	if (w.n) {
		if (!call_value(c, &infos, "supervisor.getAllProcessInfo", NULL))
			goto done;
		for (size_t i = 0; i < w.n; i++) {
			bool known = false;
			for (size_t j = 0; !known && j < xr_len(infos.value); j++)
				known = strcmp(xr_member_str(xr_item(infos.value, j), "group", ""),
					       w.v[i]) == 0;
			for (size_t j = 0; !known && j < xr_len(added); j++)
				known = strcmp(item_str(added, j), w.v[i]) == 0;
			if (!known) {
				out("ERROR: no such group: %s", w.v[i]);
				c->exitstatus = EXIT_GENERIC;
			}
		}
		rpc_result_free(&infos);
	}
	for (size_t i = 0; i < xr_len(removed); i++) {
		const char *g = item_str(removed, i);
		struct rpc_result stopped;
		if (!wanted(&w, g))
			continue;
		if (!update_step(c, "supervisor.stopProcessGroup", g, &stopped))
			goto done;
		out("%s: stopped", g);
		bool fails = false;
		for (size_t j = 0; j < xr_len(stopped.value); j++)
			fails |= xr_member_int(xr_item(stopped.value, j), "status", 0) == XR_FAILED;
		rpc_result_free(&stopped);
		if (fails) {
			out("%s: has problems; not removing", g);
			c->exitstatus = EXIT_GENERIC;
			continue;
		}
		if (!update_step(c, "supervisor.removeProcessGroup", g, NULL))
			goto done;
		out("%s: removed process group", g);
	}
	for (size_t i = 0; i < xr_len(changed); i++) {
		const char *g = item_str(changed, i);
		if (!wanted(&w, g))
			continue;
		if (!update_step(c, "supervisor.stopProcessGroup", g, NULL))
			goto done;
		out("%s: stopped", g);
		if (!update_step(c, "supervisor.removeProcessGroup", g, NULL) ||
		    !update_step(c, "supervisor.addProcessGroup", g, NULL))
			goto done;
		out("%s: updated process group", g);
	}
	for (size_t i = 0; i < xr_len(added); i++) {
		const char *g = item_str(added, i);
		if (!wanted(&w, g))
			continue;
		if (!update_step(c, "supervisor.addProcessGroup", g, NULL))
			goto done;
		out("%s: added process group", g);
	}
done:
	words_free(&w);
	rpc_result_free(&r);
}

/* raw_input(): the prompt on stdout, one line from stdin; NULL on EOF. */
static char *read_line(const char *prompt)
{
	if (prompt) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

static bool confirm(struct ctl *c, const char *question)
{
	if (!c->interactive)
		return true;
	char *answer = read_line(question);
	bool yes = answer && (answer[0] == 'y' || answer[0] == 'Y');
	free(answer);
	return yes;
}

static void do_shutdown(struct ctl *c, const char *arg)
{
	if (!no_arguments(c, "shutdown", arg) ||
	    !confirm(c, "Really shut the remote supervisord process down y/N? "))
		return;
	struct rpc_result r;
	enum rpc_status st = call_raw(c, &r, "supervisor.shutdown", NULL, 0);
	if (!c->rpc_ready)
		return;
	if (st == RPC_OK) {
		out("Shut down");
	} else if (st == RPC_FAULT && r.fault_code == XR_SHUTDOWN_STATE) {
		out("ERROR: already shutting down");
	} else if (st == RPC_CONNECT && (r.sys_errno == ECONNREFUSED || r.sys_errno == ENOENT)) {
		c->exitstatus = EXIT_GENERIC;
		out("ERROR: %s %s (already shut down?)", c->serverurl,
		    r.sys_errno == ENOENT ? "no such file" : "refused connection");
	} else if (st == RPC_HTTP && r.http_status == 401) {
		c->auth_required = r;
	} else {
		report(c, &r);
	}
	rpc_result_free(&r);
}

static void do_reload(struct ctl *c, const char *arg)
{
	if (!no_arguments(c, "reload", arg) ||
	    !confirm(c, "Really restart the remote supervisord process y/N? "))
		return;
	struct rpc_result r;
	if (!call(c, &r, "supervisor.restart", NULL, 0))
		return;
	if (r.status != RPC_FAULT) {
		out("Restarted supervisord");
	} else if (r.fault_code == XR_SHUTDOWN_STATE) {
		c->exitstatus = EXIT_GENERIC;
		out("ERROR: already shutting down");
	} else {
		unexpected_fault(c, &r);
		return;
	}
	rpc_result_free(&r);
}

static void do_version(struct ctl *c, const char *arg)
{
	if (!no_arguments(c, "version", arg) || !upcheck(c))
		return;
	struct rpc_result r;
	if (!call_value(c, &r, "supervisor.getSupervisorVersion", NULL))
		return;
	out("%s", r.value->type == XR_STRING ? r.value->u.str.ptr : "");
	rpc_result_free(&r);
}

static void do_status(struct ctl *c, const char *arg);

static void do_open(struct ctl *c, const char *arg)
{
	if (strncmp(arg, "unix:", 5) != 0 && strncmp(arg, "http:", 5) != 0) {
		out("ERROR: url must be http:// or unix://");
		c->exitstatus = EXIT_GENERIC;
		return;
	}
	replace(&c->serverurl, arg);
	rpc_client_close(&c->rpc);
	buf_free(&c->rpc.auth);
	c->rpc_ready = false;
	int saved = c->exitstatus;
	do_status(c, "");
	c->exitstatus = saved;
}

/* str(Fault) */
static void out_fault_error(const struct rpc_result *r)
{
	struct buf sb;
	buf_init(&sb, 0);
	py_repr(&sb, r->fault_string ? r->fault_string : "");
	out("ERROR: <Fault %d: %s>", r->fault_code, sb.data);
	buf_free(&sb);
}

static pid_t fg_stream(struct ctl *c, const char *name, const char *channel)
{
	fflush(stdout);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* never outlive `fg`, whatever ends it */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	struct rpc_client stream;
	struct rpc_result r;
	struct buf path;
	char err[256];
	buf_init(&path, 0);
	buf_printf(&path, "/logtail/%s/%s", name, channel);
	if (rpc_client_init(&stream, c->serverurl, c->username, c->password, err, sizeof(err)))
		rpc_stream(&stream, path.data, write_stdout, NULL, NULL, NULL, &r);
	_exit(0);
}

/* Process state RUNNING; anything else ends `fg`. */
static bool fg_running(struct ctl *c, const char *name, struct rpc_result *r)
{
	if (!call_s(c, r, "supervisor.getProcessInfo", name, NULL)) {
		r->status = RPC_PROTOCOL; /* already reported */
		return false;
	}
	bool running = r->status == RPC_OK && xr_member_int(r->value, "state", -1) == PS_RUNNING;
	return running;
}

/* One line of stdin for `fg`, without stdio so that the wait is a ppoll()
 * that Ctrl-C can end; NULL on EOF or Ctrl-C. */
static char *read_input_line(struct buf *pending)
{
	for (;;) {
		char *nl = pending->len ? memchr(pending->data, '\n', pending->len) : NULL;
		if (nl) {
			char *line = strndup(pending->data, (size_t)(nl - pending->data));
			buf_consume(pending, (size_t)(nl - pending->data) + 1);
			return line;
		}
		if (interrupted)
			return NULL;
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		if (ppoll(&pfd, 1, NULL, &sigint_wait_mask) < 0)
			continue;
		char buf[4096];
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR) ||
		    !buf_append(pending, buf, (size_t)(n > 0 ? n : 0)))
			return NULL;
	}
}

static void do_fg(struct ctl *c, const char *arg)
{
	if (!upcheck(c))
		return;
	struct words w;
	struct rpc_result r;
	split_words(arg, &w);
	if (w.n != 1) {
		out(w.n ? "ERROR: too many process names supplied"
			: "ERROR: no process name supplied");
		c->exitstatus = EXIT_GENERIC;
		if (!w.n)
			print_help("fg");
		words_free(&w);
		return;
	}
	const char *name = w.v[0];
	if (!fg_running(c, name, &r)) {
		if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
			out("ERROR: bad process name supplied");
			c->exitstatus = EXIT_GENERIC;
		} else if (r.status == RPC_FAULT) {
			out_fault_error(&r);
		} else if (r.status == RPC_OK) {
			out("ERROR: process not running");
			c->exitstatus = EXIT_GENERIC;
		}
		rpc_result_free(&r);
		words_free(&w);
		return;
	}
	rpc_result_free(&r);
	catch_sigint(true);
	out("==> Press Ctrl-C to exit <==");
	pid_t streams[2] = {fg_stream(c, name, "stdout"), fg_stream(c, name, "stderr")};
	struct buf input;
	buf_init(&input, 1024 * 1024);
	for (;;) {
		char *line = read_input_line(&input);
		if (!line) {
			out("Exiting foreground");
			break;
		}
		struct xr_value *p[2] = {xr_string(name), NULL};
		size_t len = strlen(line);
		p[1] = xr_string_len(line, len + 1);
		if (p[1])
			p[1]->u.str.ptr[len] = '\n';
		free(line);
		bool sent = call(c, &r, "supervisor.sendProcessStdin",
				 (const struct xr_value *const *)p, 2);
		xr_free(p[0]);
		xr_free(p[1]);
		if (!sent)
			break;
		if (r.status == RPC_FAULT) {
			if (r.fault_code == XR_NOT_RUNNING)
				out("Process got killed");
			else
				out_fault_error(&r);
			out("Exiting foreground");
			rpc_result_free(&r);
			break;
		}
		rpc_result_free(&r);
		bool running = fg_running(c, name, &r);
		rpc_result_free(&r);
		if (!running) {
			out("Process got killed");
			out("Exiting foreground");
			break;
		}
	}
	/* the streams go before Ctrl-C can kill us again */
	for (int i = 0; i < 2; i++) {
		if (streams[i] > 0) {
			kill(streams[i], SIGTERM);
			waitpid(streams[i], NULL, 0);
		}
	}
	catch_sigint(false);
	buf_free(&input);
	words_free(&w);
}

static void do_eof(struct ctl *c, const char *arg)
{
	(void)arg;
	putchar('\n');
	c->quit = true;
}

static void do_help(struct ctl *c, const char *arg);

/* Listed actions (help != NULL) are what `help` shows, sorted. */
static const struct action actions[] = {
    {"add", do_add, "add <name> [...]\tActivates any updates in config for process/group"},
    {"avail", do_avail, "avail\t\t\tDisplay all configured processes"},
    {"clear", do_clear,
     "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple "
     "process' log files\nclear all\t\tClear all process' log files"},
    {"exit", do_eof, "exit\tExit the supervisor shell."},
    {"fg", do_fg, "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit"},
    {"maintail", do_maintail,
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
    {"remove", do_remove, "remove <name> [...]\tRemoves process/group from active config"},
    {"reread", do_reread,
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
    {"tail", do_tail,
     "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous "
     "tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* "
     "of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"},
    {"update", do_update,
     "update\t\t\tReload config and add/remove as necessary, and will restart affected "
     "programs\nupdate all\t\tReload config and add/remove as necessary, and will restart "
     "affected programs\nupdate <gname> [...]\tUpdate specific groups"},
    {"version", do_version, "version\t\t\tShow the version of the remote supervisord process"},
    {"help", do_help, NULL},
    {"EOF", do_eof, NULL},
};

#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

static const struct action *find_action(const char *name)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

static void print_help(const char *name)
{
	const struct action *a = find_action(name);
	if (a && a->help)
		out("%s", a->help);
}

/* cmd.Cmd.columnize: the fewest rows that fit in width, columns two apart. */
static void columnize(const char *const *list, size_t size, size_t width)
{
	size_t nrows, ncols, colw[64];
	for (nrows = 1; nrows < size; nrows++) {
		ncols = (size + nrows - 1) / nrows;
		long total = -2;
		for (size_t col = 0; col < ncols && col < 64; col++) {
			size_t w = 0;
			for (size_t row = 0; row < nrows && row + nrows * col < size; row++)
				if (strlen(list[row + nrows * col]) > w)
					w = strlen(list[row + nrows * col]);
			colw[col] = w;
			total += (long)w + 2;
			if (total > (long)width)
				break;
		}
		if (total <= (long)width)
			break;
	}
	ncols = (size + nrows - 1) / nrows;
	for (size_t row = 0; row < nrows; row++) {
		size_t last = 0;
		for (size_t col = 0; col < ncols; col++)
			if (row + nrows * col < size)
				last = col;
		for (size_t col = 0; col <= last; col++) {
			const char *x = row + nrows * col < size ? list[row + nrows * col] : "";
			printf("%s%-*s", col ? "  " : "", (int)colw[col], x);
		}
		putchar('\n');
	}
}

static void do_help(struct ctl *c, const char *arg)
{
	(void)c;
	if (strcmp(arg, "help") == 0) {
		out("help\t\tPrint a list of available actions");
		out("help <action>\tPrint help for <action>");
		return;
	}
	if (*arg) {
		const struct action *a = find_action(arg);
		if (a && a->help)
			out("%s", a->help);
		else
			out("*** No help on %s", arg);
		return;
	}
	const char *names[NACTIONS];
	size_t n = 0;
	for (size_t i = 0; i < NACTIONS; i++)
		if (actions[i].help)
			names[n++] = actions[i].name;
	static const char header[] = "default commands (type help <topic>):";
	putchar('\n');
	out("%s", header);
	for (size_t i = 0; i < sizeof(header) - 1; i++)
		putchar('=');
	putchar('\n');
	columnize(names, n, 79);
	putchar('\n');
}

static char *read_password(const char *prompt);

/* cmd.Cmd.onecmd with supervisorctl's 401 handling. */
static void onecmd(struct ctl *c, const char *input)
{
	while (isspace((unsigned char)*input))
		input++;
	size_t len = strlen(input);
	while (len && isspace((unsigned char)input[len - 1]))
		len--;
	if (!len)
		return;
	char *line = strndup(input, len);
	if (!line) {
		perror("pidvisor ctl");
		exit(EXIT_GENERIC);
	}
	if (line[0] == '?') {
		char *h;
		if (asprintf(&h, "help %s", line + 1) < 0)
			exit(EXIT_GENERIC);
		free(line);
		line = h;
	}
	size_t i = 0;
	while (isalnum((unsigned char)line[i]) || line[i] == '_')
		i++;
	char name[64];
	const char *arg = line + i;
	while (isspace((unsigned char)*arg))
		arg++;
	const struct action *a = NULL;
	if (i && i < sizeof(name)) {
		memcpy(name, line, i);
		name[i] = '\0';
		a = find_action(name);
	}
	if (!a) {
		out("*** Unknown syntax: %s", line);
		c->exitstatus = EXIT_GENERIC;
		free(line);
		return;
	}
	c->auth_required.status = RPC_OK;
	a->run(c, arg);
	if (c->auth_required.status == RPC_HTTP) {
		out("Server requires authentication");
		if (c->interactive) {
			char *user = read_line("Username:");
			char *pass = user ? read_password("Password:") : NULL;
			putchar('\n');
			if (user && pass) {
				replace(&c->username, user);
				replace(&c->password, pass);
				rpc_client_close(&c->rpc);
				buf_free(&c->rpc.auth);
				c->rpc_ready = false;
				free(user);
				free(pass);
				onecmd(c, line);
				free(line);
				return;
			}
			free(user);
			free(pass);
		}
		c->exitstatus = EXIT_GENERIC;
		/* supervisorctl then runs the action once more; it fails the same
		 * way and that is reported as an uncaught ProtocolError */
		c->auth_required.status = RPC_OK;
		a->run(c, arg);
		if (c->auth_required.status == RPC_HTTP)
			report(c, &c->auth_required);
	}
	free(line);
}

/* getpass(): no echo when stdin is a terminal. */
static char *read_password(const char *prompt)
{
	struct termios old, noecho;
	bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	char *line = read_line(prompt);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		putchar('\n');
	}
	return line;
}

/* ---- command line and config ---- */

static const char usage_text[] =
    "supervisorctl -- control applications run by supervisord from the cmd line.\n"
    "\n"
    "Usage: %s [options] [action [arguments]]\n"
    "\n"
    "Options:\n"
    "-c/--configuration FILENAME -- configuration file path (searches if not given)\n"
    "-h/--help -- print usage message and exit\n"
    "-i/--interactive -- start an interactive shell after executing commands\n"
    "-s/--serverurl URL -- URL on which supervisord server is listening\n"
    "     (default \"http://localhost:9001\").\n"
    "-u/--username USERNAME -- username to use for authentication with server\n"
    "-p/--password PASSWORD -- password to use for authentication with server\n"
    "-r/--history-file -- keep a readline history (if readline is available)\n"
    "\n"
    "action [arguments] -- see below\n"
    "\n"
    "Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is\n"
    "specified on the command line, a \"shell\" interpreting actions typed\n"
    "interactively is started.  Use the action \"help\" to find out about available\n"
    "actions.\n"
    "\n";

static const char extensions_text[] =
    "pidvisor extensions:\n"
    "status --json [names] -- the process table as a JSON array (exit codes as status)\n"
    "A config file without [supervisorctl] but with [unix_http_server] file= is\n"
    "accepted: the server URL is then unix://<file>.\n"
    "Exit codes: 0 ok, 1 error, 2 bad arguments, 3 a listed process is not running\n"
    "(status) or no supervisor namespace, 4 cannot connect (status) or connection\n"
    "refused, 5 API version mismatch, 7 not running / no such socket.\n"
    "\n";

void ctl_usage(FILE *f)
{
	fprintf(f, usage_text, "pidvisor ctl");
	fputs(extensions_text, f);
}

__attribute__((noreturn)) static void usage_error(const char *progname, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void usage_error(const char *progname, const char *fmt, ...)
{
	va_list ap;
	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nFor help, use %s -h\n", progname);
	exit(EXIT_INVALID_ARGS);
}

struct cmdline {
	char *configfile, *serverurl, *username, *password, *history;
	bool interactive, interactive_set;
	char **args;
	int nargs;
};

static const struct option_spec {
	char shortopt;
	const char *longopt;
	bool takes_arg;
} options[] = {
    {'h', "help", false},	 {'?', NULL, false},	      {'c', "configuration", true},
    {'i', "interactive", false}, {'s', "serverurl", true},    {'u', "username", true},
    {'p', "password", true},	 {'r', "history_file", true},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* supervisor.datatypes.url: urlparse gives a scheme and a netloc or path. */
static bool is_url(const char *v)
{
	size_t i = 0;
	if (!isalpha((unsigned char)v[0]))
		return false;
	while (isalnum((unsigned char)v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.')
		i++;
	if (v[i] != ':')
		return false;
	const char *rest = v + i + 1;
	if (strncmp(rest, "//", 2) == 0)
		rest += 2;
	return rest[0] != '\0' && rest[0] != '?' && rest[0] != '#';
}

static void set_option(struct cmdline *cl, const char *progname, const struct option_spec *o,
		       const char *shown, const char *value)
{
	char **slot = NULL;
	switch (o->shortopt) {
	case 'h':
	case '?':
		if (strcmp(progname, "pidvisor ctl") == 0)
			ctl_usage(stdout);
		else
			printf(usage_text, progname);
		exit(0);
	case 'c':
		slot = &cl->configfile;
		break;
	case 'i':
		if (cl->interactive_set)
			usage_error(progname, "conflicting command line option '%s'", shown);
		cl->interactive = cl->interactive_set = true;
		return;
	case 's':
		if (!is_url(value)) {
			struct buf r;
			buf_init(&r, 0);
			py_repr(&r, value);
			usage_error(progname, "invalid value for %s %s: value %s is not a URL",
				    shown, r.data, r.data);
		}
		slot = &cl->serverurl;
		break;
	case 'u':
		slot = &cl->username;
		break;
	case 'p':
		slot = &cl->password;
		break;
	case 'r':
		slot = &cl->history;
		break;
	}
	if (*slot)
		usage_error(progname, "conflicting command line option '%s'", shown);
	*slot = strdup(value);
}

/* Python's getopt.getopt: stops at the first non-option, long options may be
 * abbreviated to a unique prefix, and the error texts are getopt's. */
static void parse_cmdline(int argc, char **argv, const char *progname, struct cmdline *cl)
{
	int i = 1;
	memset(cl, 0, sizeof(*cl));
	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		const char *a = argv[i++];
		if (strcmp(a, "--") == 0)
			break;
		if (a[1] == '-') {
			char name[256];
			const char *eq = strchr(a + 2, '=');
			size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			snprintf(name, sizeof(name), "%.*s", (int)nlen, a + 2);
			const struct option_spec *match = NULL;
			int nmatch = 0;
			for (size_t k = 0; k < NOPTIONS; k++) {
				if (!options[k].longopt ||
				    strncmp(options[k].longopt, name, nlen) != 0)
					continue;
				if (strlen(options[k].longopt) == nlen) {
					match = &options[k];
					nmatch = 1;
					break;
				}
				match = &options[k];
				nmatch++;
			}
			if (!nmatch)
				usage_error(progname, "option --%s not recognized", name);
			if (nmatch > 1)
				usage_error(progname, "option --%s not a unique prefix", name);
			char shown[64];
			snprintf(shown, sizeof(shown), "--%s", match->longopt);
			const char *value = eq ? eq + 1 : NULL;
			if (match->takes_arg && !value) {
				if (i >= argc)
					usage_error(progname, "option --%s requires argument",
						    match->longopt);
				value = argv[i++];
			} else if (!match->takes_arg && value) {
				usage_error(progname, "option --%s must not have an argument",
					    match->longopt);
			}
			set_option(cl, progname, match, shown, value ? value : "");
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			const struct option_spec *o = NULL;
			for (size_t k = 0; k < NOPTIONS; k++)
				if (options[k].shortopt == *p)
					o = &options[k];
			if (!o)
				usage_error(progname, "option -%c not recognized", *p);
			char shown[3] = {'-', *p, '\0'};
			if (!o->takes_arg) {
				set_option(cl, progname, o, shown, "");
				continue;
			}
			const char *value = p[1] ? p + 1 : NULL;
			if (!value) {
				if (i >= argc)
					usage_error(progname, "option -%c requires argument", *p);
				value = argv[i++];
			}
			set_option(cl, progname, o, shown, value);
			break;
		}
	}
	cl->args = argv + i;
	cl->nargs = argc - i;
}

/* Command line over config file over built-in default (ClientOptions). */
static void load_config(struct ctl *c, const char *argv0, const struct cmdline *cl)
{
	struct client_config cfg;
	char err[8192];
	if (!client_config_load(cl->configfile, argv0, &cfg, err, sizeof(err)))
		usage_error(c->progname, "%s", err);
	replace(&c->serverurl, cl->serverurl   ? cl->serverurl
			       : cfg.serverurl ? cfg.serverurl
					       : DEFAULT_SERVERURL);
	replace(&c->username, cl->username ? cl->username : cfg.username);
	replace(&c->password, cl->password ? cl->password : cfg.password);
	replace(&c->prompt, cfg.prompt ? cfg.prompt : "supervisor");
	client_config_free(&cfg);
}

static void shell(struct ctl *c)
{
	char prompt[512];
	snprintf(prompt, sizeof(prompt), "%s> ", c->prompt);
	onecmd(c, "status");
	while (!c->quit) {
		char *line = read_line(prompt);
		onecmd(c, line ? line : "EOF");
		free(line);
		fflush(stdout);
	}
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = {0};
	c.rpc.fd = -1;
	c.progname = strcmp(argv[0], "ctl") == 0 ? "pidvisor ctl" : argv[0];
	struct cmdline cl;
	parse_cmdline(argc, argv, c.progname, &cl);
	load_config(&c, argv[0], &cl);
	c.interactive = cl.interactive || cl.nargs == 0;
	if (cl.nargs) {
		struct buf line;
		buf_init(&line, 0);
		for (int i = 0; i < cl.nargs; i++)
			buf_printf(&line, "%s%s", i ? " " : "", cl.args[i]);
		onecmd(&c, line.data ? line.data : "");
		buf_free(&line);
	} else {
		shell(&c);
		c.exitstatus = 0; /* supervisorctl's shell always exits 0 */
	}
	fflush(stdout);
	rpc_client_close(&c.rpc);
	buf_free(&c.rpc.auth);
	free(c.serverurl);
	free(c.username);
	free(c.password);
	free(c.prompt);
	free(cl.configfile);
	free(cl.serverurl);
	free(cl.username);
	free(cl.password);
	free(cl.history);
	return c.exitstatus;
}
