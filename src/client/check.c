/* `pidvisor check`: one connection, one system.multicall (getAllProcessInfo +
 * getAllConfigInfo), a verdict per program and an exit code a container
 * runtime understands. Cheap enough to run every second. */
#include "check.h"
#include "states.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client_config.h"
#include "rpc_client.h"

/* default: Docker HEALTHCHECK; --alive: liveness; --ready: readiness */
enum check_mode { CHECK_HEALTH, CHECK_ALIVE, CHECK_READY };

void check_usage(FILE *out)
{
	fputs("Usage: pidvisor check [-c FILE] [-s URL] [-u USER] [-p PASSWORD] [-t SECONDS]\n"
	      "                      [-a | -r] [-q] [NAME | GROUP:NAME | GROUP:* ...]\n"
	      "\n"
	      "Asks the running supervisor (pidvisor or supervisord) about the named programs;\n"
	      "without names, every program with autostart=true. Three modes:\n"
	      "\n"
	      "  (default)  for Docker HEALTHCHECK: fails on FATAL, UNKNOWN, RUNNING with a\n"
	      "             pidvisor healthcheck that says unhealthy or a missed watchdog_sec,\n"
	      "             a wait for a FATAL dependency, and an unexpected exit still\n"
	      "             EXITED 5 s later (autorestart did not restart it). A restart in\n"
	      "             progress (STARTING, BACKOFF, STOPPING, EXITED about to restart),\n"
	      "             a wait for depends_on and a stop on request are not failures.\n"
	      "  -a, --alive  liveness (Kubernetes livenessProbe): the supervisor answers and\n"
	      "             no named program is dead for good: FATAL, UNKNOWN, or held back\n"
	      "             by a FATAL dependency. Without names, only the answer counts:\n"
	      "             a program with shutdown_on makes pidvisor exit when it fails.\n"
	      "  -r, --ready  readiness (readinessProbe, startupProbe): every program RUNNING\n"
	      "             (and healthy, if it has a healthcheck), a finished one-shot (EXITED\n"
	      "             with an expected code) or stopped on request.\n"
	      "\n"
	      "A program stopped on request (STOPPED after it ran) never fails; a named\n"
	      "program that was never started fails the default and --ready modes.\n"
	      "\n"
	      "  -c, --configuration FILE  find the server URL in FILE, as supervisorctl does\n"
	      "  -s, --serverurl URL       unix:///path or http://host:port (overrides -c)\n"
	      "  -u, --username USER       -p, --password PASSWORD: HTTP basic auth\n"
	      "  -t, --timeout SECONDS     give up after SECONDS, one deadline for connecting,\n"
	      "                            sending and the whole answer (default 5)\n"
	      "  -q, --quiet               print nothing when healthy\n"
	      "  -h, --help                this text\n"
	      "\n"
	      "Exit status: 0 healthy, 1 unhealthy (one line names each unhealthy program\n"
	      "and its state), 2 usage error, 3 no usable answer (cannot connect, refused\n"
	      "credentials, timed out, or not a supervisor).\n",
	      out);
}

/* system.multicall([{methodName, params}...]) */
static struct xr_value *multicall_params(void)
{
	static const char *const methods[] = {"supervisor.getAllProcessInfo",
					      "supervisor.getAllConfigInfo"};
	struct xr_value *calls = xr_array();
	for (size_t i = 0; i < 2; i++) {
		struct xr_value *call = xr_struct();
		if (!xr_struct_set(call, "methodName", xr_string(methods[i])) ||
		    !xr_struct_set(call, "params", xr_array()) || !xr_array_add(calls, call)) {
			xr_free(calls);
			return NULL;
		}
	}
	return calls;
}

/* supervisord answers each call with its raw value; the multicall spec wraps
 * it in a one-element array. A process list never holds an array, so both
 * are read. NULL for a fault struct. */
static const struct xr_value *multicall_result(const struct xr_value *results, size_t i)
{
	const struct xr_value *v = xr_item(results, i);
	if (!v || xr_member(v, "faultCode"))
		return NULL;
	if (v->type == XR_ARRAY && xr_len(v) == 1 && xr_item(v, 0)->type == XR_ARRAY)
		v = xr_item(v, 0);
	return v->type == XR_ARRAY ? v : NULL;
}

static const struct xr_value *find_config(const struct xr_value *configs, const char *group,
					  const char *name)
{
	for (size_t i = 0; i < xr_len(configs); i++) {
		const struct xr_value *c = xr_item(configs, i);
		if (strcmp(xr_member_str(c, "group", ""), group) == 0 &&
		    strcmp(xr_member_str(c, "name", ""), name) == 0)
			return c;
	}
	return NULL;
}

static bool expected_exit(const struct xr_value *config, long long status)
{
	const struct xr_value *codes = xr_member(config, "exitcodes");
	for (size_t i = 0; i < xr_len(codes); i++)
		if (xr_item(codes, i)->type == XR_INT && xr_item(codes, i)->u.i == status)
			return true;
	return false;
}

