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
 * signature says "string". A boolean is any value, taken by Python's truth (supervisord's `if
 * wait:`); A_ANY is any value too (sendRemoteCommEvent formats what it gets, sendProcessStdin
 * checks it). */
enum arg_type { A_STRING, A_INT, A_BOOL, A_ARRAY, A_SIGNAL, A_ANY };

static const char *const type_names[] = {
    [A_STRING] = "string", [A_INT] = "int",	  [A_BOOL] = "boolean",
    [A_ARRAY] = "array",   [A_SIGNAL] = "string", [A_ANY] = "string"};

static void m_list_methods(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_help(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_method_signature(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);
static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out);

/* supervisord's docstrings, which system.methodHelp answers; aliases share theirs */
#define TAIL_HELP(ch, Ch)                                                                          \
	"\n"                                                                                       \
	"        Provides a more efficient way to tail the (" ch ") log than\n"                    \
	"        readProcess" Ch "Log().  Use readProcess" Ch "Log() to read\n"                    \
	"        chunks and tailProcess" Ch "Log() to tail.\n"                                     \
	"\n"                                                                                       \
	"        Requests (length) bytes from the (name)'s log, starting at\n"                     \
	"        (offset).  If the total log size is greater than (offset +\n"                     \
	"        length), the overflow flag is set and the (offset) is\n"                          \
	"        automatically increased to position the buffer at the end of\n"                   \
	"        the log.  If less than (length) bytes are available, the\n"                       \
	"        maximum number of available bytes will be returned.  (offset)\n"                  \
	"        returned is always the last offset in the log +1.\n"                              \
	"\n"                                                                                       \
	"        @param string name         the name of the process (or 'group:name')\n"           \
	"        @param int offset          offset to start reading from\n"                        \
	"        @param int length          maximum number of bytes to return\n"                   \
	"        @return array result       [string bytes, int offset, bool overflow]\n"           \
	"        "
#define READ_HELP(ch)                                                                              \
	" Read length bytes from name's " ch " log starting at offset\n"                           \
	"\n"                                                                                       \
	"        @param string name        the name of the process (or 'group:name')\n"            \
	"        @param int offset         offset to start reading from.\n"                        \
	"        @param int length         number of bytes to read from the log.\n"                \
	"        @return string result     Bytes of log\n"                                         \
	"        "
static const char help_clear_process_logs[] =
    " Clear the stdout and stderr logs for the named process and\n"
    "        reopen them.\n"
    "\n"
    "        @param string name   The name of the process (or 'group:name')\n"
    "        @return boolean result      Always True unless error\n"
    "        ";
static const char help_api_version[] = " Return the version of the RPC API used by supervisord\n"
				       "\n"
				       "        @return string version id\n"
				       "        ";
static const char help_read_main_log[] =
    " Read length bytes from the main log starting at offset\n"
    "\n"
    "        @param int offset         offset to start reading from.\n"
    "        @param int length         number of bytes to read from the log.\n"
    "        @return string result     Bytes of log\n"
    "        ";

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
     " Update the config for a running process from config file.\n"
     "\n"
     "        @param string name         name of process group to add\n"
     "        @return boolean result     true if successful\n"
     "        "},
    {"supervisor.clearAllProcessLogs",
     rpc_clear_all_logs,
     "array",
     0,
     0,
     {0},
     " Clear all process log files\n"
     "\n"
     "        @return array result   An array of process status info structs\n"
     "        "},
    {"supervisor.clearLog",
     rpc_clear_main_log,
     "boolean",
     0,
     0,
     {0},
     " Clear the main log.\n"
     "\n"
     "        @return boolean result always returns True unless error\n"
     "        "},
    {"supervisor.clearProcessLog",
     rpc_clear_process_logs,
     "boolean",
     1,
     1,
     {A_STRING},
     help_clear_process_logs},
    {"supervisor.clearProcessLogs",
     rpc_clear_process_logs,
     "boolean",
     1,
     1,
     {A_STRING},
     help_clear_process_logs},
    {"supervisor.getAPIVersion", rpc_api_version, "string", 0, 0, {0}, help_api_version},
    {"supervisor.getAllConfigInfo",
     rpc_all_config_info,
     "array",
     0,
     0,
     {0},
     " Get info about all available process configurations. Each struct\n"
     "        represents a single process (i.e. groups get flattened).\n"
     "\n"
     "        @return array result  An array of process config info structs\n"
     "        "},
    {"supervisor.getAllProcessInfo",
     rpc_all_process_info,
     "array",
     0,
     0,
     {0},
     " Get info about all processes\n"
     "\n"
     "        @return array result  An array of process status results\n"
     "        "},
    {"supervisor.getIdentification",
     rpc_identification,
     "string",
     0,
     0,
     {0},
     " Return identifying string of supervisord\n"
     "\n"
     "        @return string identifier identifying string\n"
     "        "},
    {"supervisor.getPID",
     rpc_get_pid,
     "int",
     0,
     0,
     {0},
     " Return the PID of supervisord\n"
     "\n"
     "        @return int PID\n"
     "        "},
    {"supervisor.getProcessInfo",
     rpc_process_info,
     "struct",
     1,
     1,
     {A_STRING},
     " Get info about a process named name\n"
     "\n"
     "        @param string name The name of the process (or 'group:name')\n"
     "        @return struct result     A structure containing data about the process\n"
     "        "},
    {"supervisor.getState",
     rpc_get_state,
     "struct",
     0,
     0,
     {0},
     " Return current state of supervisord as a struct\n"
     "\n"
     "        @return struct A struct with keys int statecode, string statename\n"
     "        "},
    {"supervisor.getSupervisorVersion",
     rpc_supervisor_version,
     "string",
     0,
     0,
     {0},
     " Return the version of the supervisor package in use by supervisord\n"
     "\n"
     "        @return string version id\n"
     "        "},
    {"supervisor.getVersion", rpc_api_version, "string", 0, 0, {0}, help_api_version},
    {"supervisor.readLog", rpc_read_main_log, "string", 2, 2, {A_INT, A_INT}, help_read_main_log},
    {"supervisor.readMainLog",
     rpc_read_main_log,
     "string",
     2,
     2,
     {A_INT, A_INT},
     help_read_main_log},
    {"supervisor.readProcessLog",
     rpc_read_stdout,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     READ_HELP("stdout")},
    {"supervisor.readProcessStderrLog",
     rpc_read_stderr,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     READ_HELP("stderr")},
    {"supervisor.readProcessStdoutLog",
     rpc_read_stdout,
     "string",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     READ_HELP("stdout")},
    {"supervisor.reloadConfig",
     rpc_reload_config,
     "array",
     0,
     0,
     {0},
     "\n"
     "        Reload the configuration.\n"
     "\n"
     "        The result contains three arrays containing names of process\n"
     "        groups:\n"
     "\n"
     "        * `added` gives the process groups that have been added\n"
     "        * `changed` gives the process groups whose contents have\n"
     "          changed\n"
     "        * `removed` gives the process groups that are no longer\n"
     "          in the configuration\n"
     "\n"
     "        @return array result  [[added, changed, removed]]\n"
     "\n"
     "        "},
    {"supervisor.removeProcessGroup",
     rpc_remove_group,
     "boolean",
     1,
     1,
     {A_STRING},
     " Remove a stopped process from the active configuration.\n"
     "\n"
     "        @param string name         name of process group to remove\n"
     "        @return boolean result     Indicates whether the removal was successful\n"
     "        "},
    {"supervisor.restart",
     rpc_restart,
     "boolean",
     0,
     0,
     {0},
     " Restart the supervisor process\n"
     "\n"
     "        @return boolean result  always return True unless error\n"
     "        "},
    {"supervisor.sendProcessStdin",
     rpc_send_stdin,
     "boolean",
     2,
     2,
     {A_STRING, A_ANY},
     " Send a string of chars to the stdin of the process name.\n"
     "        If non-7-bit data is sent (unicode), it is encoded to utf-8\n"
     "        before being sent to the process' stdin.  If chars is not a\n"
     "        string or is not unicode, raise INCORRECT_PARAMETERS.  If the\n"
     "        process is not running, raise NOT_RUNNING.  If the process'\n"
     "        stdin cannot accept input (e.g. it was closed by the child\n"
     "        process), raise NO_FILE.\n"
     "\n"
     "        @param string name        The process name to send to (or 'group:name')\n"
     "        @param string chars       The character data to send to the process\n"
     "        @return boolean result    Always return True unless error\n"
     "        "},
    {"supervisor.sendRemoteCommEvent",
     rpc_remote_comm,
     "boolean",
     2,
     2,
     {A_ANY, A_ANY},
     " Send an event that will be received by event listener\n"
     "        subprocesses subscribing to the RemoteCommunicationEvent.\n"
     "\n"
     "        @param  string  type  String for the \"type\" key in the event header\n"
     "        @param  string  data  Data for the event body\n"
     "        @return boolean       Always return True unless error\n"
     "        "},
    {"supervisor.shutdown",
     rpc_shutdown,
     "boolean",
     0,
     0,
     {0},
     " Shut down the supervisor process\n"
     "\n"
     "        @return boolean result always returns True unless error\n"
     "        "},
    {"supervisor.signalAllProcesses",
     rpc_signal_all,
     "array",
     1,
     1,
     {A_SIGNAL},
     " Send a signal to all processes in the process list\n"
     "\n"
     "        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
     "        @return array         An array of process status info structs\n"
     "        "},
    {"supervisor.signalProcess",
     rpc_signal,
     "boolean",
     2,
     2,
     {A_STRING, A_SIGNAL},
     " Send an arbitrary UNIX signal to the process named by name\n"
     "\n"
     "        @param string name    Name of the process to signal (or 'group:name')\n"
     "        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
     "        @return boolean\n"
     "        "},
    {"supervisor.signalProcessGroup",
     rpc_signal_group,
     "array",
     2,
     2,
     {A_STRING, A_SIGNAL},
     " Send a signal to all processes in the group named 'name'\n"
     "\n"
     "        @param string name    The group name\n"
     "        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
     "        @return array\n"
     "        "},
    {"supervisor.startAllProcesses",
     rpc_start_all,
     "array",
     0,
     1,
     {A_BOOL},
     " Start all processes listed in the configuration file\n"
     "\n"
     "        @param boolean wait    Wait for each process to be fully started\n"
     "        @return array result   An array of process status info structs\n"
     "        "},
    {"supervisor.startProcess",
     rpc_start,
     "boolean",
     1,
     2,
     {A_STRING, A_BOOL},
     " Start a process\n"
     "\n"
     "        @param string name Process name (or ``group:name``, or ``group:*``)\n"
     "        @param boolean wait Wait for process to be fully started\n"
     "        @return boolean result     Always true unless error\n"
     "\n"
     "        "},
    {"supervisor.startProcessGroup",
     rpc_start_group,
     "array",
     1,
     2,
     {A_STRING, A_BOOL},
     " Start all processes in the group named 'name'\n"
     "\n"
     "        @param string name     The group name\n"
     "        @param boolean wait    Wait for each process to be fully started\n"
     "        @return array result   An array of process status info structs\n"
     "        "},
    {"supervisor.stopAllProcesses",
     rpc_stop_all,
     "array",
     0,
     1,
     {A_BOOL},
     " Stop all processes in the process list\n"
     "\n"
     "        @param  boolean wait   Wait for each process to be fully stopped\n"
     "        @return array result   An array of process status info structs\n"
     "        "},
    {"supervisor.stopProcess",
     rpc_stop,
     "boolean",
     1,
     2,
     {A_STRING, A_BOOL},
     " Stop a process named by name\n"
     "\n"
     "        @param string name  The name of the process to stop (or 'group:name')\n"
     "        @param boolean wait        Wait for the process to be fully stopped\n"
     "        @return boolean result     Always return True unless error\n"
     "        "},
    {"supervisor.stopProcessGroup",
     rpc_stop_group,
     "array",
     1,
     2,
     {A_STRING, A_BOOL},
     " Stop all processes in the process group named 'name'\n"
     "\n"
     "        @param string name     The group name\n"
     "        @param boolean wait    Wait for each process to be fully stopped\n"
     "        @return array result   An array of process status info structs\n"
     "        "},
    {"supervisor.tailProcessLog",
     rpc_tail_stdout,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     TAIL_HELP("stdout", "Stdout")},
    {"supervisor.tailProcessStderrLog",
     rpc_tail_stderr,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     TAIL_HELP("stderr", "Stderr")},
    {"supervisor.tailProcessStdoutLog",
     rpc_tail_stdout,
     "array",
     3,
     3,
     {A_STRING, A_INT, A_INT},
     TAIL_HELP("stdout", "Stdout")},
    {"system.listMethods",
     m_list_methods,
     "array",
     0,
     0,
     {0},
     " Return an array listing the available method names\n"
     "\n"
     "        @return array result  An array of method names available (strings).\n"
     "        "},
    {"system.methodHelp",
     m_method_help,
     "string",
     1,
     1,
     {A_STRING},
     " Return a string showing the method's documentation\n"
     "\n"
     "        @param string name   The name of the method.\n"
     "        @return string result The documentation for the method name.\n"
     "        "},
    {"system.methodSignature",
     m_method_signature,
     "array",
     1,
     1,
     {A_STRING},
     " Return an array describing the method signature in the\n"
     "        form [rtype, ptype, ptype...] where rtype is the return data type\n"
     "        of the method, and ptypes are the parameter data types that the\n"
     "        method accepts in method argument order.\n"
     "\n"
     "        @param string name  The name of the method.\n"
     "        @return array result  The result.\n"
     "        "},
    {"system.multicall",
     m_multicall,
     "array",
     1,
     1,
     {A_ARRAY},
     "Process an array of calls, and return an array of\n"
     "        results. Calls should be structs of the form {'methodName':\n"
     "        string, 'params': array}. Each result will either be a\n"
     "        single-item array containing the result value, or a struct of\n"
     "        the form {'faultCode': int, 'faultString': string}. This is\n"
     "        useful when you need to make lots of small calls without lots\n"
     "        of round trips.\n"
     "\n"
     "        @param array calls  An array of call requests\n"
     "        @return array result  An array of results\n"
     "        "},
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
		out->flag = truth(v);
		return true;
	case A_ARRAY:
		return v->type == XR_ARRAY;
	case A_ANY:
		return true;
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
	const struct xr_value *calls;
	struct xr_value *owned; /* calls, copied once a call waits: the request is freed */
	size_t next, n, run;
	long long max_calls, max_bytes, budget;
	bool full;
	struct buf ans;
	struct rpc_pending *waiting; /* the start/stop of calls[next] */
};

void multicall_free(struct multicall *mc)
{
	if (!mc)
		return;
	rpc_pending_free(mc->waiting);
	xr_free(mc->owned);
	buf_free(&mc->ans);
	free(mc);
}

void multicall_forget(struct multicall *mc, const struct process *p)
{
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

bool multicall_poll(struct rpc_server *rs, struct multicall *mc, struct rpc_answer *out)
{
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

static void m_multicall(struct rpc_server *rs, const struct args *a, struct rpc_answer *out)
{
	struct multicall *mc = calloc(1, sizeof(*mc));
	if (!mc)
		return;
	mc->calls = a->v[0].value;
	mc->n = xr_len(mc->calls);
	limits(rs, &mc->max_calls, &mc->max_bytes);
	mc->run = mc->n < (size_t)mc->max_calls ? mc->n : (size_t)mc->max_calls;
	mc->budget = mc->max_bytes - (long long)mc->run * FAULT_ROOM;
	buf_puts(&mc->ans, "<value><array><data>\n");
	if (multicall_run(rs, mc, out)) {
		multicall_free(mc);
		return;
	}
	if (!(out->pending = rpc_pending_multicall(mc)))
		multicall_free(mc); /* the fault is set: out of memory */
}
