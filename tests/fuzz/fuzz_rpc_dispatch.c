/* libFuzzer target: XML-RPC calls built from the method table (system.listMethods and
 * system.methodSignature) and run through the real dispatch against a small supervisor made from
 * a config string. The input bytes choose, for each call, a method, how far to stray from its
 * signature (right types with extreme values, one slot of the wrong type, any count of any type)
 * and whether to wrap calls in system.multicall. Methods that would fork or end the process
 * (start, restart, shutdown) are left out: a fuzzer cannot spawn. */
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "mainlog.h"
#include "rpc.h"
#include "supervisor.h"
#include "xmlrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct input *in, unsigned below)
{
	if (!in->n || below <= 1)
		return 0;
	unsigned v = *in->p++;
	in->n--;
	return v % below;
}

static long long take64(struct input *in)
{
	unsigned long long v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | take(in, 256);
	return (long long)v;
}

#define MAX_METHODS 64

static struct supervisor sv;
static struct rpc_server rs;
static const char *names[MAX_METHODS];
static char sigs[MAX_METHODS][8]; /* parameter types: s string, i int, b boolean, a array */
static size_t nmethods;

static const long long extremes[] = {0,
				     1,
				     -1,
				     2,
				     9,
				     15,
				     64,
				     100,
				     1024,
				     2147483647LL,
				     -2147483647LL - 1,
				     16LL << 20,
				     -(16LL << 20),
				     INT64_MAX,
				     INT64_MIN,
				     INT64_MAX - 1,
				     INT64_MIN + 1,
				     4294967296LL};

static const char *const words[] = {"cat",
				    "g:cat",
				    "g:*",
				    "g:",
				    "g",
				    ":",
				    "",
				    "nope",
				    "nope:cat",
				    "g:nope",
				    "tail",
				    "tail:tail",
				    "SIGTERM",
				    "TERM",
				    "HUP",
				    "9",
				    "-1",
				    "0",
				    "65",
				    "KILL",
				    "USR1",
				    "*",
				    "::",
				    "cat:",
				    "abc",
				    "supervisor.getPID",
				    "system.multicall",
				    "supervisor.signalProcess",
				    "system.listMethods"};

static struct xr_value *gen_value(struct input *in, int depth);

/* Pieces of text that are valid UTF-8, as everything the XML parser hands over is: names of
 * one, two, three and four bytes per character, and what XML must escape. */
static const char *const pieces[] = {"a",
				     "z",
				     "0",
				     ":",
				     "*",
				     " ",
				     "\n",
				     "&",
				     "<",
				     ">",
				     "\"",
				     "'",
				     "\xc3\xa9",
				     "\xe4\xb8\xad",
				     "\xf0\x9f\x98\x80",
				     "cat",
				     "g"};

static struct xr_value *gen_string(struct input *in)
{
	struct buf b;
	buf_init(&b, 0);
	switch (take(in, 4)) {
	case 0: {
		size_t n = take(in, 16);
		for (size_t i = 0; i < n; i++)
			buf_puts(&b, pieces[take(in, sizeof(pieces) / sizeof(pieces[0]))]);
		break;
	}
	case 1: {
		/* longer than any fixed buffer a handler or a fault text might cut it to */
		const char *piece = pieces[take(in, sizeof(pieces) / sizeof(pieces[0]))];
		size_t len = 500 + take(in, 4) * 300;
		if (take(in, 2))
			buf_puts(&b, "g:");
		while (b.len < len)
			buf_puts(&b, piece);
		break;
	}
	default:
		buf_puts(&b, words[take(in, sizeof(words) / sizeof(words[0]))]);
	}
	struct xr_value *v = xr_string_len(b.data ? b.data : "", b.len);
	buf_free(&b);
	return v;
}

static struct xr_value *gen_int(struct input *in)
{
	if (take(in, 4) == 0)
		return xr_int(take64(in));
	return xr_int(extremes[take(in, sizeof(extremes) / sizeof(extremes[0]))]);
}