static bool described_as(const struct xr_value *info, const char *prefix)
{
	return !strncmp(xr_member_str(info, "description", ""), prefix, strlen(prefix));
}

/* pidvisor's description of a program that waits for its depends_on */
static bool waiting(const struct xr_value *info)
{
	return xr_member_int(info, "state", -1) == PS_STOPPED && described_as(info, "waiting for ");
}

/* An EXITED program whose autorestart restarts it does so within FSM_RESTART_INTERVAL
 * (pidvisor) or one turn of supervisord's loop (a poll of 1 s); neither server reports
 * autorestart, so an unexpected exit counts as a restart in progress for this long, by the
 * server's own clock. */
#define CHECK_RESTART_GRACE 5

/* Whether a process fails the probe; the table is in docs/pidvisor-check.1. A program stopped
 * on request (STOPPED after a start) never fails. */
static bool failing(const struct xr_value *info, const struct xr_value *config,
		    enum check_mode mode)
{
	long long state = xr_member_int(info, "state", -1);
	const char *health = xr_member_str(info, "health", NULL);
	switch (state) {
	case PS_RUNNING:
		if (!health || mode == CHECK_ALIVE)
			return false;
		if (mode == CHECK_READY)
			return strcmp(health, "healthy") != 0;
		return strcmp(health, "unhealthy") == 0;
	case PS_STOPPED:
		if (waiting(info))
			return mode == CHECK_READY;
		if (described_as(info, "not started: "))
			return true; /* held back for good by a FATAL dependency */
		if (xr_member_int(info, "start", 0))
			return false;
		/* never started: an autostart program is about to be */
		return mode == CHECK_READY ||
		       (mode == CHECK_HEALTH &&
			!(config && xr_member_bool(config, "autostart", false)));
	case PS_STARTING:
	case PS_BACKOFF:
	case PS_STOPPING:
		return mode == CHECK_READY;
	case PS_EXITED:
		if (mode == CHECK_ALIVE ||
		    (config && expected_exit(config, xr_member_int(info, "exitstatus", -1))))
			return false;
		if (xr_member_int(info, "now", 0) - xr_member_int(info, "stop", 0) <
		    CHECK_RESTART_GRACE)
			return mode == CHECK_READY;
		return true;
	default: /* FATAL, UNKNOWN */
		return true;
	}
}

/* Without names, the autostart programs; --alive looks only at the named ones. */
static bool selected(const struct xr_value *info, const struct xr_value *config, char **names,
		     int nnames, enum check_mode mode)
{
	const char *group = xr_member_str(info, "group", ""),
		   *name = xr_member_str(info, "name", "");
	if (!nnames)
		return mode != CHECK_ALIVE && config && xr_member_bool(config, "autostart", false);
	for (int i = 0; i < nnames; i++) {
		const char *colon = strchr(names[i], ':');
		if (!colon) {
			if (strcmp(group, names[i]) == 0 && strcmp(name, names[i]) == 0)
				return true;
		} else if (strlen(group) == (size_t)(colon - names[i]) &&
			   strncmp(group, names[i], strlen(group)) == 0 &&
			   (strcmp(colon + 1, "*") == 0 || strcmp(colon + 1, name) == 0)) {
			return true;
		}
	}
	return false;
}

static bool name_matches_any(const struct xr_value *infos, const char *spec)
{
	for (size_t i = 0; i < xr_len(infos); i++)
		if (selected(xr_item(infos, i), NULL, (char **)&spec, 1, CHECK_HEALTH))
			return true;
	return false;
}

static void add_problem(struct buf *problems, const char *what)
{
	buf_printf(problems, "%s%s", problems->len ? ", " : "", what);
}

static int judge(const struct xr_value *infos, const struct xr_value *configs, char **names,
		 int nnames, bool quiet, enum check_mode mode)
{
	struct buf problems;
	buf_init(&problems, 64 * 1024);
	size_t checked = 0;
	for (int i = 0; i < nnames; i++) {
		if (!name_matches_any(infos, names[i])) {
			char what[600];
			snprintf(what, sizeof(what), "%.500s: no such process", names[i]);
			add_problem(&problems, what);
		}
	}
	for (size_t i = 0; i < xr_len(infos); i++) {
		const struct xr_value *info = xr_item(infos, i);
		const char *group = xr_member_str(info, "group", ""),
			   *name = xr_member_str(info, "name", "");
		const struct xr_value *config = find_config(configs, group, name);
		if (!selected(info, config, names, nnames, mode))
			continue;
		checked++;
		if (!failing(info, config, mode))
			continue;
		struct buf what;
		buf_init(&what, 4096);
		if (strcmp(group, name) == 0)
			buf_puts(&what, name);
		else
			buf_printf(&what, "%s:%s", group, name);
		buf_printf(&what, " is %s", xr_member_str(info, "statename", "UNKNOWN"));
		const char *health = xr_member_str(info, "health", NULL);
		if (xr_member_int(info, "state", -1) == PS_EXITED)
			buf_printf(&what, " (exit status %lld)",
				   xr_member_int(info, "exitstatus", -1));
		else if (xr_member_int(info, "state", -1) == PS_RUNNING && health)
			buf_printf(&what, " but %s", health);
		else if (waiting(info) || described_as(info, "not started: "))
			buf_printf(&what, " (%s)", xr_member_str(info, "description", ""));
		add_problem(&problems, what.data ? what.data : "");
		buf_free(&what);
	}
	int rc = problems.len ? CHECK_UNHEALTHY : CHECK_HEALTHY;
	if (rc == CHECK_UNHEALTHY)
		printf("unhealthy: %s\n", problems.data);
	else if (!quiet)
		printf("healthy: %zu process%s\n", checked, checked == 1 ? "" : "es");
	buf_free(&problems);
	return rc;
}

