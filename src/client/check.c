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

void check_usage(FILE *out)
{
	fputs("Usage: pidvisor check [-c FILE] [-s URL] [-u USER] [-p PASSWORD] [-t SECONDS] [-r]\n"
	      "                      [NAME | GROUP:NAME | GROUP:* ...]\n"
	      "\n"
	      "Asks the running supervisor (pidvisor or supervisord) whether the named\n"
	      "programs are healthy; without names, every program with autostart=true.\n"
	      "A process is healthy when it is RUNNING, or when it is a finished one-shot:\n"
	      "EXITED with an exit code listed in its exitcodes, and either autorestart=false\n"
	      "(reported by pidvisor) or, against supervisord, which does not report\n"
	      "autorestart, simply EXITED with an expected code (it will not be restarted\n"
	      "unless autorestart=true, in which case it would not stay EXITED).\n"
	      "STARTING, BACKOFF, STOPPING, STOPPED, FATAL and UNKNOWN are unhealthy.\n"
	      "A program with a pidvisor healthcheck is healthy only while its check says so.\n"
	      "A program that waits for its depends_on counts as healthy (the container is\n"
	      "alive, still starting) unless --ready is given.\n"
	      "\n"
	      "  -c, --configuration FILE  find the server URL in FILE, as supervisorctl does\n"
	      "  -s, --serverurl URL       unix:///path or http://host:port (overrides -c)\n"
	      "  -u, --username USER       -p, --password PASSWORD: HTTP basic auth\n"
	      "  -t, --timeout SECONDS     give up after SECONDS, one deadline for connecting,\n"
	      "                            sending and the whole answer (default 5)\n"
	      "  -q, --quiet               print nothing when healthy\n"
	      "  -r, --ready               readiness: programs waiting for their depends_on\n"
	      "                            are not ready (for Kubernetes readinessProbe)\n"
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

/* autorestart=false as bool, int or string; absent (supervisord) = unknown. */
static int autorestart_false(const struct xr_value *config)
{
	const struct xr_value *v = xr_member(config, "autorestart");
	if (!v)
		return -1;
	if (v->type == XR_BOOL)
		return !v->u.b;
	if (v->type == XR_INT)
		return v->u.i == 0;
	if (v->type == XR_STRING)
		return strcmp(v->u.str.ptr, "false") == 0;
	return -1;
}

/* pidvisor's description of a program that waits for its depends_on */
static bool waiting(const struct xr_value *info)
{
	return xr_member_int(info, "state", -1) == PS_STOPPED &&
	       !strncmp(xr_member_str(info, "description", ""), "waiting for ", 12);
}

/* Liveness: a program that waits for its dependencies is not a failure; readiness (--ready)
 * wants it up. A program with a health check counts only when its check says healthy. */
static bool healthy(const struct xr_value *info, const struct xr_value *config, bool ready)
{
	long long state = xr_member_int(info, "state", -1);
	const char *health = xr_member_str(info, "health", NULL);
	if (state == PS_RUNNING)
		return !health || !strcmp(health, "healthy");
	if (waiting(info))
		return !ready;
	if (state != PS_EXITED || !config ||
	    !expected_exit(config, xr_member_int(info, "exitstatus", -1)))
		return false;
	return autorestart_false(config) != 0;
}

static bool selected(const struct xr_value *info, const struct xr_value *config, char **names,
		     int nnames)
{
	const char *group = xr_member_str(info, "group", ""),
		   *name = xr_member_str(info, "name", "");
	if (!nnames)
		return config && xr_member_bool(config, "autostart", false);
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
		if (selected(xr_item(infos, i), NULL, (char **)&spec, 1))
			return true;
	return false;
}

static void add_problem(struct buf *problems, const char *what)
{
	buf_printf(problems, "%s%s", problems->len ? ", " : "", what);
}

static int judge(const struct xr_value *infos, const struct xr_value *configs, char **names,
		 int nnames, bool quiet, bool ready)
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
		if (!selected(info, config, names, nnames))
			continue;
		checked++;
		if (healthy(info, config, ready))
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
		else if (waiting(info) ||
			 !strncmp(xr_member_str(info, "description", ""), "not started: ", 13))
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

int check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"configuration", required_argument, NULL, 'c'},
	    {"serverurl", required_argument, NULL, 's'},
	    {"username", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"ready", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *configfile = NULL, *url = NULL, *user = NULL, *pass = NULL;
	double timeout = 5;
	bool quiet = false, ready = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+c:s:u:p:t:qrh", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c':
			configfile = optarg;
			break;
		case 's':
			url = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || timeout <= 0 || timeout > 86400) {
				fprintf(stderr, "pidvisor check: -t wants seconds > 0, not '%s'\n",
					optarg);
				return CHECK_USAGE;
			}
			break;
		case 'r':
			ready = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			check_usage(stdout);
			return CHECK_HEALTHY;
		default:
			fprintf(stderr, "Try 'pidvisor check --help'.\n");
			return CHECK_USAGE;
		}
	}
	struct client_config cfg = {0};
	char err[8192];
	if (!url && !client_config_load(configfile, argv[0], &cfg, err, sizeof(err))) {
		fprintf(stderr, "pidvisor check: %s\n", err);
		return CHECK_USAGE;
	}
	if (!url)
		url = cfg.serverurl ? cfg.serverurl : "http://localhost:9001";
	struct rpc_client rpc;
	int rc = CHECK_NO_ANSWER;
	if (!rpc_client_init(&rpc, url, user ? user : cfg.username, pass ? pass : cfg.password, err,
			     sizeof(err))) {
		fprintf(stderr, "pidvisor check: %s\n", err);
		client_config_free(&cfg);
		return CHECK_USAGE;
	}
	rpc.timeout_ms = timeout < 0.001 ? 1 : (int)(timeout * 1000);
	struct xr_value *calls = multicall_params();
	struct rpc_result r;
	enum rpc_status st = calls ? rpc_call(&rpc, "system.multicall",
					      (const struct xr_value *const *)&calls, 1, &r)
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
		rc = judge(infos, configs, argv + optind, argc - optind, quiet, ready);
	if (calls)
		rpc_result_free(&r);
	xr_free(calls);
	rpc_client_close(&rpc);
	buf_free(&rpc.auth);
	client_config_free(&cfg);
	return rc;
}
