/* The method table, one line a method: its name, handler, argument shape and help (the texts
 * are in rpc_help.c). And the dispatch that checks every argument against the signature before a
 * handler runs: a wrong count is supervisord's INCORRECT_PARAMETERS, a wrong type BAD_ARGUMENTS.
 * Also system.*, with system.multicall bounded in calls and in answer bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_help.h"
#include "rpc_internal.h"
#include "util.h"

/* What a parameter may be. A signal is a name or a number, as supervisord takes it; its
 * signature says "string". A_WAIT is supervisord's wait=True: a boolean that may be left out
 * (then true), any value taken by Python's truth (its `if wait:`). A_ANY is any value too
 * (sendRemoteCommEvent formats what it gets, sendProcessStdin checks it). A_NONE ends a list. */
enum arg_type { A_NONE, A_STR, A_INT, A_WAIT, A_ARRAY, A_SIGNAL, A_ANY };

static const char *const type_names[] = {
    [A_STR] = "string",	 [A_INT] = "int",	[A_WAIT] = "boolean",
    [A_ARRAY] = "array", [A_SIGNAL] = "string", [A_ANY] = "string"};

static void m_list_methods(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_help(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

/* The help (rpc_help.c) also names the return type. */
static const struct method {
	const char *name;
	rpc_handler fn;
	enum arg_type args[RPC_MAX_ARGS];
	enum rpc_help_id help;
} methods[] = {
    {"supervisor.addProcessGroup", rpc_add_group, {A_STR}, HELP_ADD_PROCESS_GROUP},
    {"supervisor.clearAllProcessLogs", rpc_clear_all_logs, {0}, HELP_CLEAR_ALL_PROCESS_LOGS},
    {"supervisor.clearLog", rpc_clear_main_log, {0}, HELP_CLEAR_LOG},
    {"supervisor.clearProcessLog", rpc_clear_process_logs, {A_STR}, HELP_CLEAR_PROCESS_LOGS},
    {"supervisor.clearProcessLogs", rpc_clear_process_logs, {A_STR}, HELP_CLEAR_PROCESS_LOGS},
    {"supervisor.getAPIVersion", rpc_api_version, {0}, HELP_API_VERSION},
    {"supervisor.getAllConfigInfo", rpc_all_config_info, {0}, HELP_ALL_CONFIG_INFO},
    {"supervisor.getAllProcessInfo", rpc_all_process_info, {0}, HELP_ALL_PROCESS_INFO},
    {"supervisor.getIdentification", rpc_identification, {0}, HELP_IDENTIFICATION},
    {"supervisor.getPID", rpc_get_pid, {0}, HELP_PID},
    {"supervisor.getProcessInfo", rpc_process_info, {A_STR}, HELP_PROCESS_INFO},
    {"supervisor.getState", rpc_get_state, {0}, HELP_STATE},
    {"supervisor.getSupervisorVersion", rpc_supervisor_version, {0}, HELP_SUPERVISOR_VERSION},
    {"supervisor.getVersion", rpc_api_version, {0}, HELP_API_VERSION},
    {"supervisor.readLog", rpc_read_main_log, {A_INT, A_INT}, HELP_READ_MAIN_LOG},
    {"supervisor.readMainLog", rpc_read_main_log, {A_INT, A_INT}, HELP_READ_MAIN_LOG},
    {"supervisor.readProcessLog", rpc_read_stdout, {A_STR, A_INT, A_INT}, HELP_READ_STDOUT},
    {"supervisor.readProcessStderrLog", rpc_read_stderr, {A_STR, A_INT, A_INT}, HELP_READ_STDERR},
    {"supervisor.readProcessStdoutLog", rpc_read_stdout, {A_STR, A_INT, A_INT}, HELP_READ_STDOUT},
    {"supervisor.reloadConfig", rpc_reload_config, {0}, HELP_RELOAD_CONFIG},
    {"supervisor.removeProcessGroup", rpc_remove_group, {A_STR}, HELP_REMOVE_PROCESS_GROUP},
    {"supervisor.restart", rpc_restart, {0}, HELP_RESTART},
    {"supervisor.sendProcessStdin", rpc_send_stdin, {A_STR, A_ANY}, HELP_SEND_STDIN},
    {"supervisor.sendRemoteCommEvent", rpc_remote_comm, {A_ANY, A_ANY}, HELP_REMOTE_COMM},
    {"supervisor.shutdown", rpc_shutdown, {0}, HELP_SHUTDOWN},
    {"supervisor.signalAllProcesses", rpc_signal_all, {A_SIGNAL}, HELP_SIGNAL_ALL},
    {"supervisor.signalProcess", rpc_signal, {A_STR, A_SIGNAL}, HELP_SIGNAL},
    {"supervisor.signalProcessGroup", rpc_signal_group, {A_STR, A_SIGNAL}, HELP_SIGNAL_GROUP},
    {"supervisor.startAllProcesses", rpc_start_all, {A_WAIT}, HELP_START_ALL},
    {"supervisor.startProcess", rpc_start, {A_STR, A_WAIT}, HELP_START},
    {"supervisor.startProcessGroup", rpc_start_group, {A_STR, A_WAIT}, HELP_START_GROUP},
    {"supervisor.stopAllProcesses", rpc_stop_all, {A_WAIT}, HELP_STOP_ALL},
    {"supervisor.stopProcess", rpc_stop, {A_STR, A_WAIT}, HELP_STOP},
    {"supervisor.stopProcessGroup", rpc_stop_group, {A_STR, A_WAIT}, HELP_STOP_GROUP},
    {"supervisor.tailProcessLog", rpc_tail_stdout, {A_STR, A_INT, A_INT}, HELP_TAIL_STDOUT},
    {"supervisor.tailProcessStderrLog", rpc_tail_stderr, {A_STR, A_INT, A_INT}, HELP_TAIL_STDERR},
    {"supervisor.tailProcessStdoutLog", rpc_tail_stdout, {A_STR, A_INT, A_INT}, HELP_TAIL_STDOUT},
    {"system.listMethods", m_list_methods, {0}, HELP_LIST_METHODS},
    {"system.methodHelp", m_method_help, {A_STR}, HELP_METHOD_HELP},
    {"system.methodSignature", m_method_signature, {A_STR}, HELP_METHOD_SIGNATURE},
    {"system.multicall", m_multicall, {A_ARRAY}, HELP_MULTICALL},
};

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

/* Python's truth of a decoded value. */
static bool truth(const struct xr_value *v)
{
	switch (v->type) {
	case XR_NIL:
		return false;
	case XR_INT:
		return v->u.i != 0;
	case XR_BOOL:
		return v->u.b;
	case XR_DOUBLE:
		return v->u.d != 0;
	case XR_STRING:
	case XR_BASE64:
		return v->u.str.len > 0;
	case XR_ARRAY:
		return v->u.array.len > 0;
	case XR_STRUCT:
		return v->u.st.len > 0;
	default:
		return true;
	}
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
	case A_STR:
		/* a NUL inside would make the name a handler sees differ from the one sent */
		if (v->type != XR_STRING || strlen(v->u.str.ptr) != v->u.str.len)
			return false;
		out->str = v->u.str.ptr;
		out->len = v->u.str.len;
		return true;
	case A_INT:
		return int_of(v, &out->num);
	case A_WAIT:
		out->flag = truth(v);
		return true;
	case A_ARRAY:
		return v->type == XR_ARRAY;
	case A_ANY:
		return true;
	case A_NONE:
		break;
	}
	return false;
}

/* How many parameters m takes: all of them at most, those before its optional booleans at least. */
static size_t arity(const struct method *m, size_t *least)
{
	size_t n = 0;
	while (n < RPC_MAX_ARGS && m->args[n] != A_NONE)
		n++;
	*least = 0;
	while (*least < n && m->args[*least] != A_WAIT)
		(*least)++;
	return n;
}

/* Counts and types against the signature; the fault is set when they do not match. */
static bool check_args(const struct method *m, const struct xr_value *params, struct args *a,
		       struct rpc_answer *out)
{
	size_t least, most = arity(m, &least);
	memset(a, 0, sizeof(*a));
	a->n = xr_len(params);
	if (!params || params->type != XR_ARRAY || a->n < least || a->n > most) {
		rpc_fault(out, XR_INCORRECT_PARAMETERS, NULL);
		return false;
	}
	for (size_t i = 0; i < most; i++) {
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
		out->value = xr_string(rpc_help[m->help].text);
}

static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	const struct method *m = find_method(a->v[0].str);
	if (!m) {
		rpc_fault(out, XR_SIGNATURE_UNSUPPORTED, NULL);
		return;
	}
	size_t least, most = arity(m, &least);
	struct xr_value *arr = xr_array();
	xr_array_add(arr, xr_string(rpc_help[m->help].returns));
	for (size_t i = 0; i < most; i++)
		xr_array_add(arr, xr_string(type_names[m->args[i]]));
	out->value = arr;
}

bool rpc_poll(struct rpc_server *rs, struct rpc_pending *pd, struct rpc_answer *out)
{
	return pd->kind->poll(rs, pd, out);
}

void rpc_forget_process(struct rpc_pending *pd, const struct process *p)
{
	pd->kind->forget(pd, p);
}

void rpc_pending_free(struct rpc_pending *pd)
{
	if (pd)
		pd->kind->free(pd);
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

/* Python's name for the type a decoded value has in supervisord (xmlrpc.client.loads). */
static const char *python_type(const struct xr_value *v)
{
	static const char *const names[] = {[XR_NIL] = "NoneType",	[XR_INT] = "int",
					    [XR_BOOL] = "bool",		[XR_DOUBLE] = "float",
					    [XR_STRING] = "str",	[XR_BASE64] = "Binary",
					    [XR_DATETIME] = "DateTime", [XR_ARRAY] = "list",
					    [XR_STRUCT] = "dict",	[XR_RAW] = "str"};
	return names[v->type];
}

/* One call of a multicall, its answer as a value, a fault or a pending start/stop. Faults are
 * supervisord's, word for word (a methodName that is not a string is the AttributeError its
 * traverse() meets). */
static void one_call(struct rpc_server *rs, const struct xr_value *c, struct rpc_answer *sub)
{
	const struct xr_value *name = xr_member(c, "methodName");
	const struct xr_value *params = xr_member(c, "params");
	memset(sub, 0, sizeof(*sub));
	if (!c || c->type != XR_STRUCT || !name || name->type == XR_NIL) {
		rpc_fault(sub, XR_INCORRECT_PARAMETERS, "No methodName");
		return;
	}
	if (name->type != XR_STRING) {
		char why[128];
		snprintf(why, sizeof(why),
			 "<class 'AttributeError'>:'%s' object has no attribute 'split'",
			 python_type(name));
		rpc_fault(sub, XR_FAILED, why);
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

/* A system.multicall under way: its calls run one after the other, and one that waits (start,
 * stop) is finished before the next begins, as supervisord's deferred callbacks are; meanwhile
 * the loop serves everyone else. Each result is encoded as soon as it is made and its tree
 * freed, so a multicall holds at most its encoded answer (bounded by multicall_max_bytes) and
 * one result at a time. Calls past multicall_max_calls, and those after the answer is full, are
 * not run: they get a fault. */
struct multicall {
	struct rpc_pending pending;
	const struct xr_value *calls;
	struct xr_value *owned; /* calls, copied once a call waits: the request is freed */
	size_t next, n, run;
	long long max_calls, max_bytes, budget;
	bool full;
	struct buf ans;
	struct rpc_pending *waiting; /* the start/stop of calls[next] */
};

static void multicall_free(struct rpc_pending *pd)
{
	struct multicall *mc = container_of(pd, struct multicall, pending);
	rpc_pending_free(mc->waiting);
	xr_free(mc->owned);
	buf_free(&mc->ans);
	free(mc);
}

static void multicall_forget(struct rpc_pending *pd, const struct process *p)
{
	struct multicall *mc = container_of(pd, struct multicall, pending);
	if (mc->waiting)
		rpc_forget_process(mc->waiting, p);
}

/* Appends calls[next]'s answer and moves on. */
static void multicall_add(struct multicall *mc, struct rpc_answer *sub)
{
	struct buf one;
	char why[128];
	/* a fault may use the room kept for it */
	long long room = (sub->fault ? mc->max_bytes : mc->budget) - (long long)mc->ans.len;
	buf_init(&one, room > 0 ? (size_t)room : 1);
	bool ok = sub->fault ? encode_fault(&one, sub->fault, sub->fault_text)
			     : xr_encode_value(&one, sub->value);
	if (ok) {
		buf_append(&mc->ans, one.data, one.len);
	} else if (one.failed) {
		mc->full = true;
		snprintf(why, sizeof(why), "FAILED: over multicall_max_bytes (%lld)",
			 mc->max_bytes);
		encode_fault(&mc->ans, XR_FAILED, why);
	} else {
		encode_fault(&mc->ans, XR_FAILED, "FAILED: the answer cannot be encoded");
	}
	buf_free(&one);
	rpc_answer_clear(sub);
	mc->next++;
}

/* Runs calls until one waits (false) or all are answered (true, out set). */
static bool multicall_run(struct rpc_server *rs, struct multicall *mc, struct rpc_answer *out)
{
	while (mc->next < mc->n && !mc->ans.failed) {
		char why[128];
		if (mc->next >= mc->run || mc->full) {
			bool calls = mc->next >= mc->run;
			snprintf(why, sizeof(why), "FAILED: over multicall_max_%s (%lld)",
				 calls ? "calls" : "bytes", calls ? mc->max_calls : mc->max_bytes);
			encode_fault(&mc->ans, XR_FAILED, why);
			mc->next++;
			continue;
		}
		struct rpc_answer sub;
		one_call(rs, xr_item(mc->calls, mc->next), &sub);
		if (sub.pending && !mc->owned && !(mc->owned = xr_copy(mc->calls))) {
			/* it goes on without us; we cannot go on without the calls */
			rpc_pending_free(sub.pending);
			sub.pending = NULL;
			rpc_fault(&sub, XR_FAILED, "out of memory");
		}
		if (sub.pending) {
			mc->calls = mc->owned;
			mc->waiting = sub.pending;
			return false;
		}
		multicall_add(mc, &sub);
	}
	buf_puts(&mc->ans, "</data></array></value>\n");
	if (!mc->ans.failed) {
		size_t len = mc->ans.len;
		out->value = xr_raw(buf_steal(&mc->ans), len);
	}
	return true;
}

static bool multicall_poll(struct rpc_server *rs, struct rpc_pending *pd, struct rpc_answer *out)
{
	struct multicall *mc = container_of(pd, struct multicall, pending);
	if (mc->waiting) {
		struct rpc_answer sub = {0};
		if (!rpc_poll(rs, mc->waiting, &sub))
			return false;
		rpc_pending_free(mc->waiting);
		mc->waiting = NULL;
		multicall_add(mc, &sub);
	}
	if (!multicall_run(rs, mc, out))
		return false;
	if (!out->value)
		rpc_fault(out, XR_FAILED, "out of memory");
	return true;
}

static const struct rpc_pending_kind multicall_kind = {multicall_poll, multicall_forget,
						       multicall_free};

static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct multicall *mc = calloc(1, sizeof(*mc));
	if (!mc)
		return;
	mc->pending.kind = &multicall_kind;
	mc->calls = a->v[0].value;
	mc->n = xr_len(mc->calls);
	limits(rs, &mc->max_calls, &mc->max_bytes);
	mc->run = mc->n < (size_t)mc->max_calls ? mc->n : (size_t)mc->max_calls;
	mc->budget = mc->max_bytes - (long long)mc->run * FAULT_ROOM;
	buf_puts(&mc->ans, "<value><array><data>\n");
	if (multicall_run(rs, mc, out))
		multicall_free(&mc->pending);
	else
		out->pending = &mc->pending;
}
