/* The RPC dispatch against a small supervisor made from a config string (no program is started):
 * arguments checked against the method table before any handler runs, the windows of log reads
 * at int64 extremes, and system.multicall's faults and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "rpc.h"
#include "supervisor.h"

static struct supervisor sv;
static struct rpc_server rs;
static char dir[] = "/tmp/test_rpc.XXXXXX";

static void write_file(const char *name, const char *text, int times)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < times; i++)
		fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char conf[1024], path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf),
		 "[supervisord]\nloglevel=critical\n"
		 "[program:cat]\ncommand=/bin/cat\nautostart=false\nstdout_logfile=%s/cat.log\n"
		 "[group:g]\nprograms=cat\n"
		 "[program:gone]\ncommand=/no/such/dir/x\nautostart=false\n"
		 "[program:onpath]\ncommand=no-such-command-x\nautostart=false\n"
		 "[program:plain]\ncommand=%s/plain.sh\nautostart=false\n"
		 "[program:folder]\ncommand=%s\nautostart=false\n",
		 dir, dir, dir);
	write_file("pidvisor.conf", conf, 1);
	write_file("plain.sh", "#!/bin/sh\n", 1); /* no execute bit */
	write_file("cat.log", "0123456789", 10);  /* 100 bytes */
	snprintf(path, sizeof(path), "%s/pidvisor.conf", dir);
	struct diag d = {0};
	struct config *cfg = config_load(path, NULL, &d);
	diag_free(&d);
	assert_non_null(cfg);
	assert_int_equal(supervisor_init(&sv, ev_loop_new(EVFLAG_AUTO), cfg), 0);
	rs.sv = &sv;
	return 0;
}

/* Builds the params from a tiny format: s string, i int, b boolean, a array, then calls. */
static void call(struct rpc_answer *a, const char *method, const char *fmt, ...)
{
	va_list ap;
	struct xr_value *params = xr_array();
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		if (*f == 's')
			xr_array_add(params, xr_string(va_arg(ap, const char *)));
		else if (*f == 'i')
			xr_array_add(params, xr_int(va_arg(ap, long long)));
		else if (*f == 'b')
			xr_array_add(params, xr_bool(va_arg(ap, int)));
		else
			xr_array_add(params, va_arg(ap, struct xr_value *));
	}
	va_end(ap);
	rpc_dispatch(&rs, method, params, a);
	xr_free(params);
	assert_null(a->pending);
}

static void assert_fault(const char *method, const char *fmt, long long x, long long y, int code,
			 const char *text)
{
	struct rpc_answer a;
	if (strcmp(fmt, "ii") == 0)
		call(&a, method, fmt, x, y);
	else
		call(&a, method, fmt, (long long)x);
	assert_int_equal(a.fault, code);
	if (text)
		assert_string_equal(a.fault_text, text);
	rpc_answer_clear(&a);
}

/* An int where a name belongs killed PID 1 (issue 11); found again by fuzz_rpc_dispatch. */
static void test_int_for_name(void **state)
{
	assert_fault("supervisor.signalProcess", "ii", 0, 0, 3,
		     "BAD_ARGUMENTS: argument 1 of supervisor.signalProcess must be a string");
	assert_fault("supervisor.signalProcessGroup", "ii", 0, 0, 3, NULL);
	assert_fault("supervisor.getProcessInfo", "i", 42, 0, 3, NULL);
	assert_fault("supervisor.removeProcessGroup", "i", 42, 0, 3, NULL);
	assert_fault("system.methodHelp", "i", 42, 0, 3, NULL);
	assert_fault("supervisor.readLog", "ii", 0, 0, 20, NULL); /* types fine: no main log */
}

