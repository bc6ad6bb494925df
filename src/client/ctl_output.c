/* What `pidvisor ctl` prints: per-process result lines, the status table and its JSON form,
 * the error lines supervisorctl prints for an uncaught exception, help and usage texts. */
#include "ctl.h"
#include "ctl_internal.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "json.h"
#include "util.h"
#include "xmlrpc.h"

void ctl_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void ctl_make_namespec(char *buf, size_t size, const char *group, const char *name)
{
	if (strcmp(group, name) == 0)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s:%s", group, name);
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

void ctl_report(struct ctl *c, const struct rpc_result *r)
{
	struct buf sb;
	buf_init(&sb, 0);
	const char *cls = "OSError";
	switch (r->status) {
	case RPC_FAULT:
		buf_printf(&sb, "<Fault %d: ", r->fault_code);
		python_repr(&sb, r->fault_string ? r->fault_string : "");
		ctl_out("error: <class 'xmlrpc.client.Fault'>, %s>: file: %s line: 668", sb.data,
			PY_CLIENT);
		break;
	case RPC_CONNECT:
		for (size_t i = 0; i < sizeof(os_errors) / sizeof(os_errors[0]); i++)
			if (os_errors[i].err == r->sys_errno)
				cls = os_errors[i].cls;
		ctl_out("error: <class '%s'>, [Errno %d] %s: file: %s line: %d", cls, r->sys_errno,
			strerror(r->sys_errno), c->rpc.is_unix ? PY_SUP_XMLRPC : PY_SOCKET,
			c->rpc.is_unix ? 557 : 836);
		break;
	case RPC_HTTP:
		ctl_out("error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for "
			"127.0.0.1/RPC2: %d %s>: file: %s line: 539",
			r->http_status, r->reason, PY_SUP_XMLRPC);
		break;
	case RPC_TIMEOUT:
		ctl_out("error: <class 'TimeoutError'>, %s: %s (-t/--timeout sets the limit)",
			c->serverurl, r->message);
		break;
	default:
		ctl_out("error: %s", r->message);
		break;
	}
	buf_free(&sb);
	c->exitstatus = EXIT_GENERIC;
}

static const struct ctl_result_text start_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_NO_FILE, "no such file"},
    {XR_NOT_EXECUTABLE, "file is not executable"},
    {XR_ALREADY_STARTED, "already started"},
    {XR_SPAWN_ERROR, "spawn error"},
    {XR_ABNORMAL_TERMINATION, "abnormal termination"},
    {0, NULL},
};

static const struct ctl_result_text signal_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_BAD_SIGNAL, "bad signal name"},
    {XR_NOT_RUNNING, "not running"},
    {XR_FAILED, NULL},
    {0, NULL},
};

static const struct ctl_result_text clear_texts[] = {
    {XR_BAD_NAME, "no such process"},
    {XR_FAILED, "failed"},
    {0, NULL},
};

const struct ctl_result_kind ctl_start_kind = {start_texts, "started", XR_ALREADY_STARTED, 761};
const struct ctl_result_kind ctl_stop_kind = {signal_texts, "stopped", XR_NOT_RUNNING, 835};
const struct ctl_result_kind ctl_signal_kind = {signal_texts, "signalled", -1, 835};
const struct ctl_result_kind ctl_clear_kind = {clear_texts, "cleared", -1, 1260};

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

bool ctl_print_result(struct ctl *c, const struct ctl_result_kind *k, const char *group,
		      const char *name, int code, const char *description)
{
	char spec[1024];
	ctl_make_namespec(spec, sizeof(spec), group, name);
	if (code == XR_SUCCESS) {
		ctl_out("%s: %s", spec, k->success);
		exit_from_fault(c, code, k->ignored);
		return true;
	}
	for (const struct ctl_result_text *t = k->texts; t->code; t++) {
		if (t->code != code)
			continue;
		if (t->text)
			ctl_out("%s: ERROR (%s)", spec, t->text);
		else
			ctl_out("%s", description);
		exit_from_fault(c, code, k->ignored);
		return true;
	}
	ctl_out("error: <class 'ValueError'>, Unknown result code %d for %s: file: %s line: %d",
		code, spec, PY_SUP_CTL, k->py_line);
	c->exitstatus = EXIT_GENERIC;
	return false;
}

void ctl_print_results(struct ctl *c, const struct ctl_result_kind *k, const struct xr_value *list)
{
	for (size_t i = 0; i < xr_len(list); i++) {
		const struct xr_value *r = xr_item(list, i);
		if (!ctl_print_result(
			c, k, xr_member_str(r, "group", ""), xr_member_str(r, "name", ""),
			(int)xr_member_int(r, "status", 0), xr_member_str(r, "description", "")))
			return;
	}
}

static void json_str(struct buf *b, const char *s)
{
	json_string(b, s, strlen(s));
}

/* As the web API writes it (xr_json.c), so the two stay alike. */
static void json_double(struct buf *b, double d)
{
	char num[64];
	xr_format_double(num, sizeof(num), d);
	buf_puts(b, num);
}

void ctl_status_json(FILE *f, const struct xr_value *const *infos, size_t n)
{
	struct buf sb;
	buf_init(&sb, 0);
	buf_putc(&sb, '[');
	for (size_t i = 0; i < n; i++) {
		const struct xr_value *info = infos[i];
		char spec[1024];
		ctl_make_namespec(spec, sizeof(spec), xr_member_str(info, "group", ""),
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
			else if (mem->value->type == XR_DOUBLE)
				json_double(&sb, mem->value->u.d);
			else
				buf_puts(&sb, "null");
		}
		buf_putc(&sb, '}');
	}
	buf_puts(&sb, n ? "\n]\n" : "]\n");
	if (sb.data)
		fputs(sb.data, f);
	buf_free(&sb);
}