struct check_opts {
	const char *configfile, *url, *user, *pass;
	double timeout;
	bool quiet;
	enum check_mode mode;
};

/* -1 to go on with o filled, else the exit status (help, or a usage error reported). */
static int parse_options(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
	    {"configuration", required_argument, NULL, 'c'},
	    {"serverurl", required_argument, NULL, 's'},
	    {"username", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"ready", no_argument, NULL, 'r'},
	    {"alive", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+c:s:u:p:t:qrah", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c':
			o->configfile = optarg;
			break;
		case 's':
			o->url = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'p':
			o->pass = optarg;
			break;
		case 't':
			o->timeout = strtod(optarg, &end);
			if (*end || o->timeout <= 0 || o->timeout > 86400) {
				fprintf(stderr, "pidvisor check: -t wants seconds > 0, not '%s'\n",
					optarg);
				return CHECK_USAGE;
			}
			break;
		case 'a':
		case 'r':
			if (o->mode != CHECK_HEALTH) {
				fprintf(stderr,
					"pidvisor check: --alive and --ready exclude each other\n");
				return CHECK_USAGE;
			}
			o->mode = opt == 'a' ? CHECK_ALIVE : CHECK_READY;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			check_usage(stdout);
			return CHECK_HEALTHY;
		default:
			fprintf(stderr, "Try 'pidvisor check --help'.\n");
			return CHECK_USAGE;
		}
	}
	return -1;
}

/* The one multicall and the verdict on its answer; without a usable answer, the reason. */
static int probe(struct rpc_client *rpc, const char *url, char **names, int nnames,
		 const struct check_opts *o)
{
	int rc = CHECK_NO_ANSWER;
	struct xr_value *calls = multicall_params();
	struct rpc_result r;
	enum rpc_status st =
	    calls ? rpc_call(rpc, "system.multicall", (const struct xr_value *const *)&calls, 1, &r)
		  : RPC_PROTOCOL;
	const struct xr_value *infos = NULL, *configs = NULL;
	if (st == RPC_OK) {
		infos = multicall_result(r.value, 0);
		configs = multicall_result(r.value, 1);
	}
	if (st == RPC_CONNECT)
		printf("no answer: %s: %s\n", url, r.message);
	else if (st == RPC_HTTP)
		printf("no answer: %s: HTTP %d %s\n", url, r.http_status, r.reason);
	else if (st == RPC_FAULT)
		printf("no answer: %s: %s\n", url, r.fault_string);
	else if (st != RPC_OK)
		printf("no answer: %s: %s\n", url, calls ? r.message : "out of memory");
	else if (!infos || !configs)
		printf("no answer: %s: the server could not list its processes\n", url);
	else
		rc = judge(infos, configs, names, nnames, o->quiet, o->mode);
	if (calls)
		rpc_result_free(&r);
	xr_free(calls);
	return rc;
}

int check_main(int argc, char **argv)
{
	struct check_opts o = {.timeout = 5, .mode = CHECK_HEALTH};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	struct client_config cfg = {0};
	char err[8192];
	const char *url = o.url;
	if (!url && !client_config_load(o.configfile, argv[0], &cfg, err, sizeof(err))) {
		fprintf(stderr, "pidvisor check: %s\n", err);
		return CHECK_USAGE;
	}
	if (!url)
		url = cfg.serverurl ? cfg.serverurl : "http://localhost:9001";
	struct rpc_client rpc;
	if (!rpc_client_init(&rpc, url, o.user ? o.user : cfg.username,
			     o.pass ? o.pass : cfg.password, err, sizeof(err))) {
		fprintf(stderr, "pidvisor check: %s\n", err);
		client_config_free(&cfg);
		return CHECK_USAGE;
	}
	rpc.timeout_ms = o.timeout < 0.001 ? 1 : (int)(o.timeout * 1000);
	rc = probe(&rpc, url, argv + optind, argc - optind, &o);
	rpc_client_close(&rpc);
	buf_free(&rpc.auth);
	client_config_free(&cfg);
	return rc;
}