static void test_wrong_count(void **state)
{
	struct rpc_answer a;
	call(&a, "supervisor.getProcessInfo", "");
	assert_int_equal(a.fault, 2);
	assert_string_equal(a.fault_text, "INCORRECT_PARAMETERS");
	rpc_answer_clear(&a);
	call(&a, "supervisor.getPID", "i", 1LL);
	assert_int_equal(a.fault, 2);
	rpc_answer_clear(&a);
	call(&a, "supervisor.nope", "");
	assert_int_equal(a.fault, 1);
	rpc_answer_clear(&a);
	call(&a, "supervisor._private", "");
	assert_int_equal(a.fault, 1);
	rpc_answer_clear(&a);
}

/* A signal is a name or a number; a boolean may be an int; an int may be a decimal string. */
static void test_accepted_shapes(void **state)
{
	struct rpc_answer a;
	call(&a, "supervisor.signalProcess", "si", "g:cat", 15LL);
	assert_int_equal(a.fault, 70); /* NOT_RUNNING: the types were fine */
	rpc_answer_clear(&a);
	call(&a, "supervisor.signalProcess", "si", "g:cat", (long long)INT64_MIN);
	assert_int_equal(a.fault, 11);
	assert_string_equal(a.fault_text, "BAD_SIGNAL: -9223372036854775808");
	rpc_answer_clear(&a);
	call(&a, "supervisor.stopProcess", "si", "g:cat", 0LL);
	assert_int_equal(a.fault, 70);
	rpc_answer_clear(&a);
	call(&a, "supervisor.readProcessStdoutLog", "sss", "g:cat", "-5", "0");
	assert_int_equal(a.fault, 0);
	assert_string_equal(a.value->u.str.ptr, "56789");
	rpc_answer_clear(&a);
	call(&a, "supervisor.readProcessStdoutLog", "sss", "g:cat", "5x", "0");
	assert_int_equal(a.fault, 3);
	rpc_answer_clear(&a);
}

static void test_signature_from_table(void **state)
{
	struct rpc_answer a;
	call(&a, "system.methodSignature", "s", "supervisor.signalProcess");
	assert_int_equal(xr_len(a.value), 3);
	assert_string_equal(xr_item(a.value, 0)->u.str.ptr, "boolean");
	assert_string_equal(xr_item(a.value, 2)->u.str.ptr, "string");
	rpc_answer_clear(&a);
	call(&a, "system.methodSignature", "s", "supervisor.tailProcessStdoutLog");
	assert_int_equal(xr_len(a.value), 4);
	assert_string_equal(xr_item(a.value, 3)->u.str.ptr, "int");
	rpc_answer_clear(&a);
}

/* Each method's help entry (rpc_help.c) is there: a text and a return type. */
static void test_every_method_has_help(void **state)
{
	struct rpc_answer list, a;
	call(&list, "system.listMethods", "");
	assert_true(xr_len(list.value) > 40);
	for (size_t i = 0; i < xr_len(list.value); i++) {
		const char *name = xr_item(list.value, i)->u.str.ptr;
		call(&a, "system.methodHelp", "s", name);
		assert_int_equal(a.fault, 0);
		assert_true(a.value->u.str.len > 20);
		rpc_answer_clear(&a);
		call(&a, "system.methodSignature", "s", name);
		assert_int_equal(a.fault, 0);
		assert_true(xr_item(a.value, 0)->u.str.len > 0);
		rpc_answer_clear(&a);
	}
	rpc_answer_clear(&list);
}

/* startProcess checks the command before trying, as supervisord does, and answers with the
 * fault its error class gives: NotFound is NO_FILE; a directory or no execute bit (NotExecutable)
 * is NOT_EXECUTABLE. */
static void expect_start_fault(const char *name, int code, const char *fmt, const char *arg)
{
	char want[512];
	struct rpc_answer a;
	snprintf(want, sizeof(want), fmt, arg);
	call(&a, "supervisor.startProcess", "s", name);
	assert_int_equal(a.fault, code);
	assert_string_equal(a.fault_text, want);
	rpc_answer_clear(&a);
}