/* Characters that take no column (combining marks, zero-width spaces, variation selectors) and
 * those that take two (East Asian wide and fullwidth, emoji), as wcwidth() in a UTF-8 locale
 * says, without depending on the locale the client runs in. */
struct cp_range {
	unsigned lo, hi;
};

static const struct cp_range
    zero_width[] = {{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD},  {0x0610, 0x061A},
		    {0x064B, 0x065F}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A},  {0x0E47, 0x0E4E},
		    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},  {0x20D0, 0x20FF},
		    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF}},
    double_width[] = {{0x1100, 0x115F},	  {0x2E80, 0x303E},   {0x3041, 0x33FF},	 {0x3400, 0x4DBF},
		      {0x4E00, 0x9FFF},	  {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},	 {0xF900, 0xFAFF},
		      {0xFE30, 0xFE4F},	  {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},	 {0x1F300, 0x1F64F},
		      {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD}};

static bool in_ranges(unsigned cp, const struct cp_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

/* The columns s takes on a terminal; a byte that is not UTF-8 counts as one. */
static size_t display_width(const char *s)
{
	size_t w = 0, len = strlen(s);
	for (size_t i = 0; i < len;) {
		const unsigned char *u = (const unsigned char *)s + i;
		size_t n = utf8_char(s + i, len - i);
		unsigned cp = n == 1   ? u[0]
			      : n == 2 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)
			      : n == 3 ? (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu)
			      : n == 4 ? (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 |
					     (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu)
				       : u[0];
		i += n ? n : 1;
		if (in_ranges(cp, zero_width, ARRAY_SIZE(zero_width)))
			continue;
		w += in_ranges(cp, double_width, ARRAY_SIZE(double_width)) ? 2 : 1;
	}
	return w;
}

/* supervisorctl's _show_statuses, padded by display width so that names in any script keep the
 * columns (supervisorctl counts characters: the same for all but wide ones). */
void ctl_status_table(FILE *f, const struct xr_value *const *infos, size_t n)
{
	size_t width = 30;
	char spec[1024];
	for (size_t i = 0; i < n; i++) {
		ctl_make_namespec(spec, sizeof(spec), xr_member_str(infos[i], "group", ""),
				  xr_member_str(infos[i], "name", ""));
		if (display_width(spec) > width)
			width = display_width(spec);
	}
	for (size_t i = 0; i < n; i++) {
		ctl_make_namespec(spec, sizeof(spec), xr_member_str(infos[i], "group", ""),
				  xr_member_str(infos[i], "name", ""));
		fprintf(f, "%s%*s%-10s%s\n", spec, (int)(width + 3 - display_width(spec)), "",
			xr_member_str(infos[i], "statename", ""),
			xr_member_str(infos[i], "description", ""));
	}
}

void ctl_out_fault_error(const struct rpc_result *r)
{
	struct buf sb;
	buf_init(&sb, 0);
	python_repr(&sb, r->fault_string ? r->fault_string : "");
	ctl_out("ERROR: <Fault %d: %s>", r->fault_code, sb.data);
	buf_free(&sb);
}

void ctl_print_help(const char *name)
{
	const struct ctl_action *a = ctl_find_action(name);
	if (a && a->help)
		ctl_out("%s", a->help);
}

void ctl_columnize(FILE *f, const char *const *list, size_t size, size_t width)
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
			fprintf(f, "%s%-*s", col ? "  " : "", (int)colw[col], x);
		}
		fputc('\n', f);
	}
}

void ctl_do_help(struct ctl *c, const char *arg)
{
	(void)c;
	if (strcmp(arg, "help") == 0) {
		ctl_out("help\t\tPrint a list of available actions");
		ctl_out("help <action>\tPrint help for <action>");
		return;
	}
	if (*arg) {
		const struct ctl_action *a = ctl_find_action(arg);
		if (a && a->help)
			ctl_out("%s", a->help);
		else
			ctl_out("*** No help on %s", arg);
		return;
	}
	const char *names[ctl_nactions];
	size_t n = 0;
	for (size_t i = 0; i < ctl_nactions; i++)
		if (ctl_actions[i].help)
			names[n++] = ctl_actions[i].name;
	static const char header[] = "default commands (type help <topic>):";
	putchar('\n');
	ctl_out("%s", header);
	for (size_t i = 0; i < sizeof(header) - 1; i++)
		putchar('=');
	putchar('\n');
	ctl_columnize(stdout, names, n, 79);
	putchar('\n');
}

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
    "stop --force NAME -- stop the running programs that depend on NAME first\n"
    "-t/--timeout SECONDS -- give up on a server that does not connect or answer within\n"
    "     SECONDS (default [supervisorctl] timeout, else 30; 0 for never); start, stop\n"
    "     and restart may wait longer for their answer, and tail -f and fg for their\n"
    "     stream.\n"
    "The same server has a web page: http://HOST:PORT/ of an [inet_http_server], or\n"
    "curl --unix-socket of the unix socket (status, actions, /metrics, /api/processes).\n"
    "A config file without [supervisorctl] but with [unix_http_server] file= is\n"
    "accepted: the server URL is then unix://<file>.\n"
    "Exit codes: 0 ok, 1 error, 2 bad arguments, 3 a listed process is not running\n"
    "(status) or no supervisor namespace, 4 cannot connect (status) or connection\n"
    "refused, 5 API version mismatch, 7 not running / no such socket.\n"
    "\n";

void ctl_print_usage(FILE *f, const char *progname)
{
	fprintf(f, usage_text, progname);
	if (strcmp(progname, "pidvisor ctl") == 0)
		fputs(extensions_text, f);
}

void ctl_usage(FILE *f)
{
	ctl_print_usage(f, "pidvisor ctl");
}
