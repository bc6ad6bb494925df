/* Private to the ctl_*.c files, the parts of `pidvisor ctl` (supervisorctl 4.2.5 in C):
 *   ctl_main.c     the command line, the config, the interactive shell and dispatch
 *   ctl_call.c     RPC calls with supervisorctl's error propagation, and upcheck
 *   ctl_actions.c  the action table and the actions that answer at once
 *   ctl_reconfig.c the actions on the configuration: avail, reread, update, add, remove
 *   ctl_stream.c   the actions that stream: tail, maintail, fg (and Ctrl-C)
 *   ctl_output.c   what is printed: result lines, the status table and JSON, Python-style
 *                  error lines, help and usage texts
 * supervisor/supervisorctl.py is the reference for every text, layout and exit code. */
#ifndef PIDVISOR_CTL_INTERNAL_H
#define PIDVISOR_CTL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "expand.h"
#include "rpc_client.h"

/* supervisorctl's LSB exit codes */
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

struct ctl {
	const char *progname;
	char *serverurl;
	char *username, *password;
	char *prompt;
	bool interactive;
	struct rpc_client rpc;
	bool rpc_ready;
	int timeout_ms; /* each call's, but see ctl_call_raw; 0: none */
	int exitstatus;
	/* status RPC_HTTP (the 401 answer) when one ended the current command */
	struct rpc_result auth_required;
	bool quit; /* quit, exit or EOF in the shell */
};

/* ---- ctl_main.c ---- */

struct ctl_words {
	char **v;
	size_t n;
	char *buf;
};

/* str.split(): runs of whitespace separate, no empty words. */
void ctl_split_words(const char *s, struct ctl_words *w);
void ctl_words_free(struct ctl_words *w);
bool ctl_words_has(const struct ctl_words *w, const char *s);
void ctl_replace(char **slot, const char *value);
/* raw_input(): the prompt on stdout, one line from stdin; NULL on EOF. */
char *ctl_read_line(const char *prompt);
/* y/N in the shell; always yes for a one-shot command. */
bool ctl_confirm(struct ctl *c, const char *question);

/* -t/--timeout: seconds for connecting and for each answer, except the answer to a call
 * that waits on purpose (start, stop) and the body of a stream (tail -f). */
#define CTL_DEFAULT_TIMEOUT 30
#define CTL_MAX_TIMEOUT	    86400

struct ctl_cmdline {
	char *configfile, *serverurl, *username, *password, *history;
	int timeout_ms; /* -1: not given */
	bool interactive, interactive_set;
	char **args;
	int nargs;
};

enum ctl_cmdline_result { CL_OK, CL_HELP, CL_ERROR };
/* Python's getopt.getopt as supervisorctl uses it. CL_ERROR with getopt's or supervisorctl's
 * text appended to err (without "Error: "); CL_HELP for -h/--help. cl is filled as far as it
 * got either way; ctl_cmdline_free releases it. */
enum ctl_cmdline_result ctl_parse_cmdline(int argc, char **argv, struct ctl_cmdline *cl,
					  struct buf *err);
void ctl_cmdline_free(struct ctl_cmdline *cl);

/* ---- ctl_call.c ---- */

/* Raw call: the caller handles every outcome. */
enum rpc_status ctl_call_raw(struct ctl *c, struct rpc_result *r, const char *method,
			     const struct xr_value *const *params, size_t n);
/* Call with Python's propagation: transport errors are reported (401 ends
 * the command), and false is returned so the action stops. Faults come back
 * as true with r->status == RPC_FAULT. */
bool ctl_call(struct ctl *c, struct rpc_result *r, const char *method,
	      const struct xr_value *const *params, size_t n);
/* ctl_call with up to two string parameters (NULL: absent). */
bool ctl_call_s(struct ctl *c, struct rpc_result *r, const char *method, const char *a,
		const char *b);
/* name NULL: the main log (readLog takes no name). */
bool ctl_call_read_log(struct ctl *c, struct rpc_result *r, const char *method, const char *name,
		       long long offset);