static void test_start_bad_command(void **state)
{
	char plain[256];
	snprintf(plain, sizeof(plain), "%s/plain.sh", dir);
	expect_start_fault("gone", XR_NO_FILE, "NO_FILE: can't find command '%s'",
			   "/no/such/dir/x");
	expect_start_fault("onpath", XR_NO_FILE, "NO_FILE: can't find command '%s'",
			   "no-such-command-x");
	expect_start_fault("plain", XR_NOT_EXECUTABLE,
			   "NOT_EXECUTABLE: command at '%s' is not executable", plain);
	expect_start_fault("folder", XR_NOT_EXECUTABLE,
			   "NOT_EXECUTABLE: command at '%s' is a directory", dir);
}

static void expect_read(const char *method, long long off, long long len, const char *want)
{
	struct rpc_answer a;
	call(&a, method, "sii", "g:cat", off, len);
	assert_int_equal(a.fault, 0);
	const struct xr_value *v = a.value->type == XR_ARRAY ? xr_item(a.value, 0) : a.value;
	assert_int_equal(v->u.str.len, strlen(want));
	assert_memory_equal(v->u.str.ptr, want, strlen(want));
	rpc_answer_clear(&a);
}

/* supervisord's readFile/tailFile windows, exact at the edges and defined past them. */
static void test_read_windows(void **state)
{
	const char *rd = "supervisor.readProcessStdoutLog", *tl = "supervisor.tailProcessStdoutLog";
	const char *all = "0123456789012345678901234567890123456789"
			  "0123456789012345678901234567890123456789"
			  "01234567890123456789";
	expect_read(rd, INT64_MIN, 0, all);
	expect_read(rd, -3, 0, "789");
	expect_read(rd, 98, 0, "89");
	expect_read(rd, 95, INT64_MAX, "56789");
	expect_read(rd, INT64_MAX, 0, "");
	expect_read(rd, INT64_MAX, INT64_MAX, "");
	expect_read(tl, 0, 3, "789");
	expect_read(tl, 0, INT64_MIN, "");
	expect_read(tl, INT64_MAX, INT64_MAX, "");
	expect_read(tl, INT64_MIN, INT64_MIN, "");
	/* Python: offset = size - length < 0 becomes 0, and read(length) reads it all */
	expect_read(tl, INT64_MIN, INT64_MAX, all);
	expect_read(tl, 97, 5, "56789"); /* past the end: the last length bytes */
	struct rpc_answer a;
	call(&a, rd, "sii", "g:cat", -1LL, 1LL);
	assert_int_equal(a.fault, 3);
	rpc_answer_clear(&a);
	call(&a, rd, "sii", "g:cat", 0LL, (long long)INT64_MIN);
	assert_int_equal(a.fault, 3);
	rpc_answer_clear(&a);
}

static struct xr_value *one_call(const char *method, struct xr_value *params)
{
	struct xr_value *c = xr_struct();
	xr_struct_set(c, "methodName", xr_string(method));
	if (params)
		xr_struct_set(c, "params", params);
	return c;
}

/* The answer of a multicall is pre-encoded: decode it to look inside. */
static struct xr_response decoded(struct rpc_answer *a)
{
	struct buf sb;
	struct xr_response r;
	char err[128];
	buf_init(&sb, 0);
	assert_true(xr_encode_response(&sb, a->value));
	assert_true(xr_parse_response(sb.data, sb.len, NULL, &r, err, sizeof(err)));
	buf_free(&sb);
	return r;
}