static struct xr_value *gen_array(struct input *in, int depth)
{
	struct xr_value *arr = xr_array();
	size_t n = take(in, 5);
	for (size_t i = 0; i < n; i++)
		xr_array_add(arr, gen_value(in, depth + 1));
	return arr;
}

static struct xr_value *gen_of(struct input *in, char type, int depth)
{
	switch (type) {
	case 's':
		return gen_string(in);
	case 'i':
		return gen_int(in);
	case 'b':
		return xr_bool(take(in, 2));
	default:
		return gen_array(in, depth);
	}
}

static struct xr_value *gen_value(struct input *in, int depth)
{
	if (depth > 4)
		return xr_int(0);
	switch (take(in, 10)) {
	case 0:
		return xr_nil();
	case 1:
		return xr_double(take(in, 2) ? 1e300 : -0.5);
	case 2:
		return xr_base64("\0\1x", 3);
	case 3:
		return xr_datetime("20261128T19:45:00");
	case 4: {
		struct xr_value *st = xr_struct();
		xr_struct_set(st, "methodName", gen_string(in));
		xr_struct_set(st, "params", gen_value(in, depth + 1));
		return st;
	}
	default:
		return gen_of(in, "sibaa"[take(in, 5)], depth);
	}
}

/* The parameters of one call to method m: by its signature with extreme values, with one slot
 * of a wrong type, or any number of anything. */
static struct xr_value *gen_params(struct input *in, size_t m)
{
	struct xr_value *params = xr_array();
	size_t n = strlen(sigs[m]);
	switch (take(in, 4)) {
	case 0:
	case 1:
		for (size_t i = 0; i < n; i++)
			xr_array_add(params, gen_of(in, sigs[m][i], 1));
		break;
	case 2: {
		size_t bad = take(in, (unsigned)n + 1);
		for (size_t i = 0; i < n; i++)
			xr_array_add(params,
				     i == bad ? gen_value(in, 1) : gen_of(in, sigs[m][i], 1));
		break;
	}
	default:
		n = take(in, 5);
		for (size_t i = 0; i < n; i++)
			xr_array_add(params, gen_value(in, 1));
	}
	return params;
}

static struct xr_value *gen_multicall(struct input *in)
{
	struct xr_value *calls = xr_array();
	size_t n = take(in, 40);
	for (size_t i = 0; i < n; i++) {
		if (take(in, 16) == 0) {
			xr_array_add(calls, gen_value(in, 2));
			continue;
		}
		size_t m = take(in, (unsigned)nmethods);
		struct xr_value *c = xr_struct();
		xr_struct_set(c, "methodName", xr_string(names[m]));
		xr_struct_set(c, "params", gen_params(in, m));
		xr_array_add(calls, c);
	}
	struct xr_value *params = xr_array();
	xr_array_add(params, calls);
	return params;
}

static bool allowed(const char *name)
{
	return !strstr(name, "start") && !strstr(name, "Start") && !strstr(name, "shutdown") &&
	       !strstr(name, "restart");
}

static void call(const char *method, const struct xr_value *params, struct rpc_answer *a)
{
	rpc_dispatch(&rs, method, params, a);
	/* no process ever runs here, so nothing waits: one poll settles it */
	if (a->pending) {
		struct rpc_pending *pd = a->pending;
		a->pending = NULL;
		if (!rpc_poll(&rs, pd, a))
			__builtin_trap();
		rpc_pending_free(pd);
	}
}

static void learn_methods(void)
{
	struct rpc_answer list, sig;
	struct xr_value *none = xr_array();
	call("system.listMethods", none, &list);
	for (size_t i = 0; i < xr_len(list.value) && nmethods < MAX_METHODS; i++) {
		const struct xr_value *name = xr_item(list.value, i);
		if (!allowed(name->u.str.ptr))
			continue;
		struct xr_value *arg = xr_array();
		xr_array_add(arg, xr_string(name->u.str.ptr));
		call("system.methodSignature", arg, &sig);
		xr_free(arg);
		/* the first entry is the return type */
		for (size_t k = 1; k < xr_len(sig.value) && k < sizeof(sigs[0]); k++)
			sigs[nmethods][k - 1] = xr_item(sig.value, k)->u.str.ptr[0];
		names[nmethods++] = strdup(name->u.str.ptr);
		rpc_answer_clear(&sig);
	}
	rpc_answer_clear(&list);
	xr_free(none);
}