/* A call whose every fault is unexpected: true with r->value set. */
bool ctl_call_value(struct ctl *c, struct rpc_result *r, const char *method, const char *arg);
/* A fault nobody expected ends the action like an uncaught exception. */
void ctl_unexpected_fault(struct ctl *c, struct rpc_result *r);
/* Controller.upcheck: true when the server speaks API 3.0. *raised tells a
 * failure that supervisorctl reports as an exception from one it returns. */
bool ctl_upcheck_ex(struct ctl *c, bool *raised);
bool ctl_upcheck(struct ctl *c);
/* Drops the connection; the next call connects again with the current URL and credentials. */
void ctl_disconnect(struct ctl *c);

/* ---- ctl_actions.c ---- */

struct ctl_action {
	const char *name;
	void (*run)(struct ctl *c, const char *arg);
	const char *help; /* NULL: not listed by `help` */
};

/* Listed actions (help != NULL) are what `help` shows, sorted. */
extern const struct ctl_action ctl_actions[];
extern const size_t ctl_nactions;
const struct ctl_action *ctl_find_action(const char *name);
/* supervisor.options.split_namespec: "g:p", "g:*"/"g:" (process NULL), "p". */
void ctl_split_namespec(const char *spec, char *group, size_t gsize, const char **process,
			char *pbuf, size_t psize);
/* Actions that take no argument print an error and the help for one; false then. */
bool ctl_no_arguments(struct ctl *c, const char *name, const char *arg);

/* ---- ctl_reconfig.c ---- */

void ctl_do_avail(struct ctl *c, const char *arg);
void ctl_do_reread(struct ctl *c, const char *arg);
void ctl_do_update(struct ctl *c, const char *arg);
void ctl_do_add(struct ctl *c, const char *arg);
void ctl_do_remove(struct ctl *c, const char *arg);

/* ---- ctl_stream.c ---- */

void ctl_do_tail(struct ctl *c, const char *arg);
void ctl_do_maintail(struct ctl *c, const char *arg);
void ctl_do_fg(struct ctl *c, const char *arg);
/* "-N" -> N bytes; "-f" -> follow (true with *follow set); false for anything else. */
bool ctl_parse_tail_modifier(const char *mod, long long *bytes, bool *follow);

/* ---- ctl_output.c ---- */

/* printf to stdout, then a newline: Python's print(). */
__attribute__((format(printf, 1, 2))) void ctl_out(const char *fmt, ...);
/* "group:name", or "name" when both are the same. */
void ctl_make_namespec(char *buf, size_t size, const char *group, const char *name);
/* Prints what supervisorctl prints when a call raises unexpectedly; exit status 1. */
void ctl_report(struct ctl *c, const struct rpc_result *r);
/* str(Fault) */
void ctl_out_fault_error(const struct rpc_result *r);

/* How the per-process results of one action read. */
struct ctl_result_text {
	int code;
	const char *text; /* NULL: print the fault description itself */
};
struct ctl_result_kind {
	const struct ctl_result_text *texts;
	const char *success; /* "started", "stopped", "signalled", "cleared" */
	int ignored;	     /* fault that does not change the exit status */
	int py_line;	     /* where supervisorctl raises on an unknown code */
};
extern const struct ctl_result_kind ctl_start_kind, ctl_stop_kind, ctl_signal_kind, ctl_clear_kind;
/* Prints one result line; false for a code supervisorctl does not know
 * (it raises ValueError there, which ends the action). */
bool ctl_print_result(struct ctl *c, const struct ctl_result_kind *k, const char *group,
		      const char *name, int code, const char *description);
void ctl_print_results(struct ctl *c, const struct ctl_result_kind *k, const struct xr_value *list);

/* `status`: the name column is at least 30 wide and fits the longest name. */
void ctl_status_table(FILE *f, const struct xr_value *const *infos, size_t n);
/* `status --json`: every member of each process struct, plus namespec. */
void ctl_status_json(FILE *f, const struct xr_value *const *infos, size_t n);
/* cmd.Cmd.columnize: the fewest rows that fit in width, columns two apart. */
void ctl_columnize(FILE *f, const char *const *list, size_t size, size_t width);
void ctl_print_help(const char *name);
void ctl_do_help(struct ctl *c, const char *arg);
/* supervisorctl's usage text for progname; "pidvisor ctl" adds the extensions. */
void ctl_print_usage(FILE *f, const char *progname);

#endif