static void test_multicall_checks_each_call(void **state)
{
	struct xr_value *calls = xr_array(), *bad = xr_array();
	xr_array_add(bad, xr_int(0));
	xr_array_add(bad, xr_int(0));
	xr_array_add(calls, one_call("supervisor.signalProcess", bad));
	xr_array_add(calls, one_call("supervisor.getPID", NULL));
	xr_array_add(calls, one_call("system.multicall", NULL));
	xr_array_add(calls, xr_int(5));
	struct xr_value *noname = xr_struct();
	xr_struct_set(noname, "params", xr_array());
	xr_array_add(calls, noname);
	struct rpc_answer a;
	call(&a, "system.multicall", "a", calls);
	struct xr_response r = decoded(&a);
	assert_int_equal(xr_len(r.value), 5);
	assert_int_equal(xr_member_int(xr_item(r.value, 0), "faultCode", 0), 3);
	assert_int_equal(xr_item(r.value, 1)->u.i, getpid());
	assert_string_equal(xr_member_str(xr_item(r.value, 2), "faultString", ""),
			    "INCORRECT_PARAMETERS: Recursive system.multicall forbidden");
	assert_string_equal(xr_member_str(xr_item(r.value, 3), "faultString", ""),
			    "INCORRECT_PARAMETERS: No methodName");
	assert_string_equal(xr_member_str(xr_item(r.value, 4), "faultString", ""),
			    "INCORRECT_PARAMETERS: No methodName");
	xr_response_free(&r);
	rpc_answer_clear(&a);
	call(&a, "system.multicall", "i", 5LL);
	assert_int_equal(a.fault, 3);
	rpc_answer_clear(&a);
}

static void test_multicall_limits(void **state)
{
	struct http_server_conf conf = {.multicall_max_calls = 2, .multicall_max_bytes = 1000};
	rs.conf = &conf;
	struct xr_value *calls = xr_array();
	for (int i = 0; i < 4; i++)
		xr_array_add(calls, one_call("supervisor.getPID", NULL));
	struct xr_value *read = xr_array();
	xr_array_add(read, xr_string("g:cat"));
	xr_array_add(read, xr_int(0));
	xr_array_add(read, xr_int(0));
	struct rpc_answer a;
	call(&a, "system.multicall", "a", calls);
	struct xr_response r = decoded(&a);
	assert_int_equal(xr_len(r.value), 4);
	assert_int_equal(xr_item(r.value, 1)->type, XR_INT);
	assert_string_equal(xr_member_str(xr_item(r.value, 2), "faultString", ""),
			    "FAILED: over multicall_max_calls (2)");
	xr_response_free(&r);
	rpc_answer_clear(&a);
	/* 1000 bytes less the room kept for two faults: one 100-byte read fits, not two */
	conf.multicall_max_bytes = 700;
	calls = xr_array();
	xr_array_add(calls, one_call("supervisor.readProcessStdoutLog", read));
	xr_array_add(calls, one_call("supervisor.readProcessStdoutLog", xr_array()));
	call(&a, "system.multicall", "a", calls);
	r = decoded(&a);
	assert_int_equal(xr_item(r.value, 0)->u.str.len, 100);
	assert_int_equal(xr_member_int(xr_item(r.value, 1), "faultCode", 0), 2);
	xr_response_free(&r);
	rpc_answer_clear(&a);
	conf.multicall_max_bytes = 300;
	read = xr_array();
	xr_array_add(read, xr_string("g:cat"));
	xr_array_add(read, xr_int(0));
	xr_array_add(read, xr_int(0));
	calls = xr_array();
	xr_array_add(calls, one_call("supervisor.readProcessStdoutLog", read));
	call(&a, "system.multicall", "a", calls);
	r = decoded(&a);
	assert_string_equal(xr_member_str(xr_item(r.value, 0), "faultString", ""),
			    "FAILED: over multicall_max_bytes (300)");
	xr_response_free(&r);
	rpc_answer_clear(&a);
	rs.conf = NULL;
}

