/* The method table, the one place a method's name, handler, signature and help live, and the
 * dispatch that checks every argument against the signature before a handler runs: a wrong
 * count is supervisord's INCORRECT_PARAMETERS, a wrong type BAD_ARGUMENTS. Also system.*,
 * with system.multicall bounded in calls and in answer bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"
#include "util.h"

/* What a parameter may be. A signal is a name or a number, as supervisord takes it; its
 * signature says "string". */
enum arg_type { A_STRING, A_INT, A_BOOL, A_ARRAY, A_SIGNAL };

static const char *const type_names[] = {[A_STRING] = "string",
					 [A_INT] = "int",
					 [A_BOOL] = "boolean",
					 [A_ARRAY] = "array",
					 [A_SIGNAL] = "string"};

static void m_list_methods(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_help(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

/* Parameters past min are optional booleans that default to true (supervisord's wait=True). */
static const struct method {
	const char *name;
	rpc_handler fn;
	const char *returns;
	unsigned min, max;
	enum arg_type args[RPC_MAX_ARGS];
	const char *help;
} methods[] = {
    {"supervisor.addProcessGroup",
     rpc_add_group,
     "boolean",
     1,
     1,
     {A_STRING},
     "Update the config for a running process from config file."},
    {"supervisor.clearAllProcessLogs",
     rpc_clear_all_logs,
     "array",
     0,
     0,
     {0},
     "Clear all process log files"},
    {"supervisor.clearLog", rpc_clear_main_log, "boolean", 0, 0, {0}, "Clear the main log."},
    {"supervisor.clearProcessLog",
     rpc_clear_process_logs,
     "boolean",
     1,
     1,
     {A_STRING},
     "Clear the stdout and stderr logs for the named process and reopen them."},
    {"supervisor.clearProcessLogs",
     rpc_clear_process_logs,
     "boolean",
     1,
     1,
     {A_STRING},
     "Clear the stdout and stderr logs for the named process and reopen them."},
    {"supervisor.getAPIVersion",
     rpc_api_version,
     "string",
     0,
     0,
     {0},
     "Return the version of the RPC API used by supervisord"},
    {"supervisor.getAllConfigInfo",
     rpc_all_config_info,
     "array",
     0,
     0,
     {0},
     "Get info about all available process configurations. Each struct represents a single "
     "process (i.e. groups get flattened)."},
    {"supervisor.getAllProcessInfo",
     rpc_all_process_info,
     "array",
     0,
     0,
     {0},
     "Get info about all processes"},
    {"supervisor.getIdentification",
     rpc_identification,
     "string",
     0,
     0,
     {0},
     "Return identifying string of supervisord"},
    {"supervisor.getPID", rpc_get_pid, "int", 0, 0, {0}, "Return the PID of supervisord"},
    {"supervisor.getProcessInfo",
     rpc_process_info,
     "struct",
     1,
     1,
     {A_STRING},
     "Get info about a process named name"},
    {"supervisor.getState",
     rpc_get_state,
     "struct",
     0,
     0,
     {0},
     "Return current state of supervisord as a struct"},
    {"supervisor.getSupervisorVersion",
     rpc_supervisor_version,
     "string",
     0,
     0,
     {0},
     "Return the version of the supervisor package in use by supervisord"},
    {"supervisor.getVersion",
     rpc_api_version,
     "string",
     0,
     0,
     {0},
     "Return the version of the RPC API used by supervisord"},
    {"supervisor.readLog",
     rpc_read_main_log,
     "string",
     2,
     2,
     {A_INT, A_INT},
     "Read length bytes from the main log starting at offset"},
    {"supervisor.readMainLog",
     rpc_read_main_log,
     "string",
     2,
     2,
     {A_INT, A_INT},
     "Read length bytes from the main log starting at offset"},
    {"supervisor.readProcessLog",
     rpc_read_stdout,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Read length bytes from name's stdout log starting at offset"},
    {"supervisor.readProcessStderrLog",
     rpc_read_stderr,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Read length bytes from name's stderr log starting at offset"},
    {"supervisor.readProcessStdoutLog",
     rpc_read_stdout,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Read length bytes from name's stdout log starting at offset"},
    {"supervisor.reloadConfig", rpc_reload_config, "array", 0, 0, {0}, "Reload the configuration."},
    {"supervisor.removeProcessGroup",
     rpc_remove_group,
     "boolean",
     1,
     1,
     {A_STRING},
     "Remove a stopped process from the active configuration."},
    {"supervisor.restart", rpc_restart, "boolean", 0, 0, {0}, "Restart the supervisor process"},
    {"supervisor.sendProcessStdin",
     rpc_send_stdin,
     "boolean",
     2,
     2,
     {A_STRING, A_STRING},
     "Send a string of chars to the stdin of the process name."},
    {"supervisor.sendRemoteCommEvent",
     rpc_remote_comm,
     "boolean",
     2,
     2,
     {A_STRING, A_STRING},
     "Send an event that will be received by event listener subprocesses subscribing to the "
     "RemoteCommunicationEvent."},
    {"supervisor.shutdown", rpc_shutdown, "boolean", 0, 0, {0}, "Shut down the supervisor process"},
    {"supervisor.signalAllProcesses",
     rpc_signal_all,
     "array",
     1,
     1,
     {A_SIGNAL},
     "Send a signal to all processes in the process list"},
    {"supervisor.signalProcess",
     rpc_signal,
     "boolean",
     2,
     2,
     {A_STRING, A_SIGNAL},
     "Send an arbitrary UNIX signal to the process named by name"},
    {"supervisor.signalProcessGroup",
     rpc_signal_group,
     "array",
     2,
     2,
     {A_STRING, A_SIGNAL},
     "Send a signal to all processes in the group named 'name'"},
    {"supervisor.startAllProcesses",
     rpc_start_all,
     "array",
     0,
     1,
     {A_BOOL},
     "Start all processes listed in the configuration file"},
    {"supervisor.startProcess", rpc_start, "boolean", 1, 2, {A_STRING, A_BOOL}, "Start a process"},
    {"supervisor.startProcessGroup",
     rpc_start_group,
     "array",
     1,
     2,
     {A_STRING, A_BOOL},
     "Start all processes in the group named 'name'"},
    {"supervisor.stopAllProcesses",
     rpc_stop_all,
     "array",
     0,
     1,
     {A_BOOL},
     "Stop all processes in the process list"},
    {"supervisor.stopProcess",
     rpc_stop,
     "boolean",
     1,
     2,
     {A_STRING, A_BOOL},
     "Stop a process named by name"},
    {"supervisor.stopProcessGroup",
     rpc_stop_group,
     "array",
     1,
     2,
     {A_STRING, A_BOOL},
     "Stop all processes in the process group named 'name'"},
    {"supervisor.tailProcessLog",
     rpc_tail_stdout,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog()."},
    {"supervisor.tailProcessStderrLog",
     rpc_tail_stderr,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog()."},
    {"supervisor.tailProcessStdoutLog",
     rpc_tail_stdout,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog()."},
    {"system.listMethods",
     m_list_methods,
     "array",
     0,
     0,
     {0},
     "Return an array listing the available method names"},
    {"system.methodHelp",
     m_method_help,
     "string",
     1,
     1,
     {A_STRING},
     "Return a string showing the method's documentation"},
    {"system.methodSignature",
     m_method_signature,
     "array",
     1,
     1,
     {A_STRING},
     "Return an array describing the method signature in the form [rtype, ptype, ptype...] "
     "where rtype is the return data type of the method, and ptypes are the parameter data "
     "types that the method accepts in method argument order."},
    {"system.multicall",
     m_multicall,
     "array",
     1,
     1,
     {A_ARRAY},
     "Process an array of calls, and return an array of results."},
};

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

static const struct method *find_method(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* An int may come as a decimal string (supervisord's int(offset) takes one). */
static bool int_of(const struct xr_value *v, long long *out)
{
	if (v->type == XR_INT) {
		*out = v->u.i;
		return true;
	}
	if (v->type != XR_STRING || v->u.str.len != strlen(v->u.str.ptr))
		return false;
	char *end;
	errno = 0;
	*out = strtoll(v->u.str.ptr, &end, 10);
	return *end == '\0' && end != v->u.str.ptr && !errno;
}

/* One argument into its checked form; false when its type is not the signature's. */
static bool convert(enum arg_type t, const struct xr_value *v, struct arg *out)
{
	out->value = v;
	switch (t) {
	case A_SIGNAL:
		if (v->type == XR_INT) {
			out->num = v->u.i;
			return true;
		}
		/* a signal name is a string */
		__attribute__((fallthrough));
	case A_STRING:
		/* a NUL inside would make the name a handler sees differ from the one sent */
		if (v->type != XR_STRING || strlen(v->u.str.ptr) != v->u.str.len)
			return false;
		out->str = v->u.str.ptr;
		out->len = v->u.str.len;
		return true;
	case A_INT:
		return int_of(v, &out->num);
	case A_BOOL:
		/* Python's truth of an int, as supervisord's `if wait:` */
		if (v->type == XR_INT)
			out->flag = v->u.i != 0;
		else if (v->type == XR_BOOL)
			out->flag = v->u.b;
		else
			return false;
		return true;
	case A_ARRAY:
		return v->type == XR_ARRAY;
	}
	return false;
}

/* Counts and types against the signature; the fault is set when they do not match. */
static bool check_args(const struct method *m, const struct xr_value *params, struct args *a,
		       struct rpc_answer *out)
{
	memset(a, 0, sizeof(*a));
	a->n = xr_len(params);
	if (!params || params->type != XR_ARRAY || a->n < m->min || a->n > m->max) {
		rpc_fault(out, XR_INCORRECT_PARAMETERS, NULL);
		return false;
	}
	for (size_t i = 0; i < m->max; i++) {
		a->v[i].flag = true;
		if (i < a->n && !convert(m->args[i], xr_item(params, i), &a->v[i])) {
			char why[128];
			snprintf(why, sizeof(why), "argument %zu of %s must be %s %s", i + 1,
				 m->name, m->args[i] == A_INT ? "an" : "a", type_names[m->args[i]]);
			rpc_fault(out, XR_BAD_ARGUMENTS, why);
			return false;
		}
	}
	return true;
}

/* supervisord refuses dotless names, private ones and the traversal of CVE-2017-11610. */
static const struct method *method_named(const char *name, struct rpc_answer *out)
{
	const char *dot = strchr(name, '.');
	const struct method *m = find_method(name);
	if (!dot || name[0] == '_' || dot[1] == '_' || !m) {
		rpc_fault(out, XR_UNKNOWN_METHOD, NULL);
		return NULL;
	}
	return m;
}

void rpc_dispatch(struct rpc_server *rs, const char *method, const struct xr_value *params,
		  struct rpc_answer *out)
{
	struct args a;
	memset(out, 0, sizeof(*out));
	const struct method *m = method_named(method, out);
	if (!m || !check_args(m, params, &a, out))
		return;
	m->fn(rs, &a, out);
	if (!out->value && !out->fault && !out->pending)
		rpc_fault(out, XR_FAILED, "out of memory");
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
	const struct method *m = find_method(a->v[0].str);
	if (!m)
		rpc_fault(out, XR_SIGNATURE_UNSUPPORTED, NULL);
	else
		out->value = xr_string(m->help);
}

static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const struct method *m = find_method(a->v[0].str);
	if (!m) {
		rpc_fault(out, XR_SIGNATURE_UNSUPPORTED, NULL);
		return;
	}
	struct xr_value *arr = xr_array();
	xr_array_add(arr, xr_string(m->returns));
	for (unsigned i = 0; i < m->max; i++)
		xr_array_add(arr, xr_string(type_names[m->args[i]]));
	out->value = arr;
}

/* The room kept for each call's fault, so that faults still fit in multicall_max_bytes when
 * values have filled the rest. */
#define FAULT_ROOM 256

static void limits(struct rpc_server *rs, long long *calls, long long *bytes)
{
	const struct config *c = rs->sv->cfg;
	const struct http_server_conf *confs[2] = {&c->unix_server, &c->inet_server};
	*calls = 1000;
	*bytes = 64LL << 20;
	for (int i = 0; i < 2; i++) {
		const struct http_server_conf *hc = rs->conf ? rs->conf : confs[i];
		if (!rs->conf && !hc->enabled)
			continue;
		if (hc->multicall_max_calls > 0 && hc->multicall_max_calls < *calls)
			*calls = hc->multicall_max_calls;
		if (hc->multicall_max_bytes > 0 && hc->multicall_max_bytes < *bytes)
			*bytes = hc->multicall_max_bytes;
	}
}

/* One call of a multicall, its answer as a value or a fault. Calls that wait (start/stop)
 * report what is true now: there is no waiting inside multicall. */
static void one_call(struct rpc_server *rs, const struct xr_value *c, struct rpc_answer *sub)
{
	const struct xr_value *name = xr_member(c, "methodName");
	const struct xr_value *params = xr_member(c, "params");
	memset(sub, 0, sizeof(*sub));
	if (!c || c->type != XR_STRUCT || !name) {
		rpc_fault(sub, XR_INCORRECT_PARAMETERS, "No methodName");
		return;
	}
	if (name->type != XR_STRING) {
		rpc_fault(sub, XR_INCORRECT_PARAMETERS, "methodName must be a string");
		return;
	}
	if (strcmp(name->u.str.ptr, "system.multicall") == 0) {
		rpc_fault(sub, XR_INCORRECT_PARAMETERS, "Recursive system.multicall forbidden");
		return;
	}
	struct xr_value *empty = NULL;
	if (!params && !(params = empty = xr_array())) {
		rpc_fault(sub, XR_FAILED, "out of memory");
		return;
	}
	rpc_dispatch(rs, name->u.str.ptr, params, sub);
	xr_free(empty);
	if (sub->pending) {
		struct rpc_pending *pd = sub->pending;
		sub->pending = NULL;
		rpc_pending_settle_now(pd, sub);
		rpc_pending_free(pd);
	}
}

static bool encode_fault(struct buf *out, int code, const char *text)
{
	struct xr_value *st = xr_struct();
	xr_struct_set(st, "faultCode", xr_int(code));
	xr_struct_set(st, "faultString", xr_string(text));
	bool ok = st && xr_encode_value(out, st);
	xr_free(st);
	return ok;
}

/* Each result is encoded as soon as it is made and its tree freed, so a multicall holds at most
 * its encoded answer (bounded by multicall_max_bytes) and one result at a time. Calls past
 * multicall_max_calls, and those after the answer is full, are not run: they get a fault. */
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const struct xr_value *calls = a->v[0].value;
	size_t n = xr_len(calls);
	long long max_calls, max_bytes;
	limits(rs, &max_calls, &max_bytes);
	size_t run = n < (size_t)max_calls ? n : (size_t)max_calls;
	long long budget = max_bytes - (long long)run * FAULT_ROOM;
	struct buf ans = {0}, one;
	bool full = false;
	buf_puts(&ans, "<value><array><data>\n");
	for (size_t i = 0; i < n && !ans.failed; i++) {
		char why[128];
		if (i >= run || full) {
			snprintf(why, sizeof(why), "FAILED: over multicall_max_%s (%lld)",
				 i >= run ? "calls" : "bytes", i >= run ? max_calls : max_bytes);
			encode_fault(&ans, XR_FAILED, why);
			continue;
		}
		struct rpc_answer sub;
		one_call(rs, xr_item(calls, i), &sub);
		/* a fault may use the room kept for it */
		long long room = (sub.fault ? max_bytes : budget) - (long long)ans.len;
		buf_init(&one, room > 0 ? (size_t)room : 1);
		bool ok = sub.fault ? encode_fault(&one, sub.fault, sub.fault_text)
				    : xr_encode_value(&one, sub.value);
		if (ok) {
			buf_append(&ans, one.data, one.len);
		} else if (one.failed) {
			full = true;
			snprintf(why, sizeof(why), "FAILED: over multicall_max_bytes (%lld)",
				 max_bytes);
			encode_fault(&ans, XR_FAILED, why);
		} else {
			encode_fault(&ans, XR_FAILED, "FAILED: the answer cannot be encoded");
		}
		buf_free(&one);
		rpc_answer_clear(&sub);
	}
	buf_puts(&ans, "</data></array></value>\n");
	if (ans.failed) {
		buf_free(&ans);
		return;
	}
	size_t len = ans.len;
	out->value = xr_raw(buf_steal(&ans), len);
}