static void setup(void)
{
	char dir[] = "/tmp/fuzz_rpc.XXXXXX", path[256], text[2048];
	if (!mkdtemp(dir))
		abort();
	snprintf(text, sizeof(text),
		 "[supervisord]\nlogfile=%s/main.log\nloglevel=critical\n"
		 "[program:cat]\ncommand=/nonexistent/cat\nautostart=false\n"
		 "stdout_logfile=%s/cat.log\nstderr_logfile=%s/cat.err\n"
		 "[program:tail]\ncommand=/nonexistent/tail\nautostart=false\n"
		 "stdout_logfile=NONE\n"
		 "[group:g]\nprograms=cat\n",
		 dir, dir, dir);
	snprintf(path, sizeof(path), "%s/pidvisor.conf", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	snprintf(text, sizeof(text), "%s/cat.log", dir);
	f = fopen(text, "w");
	for (int i = 0; i < 200; i++)
		fprintf(f, "line %d of the program's output\n", i);
	fclose(f);
	struct diag d = {0};
	struct config *cfg = config_load(path, NULL, &d);
	diag_free(&d);
	char *err = NULL;
	if (!cfg || log_open(&cfg->sd, false, &err) < 0)
		abort();
	sv.config_path = strdup(path);
	if (supervisor_init(&sv, ev_loop_new(EVFLAG_AUTO), cfg) < 0)
		abort();
	rs.sv = &sv;
	learn_methods();
}

/* Whatever the dispatch answers must be a well-formed response that parses back. */
static void check_answer(const struct rpc_answer *a)
{
	static const struct xr_limits roomy = {
	    .max_depth = 64, .max_values = 1u << 22, .max_bytes = 1u << 28};
	struct buf xml;
	struct xr_response r;
	char err[256];
	bool encoded;
	buf_init(&xml, 256u << 20);
	if (a->fault)
		encoded = xr_encode_fault(&xml, a->fault, a->fault_text);
	else if (a->value)
		encoded = xr_encode_response(&xml, a->value);
	else
		__builtin_trap(); /* neither a value nor a fault */
	/* an int past int32 cannot be encoded, as in Python: the server answers a fault then */
	if (encoded) {
		if (!xr_parse_response(xml.data, xml.len, &roomy, &r, err, sizeof(err)))
			__builtin_trap();
		if (r.is_fault != (a->fault != 0))
			__builtin_trap();
		xr_response_free(&r);
	}
	buf_free(&xml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	struct input in = {data, size};
	while (in.n) {
		struct xr_value *params;
		const char *method;
		if (take(&in, 4) == 0) {
			method = "system.multicall";
			params = take(&in, 8) ? gen_multicall(&in) : gen_params(&in, 0);
		} else {
			size_t m = take(&in, (unsigned)nmethods);
			method = names[m];
			params = gen_params(&in, m);
		}
		struct rpc_answer a;
		call(method, params, &a);
		check_answer(&a);
		rpc_answer_clear(&a);
		xr_free(params);
	}
	/* a removeProcessGroup may have left a group out: add it back from the same config */
	struct xr_value *g = xr_array();
	for (const char *const *n = (const char *const[]){"g", "tail", NULL}; *n; n++) {
		struct rpc_answer a;
		xr_free(g);
		g = xr_array();
		xr_array_add(g, xr_string(*n));
		call("supervisor.addProcessGroup", g, &a);
		rpc_answer_clear(&a);
	}
	xr_free(g);
	sv.mood = MOOD_RUNNING;
	return 0;
}