/* A fault text is cut at its bound on a whole UTF-8 character (found by fuzz_rpc_dispatch). */
static void test_fault_text_cut_on_a_character(void **state)
{
	char name[2002] = "x";
	for (int i = 0; i < 1000; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
	name[2001] = '\0';
	/* with and without a one-byte character first, so the bound falls inside one or not */
	for (int shift = 0; shift < 2; shift++) {
		struct rpc_answer a;
		call(&a, "supervisor.getProcessInfo", "s", name + 1 - shift);
		assert_int_equal(a.fault, 10);
		size_t len = strlen(a.fault_text);
		assert_in_range(len, 1000, sizeof(a.fault_text) - 1);
		/* "BAD_NAME: ", the "x" or not, then whole two-byte characters */
		assert_int_equal((len - 10 - (size_t)shift) % 2, 0);
		assert_int_equal((unsigned char)a.fault_text[len - 1], 0xa9);
		rpc_answer_clear(&a);
	}
}

/* supervisord's make_allfunc: a bad signal is each signallable process's result (none here);
 * sendRemoteCommEvent and a wait take values of any type. */
static void test_any_typed_and_bad_signal_over_many(void **state)
{
	struct rpc_answer a;
	call(&a, "supervisor.signalProcessGroup", "ss", "g", "BOGUS");
	assert_int_equal(a.fault, 0);
	assert_int_equal(xr_len(a.value), 0);
	rpc_answer_clear(&a);
	call(&a, "supervisor.signalProcess", "ss", "g:cat", "BOGUS");
	assert_string_equal(a.fault_text, "BAD_SIGNAL: BOGUS");
	rpc_answer_clear(&a);
	call(&a, "supervisor.sendRemoteCommEvent", "ia", 1LL, xr_array());
	assert_int_equal(a.fault, 0);
	assert_true(a.value->u.b);
	rpc_answer_clear(&a);
	call(&a, "supervisor.stopProcess", "sa", "g:cat", xr_array());
	assert_string_equal(a.fault_text, "NOT_RUNNING: g:cat");
	rpc_answer_clear(&a);
}

/* getAllConfigInfo's struct has supervisord's members, no more, and its None as "none". */
static void test_config_info_members(void **state)
{
	static const char *const members[] = {"autostart",
					      "command",
					      "directory",
					      "exitcodes",
					      "group",
					      "group_prio",
					      "inuse",
					      "killasgroup",
					      "name",
					      "process_prio",
					      "redirect_stderr",
					      "serverurl",
					      "startretries",
					      "startsecs",
					      "stderr_capture_maxbytes",
					      "stderr_events_enabled",
					      "stderr_logfile",
					      "stderr_logfile_backups",
					      "stderr_logfile_maxbytes",
					      "stderr_syslog",
					      "stdout_capture_maxbytes",
					      "stdout_events_enabled",
					      "stdout_logfile",
					      "stdout_logfile_backups",
					      "stdout_logfile_maxbytes",
					      "stdout_syslog",
					      "stopsignal",
					      "stopwaitsecs",
					      "uid"};
	struct rpc_answer a;
	call(&a, "supervisor.getAllConfigInfo", "");
	const struct xr_value *st = xr_item(a.value, 0);
	assert_int_equal(st->u.st.len, sizeof(members) / sizeof(members[0]));
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		assert_non_null(xr_member(st, members[i]));
	assert_string_equal(xr_member_str(st, "uid", ""), "none");
	assert_string_equal(xr_member_str(st, "serverurl", ""), "none");
	/* never spawned: the AUTO file was named when the process was added, as supervisord does */
	const char *err = xr_member_str(st, "stderr_logfile", "");
	assert_non_null(strstr(err, "-stderr---supervisor-"));
	assert_int_equal(strlen(strrchr(err, '-')), strlen("-12345678.log"));
	rpc_answer_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int_for_name),
	    cmocka_unit_test(test_wrong_count),
	    cmocka_unit_test(test_accepted_shapes),
	    cmocka_unit_test(test_signature_from_table),
	    cmocka_unit_test(test_every_method_has_help),
	    cmocka_unit_test(test_start_bad_command),
	    cmocka_unit_test(test_read_windows),
	    cmocka_unit_test(test_multicall_checks_each_call),
	    cmocka_unit_test(test_multicall_limits),
	    cmocka_unit_test(test_fault_text_cut_on_a_character),
	    cmocka_unit_test(test_any_typed_and_bad_signal_over_many),
	    cmocka_unit_test(test_config_info_members),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
