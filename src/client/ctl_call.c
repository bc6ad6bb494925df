/* `pidvisor ctl`'s RPC calls, with supervisorctl's propagation: which failures end an action,
 * which are reported as an uncaught exception, and upcheck (getVersion) before most actions. */
#include "ctl_internal.h"

#include <errno.h>
#include <string.h>

#include "version.h"

static bool ensure_client(struct ctl *c)
{
	if (c->rpc_ready)
		return true;
	char err[256];
	if (!rpc_client_init(&c->rpc, c->serverurl, c->username, c->password, err, sizeof(err))) {
		ctl_out("error: <class 'ValueError'>, %s: file: %s line: 505", err, PY_SUP_XMLRPC);
		c->exitstatus = EXIT_GENERIC;
		return false;
	}
	c->rpc.timeout_ms = c->timeout_ms;
	c->rpc_ready = true;
	return true;
}

/* These wait in the server until the processes have started (startsecs) or stopped
 * (stopwaitsecs), which may take longer than any timeout: only connecting, sending and the
 * answer once it starts are bounded. */
static const char *const waiting_methods[] = {
    "supervisor.startProcess", "supervisor.startProcessGroup", "supervisor.startAllProcesses",
    "supervisor.stopProcess",  "supervisor.stopProcessGroup",  "supervisor.stopAllProcesses",
};

static enum rpc_wait how_to_wait(const char *method)
{
	for (size_t i = 0; i < sizeof(waiting_methods) / sizeof(waiting_methods[0]); i++)
		if (strcmp(method, waiting_methods[i]) == 0)
			return RPC_WAIT_REPLY;
	return RPC_WAIT_DEADLINE;
}

enum rpc_status ctl_call_raw(struct ctl *c, struct rpc_result *r, const char *method,
			     const struct xr_value *const *params, size_t n)
{
	if (!ensure_client(c)) {
		memset(r, 0, sizeof(*r));
		r->status = RPC_PROTOCOL;
		return RPC_PROTOCOL;
	}
	return rpc_call_wait(&c->rpc, method, params, n, how_to_wait(method), r);
}

bool ctl_call(struct ctl *c, struct rpc_result *r, const char *method,
	      const struct xr_value *const *params, size_t n)
{
	enum rpc_status st = ctl_call_raw(c, r, method, params, n);
	if (st == RPC_OK || st == RPC_FAULT)
		return true;
	if (st == RPC_HTTP && r->http_status == 401)
		c->auth_required = *r;
	else if (c->rpc_ready)
		ctl_report(c, r);
	rpc_result_free(r);
	return false;
}

bool ctl_call_s(struct ctl *c, struct rpc_result *r, const char *method, const char *a,
		const char *b)
{
	struct xr_value *p[2] = {a ? xr_string(a) : NULL, b ? xr_string(b) : NULL};
	size_t n = b ? 2 : a ? 1 : 0;
	bool ok = ctl_call(c, r, method, (const struct xr_value *const *)p, n);
	xr_free(p[0]);
	xr_free(p[1]);
	return ok;
}

bool ctl_call_read_log(struct ctl *c, struct rpc_result *r, const char *method, const char *name,
		       long long offset)
{
	struct xr_value *p[3] = {name ? xr_string(name) : NULL, xr_int(offset), xr_int(0)};
	bool ok = name ? ctl_call(c, r, method, (const struct xr_value *const *)p, 3)
		       : ctl_call(c, r, method, (const struct xr_value *const *)p + 1, 2);
	for (int i = 0; i < 3; i++)
		xr_free(p[i]);
	return ok;
}

void ctl_unexpected_fault(struct ctl *c, struct rpc_result *r)
{
	ctl_report(c, r);
	rpc_result_free(r);
}

bool ctl_call_value(struct ctl *c, struct rpc_result *r, const char *method, const char *arg)
{
	if (!ctl_call_s(c, r, method, arg, NULL))
		return false;
	if (r->status == RPC_FAULT) {
		ctl_unexpected_fault(c, r);
		return false;
	}
	return true;
}

bool ctl_upcheck_ex(struct ctl *c, bool *raised)
{
	struct rpc_result r;
	enum rpc_status st = ctl_call_raw(c, &r, "supervisor.getVersion", NULL, 0);
	*raised = true;
	if (!c->rpc_ready)
		return false;
	bool ok = false;
	if (st == RPC_CONNECT && r.sys_errno == ECONNREFUSED) {
		ctl_out("%s refused connection", c->serverurl);
		c->exitstatus = EXIT_INSUFFICIENT_PRIVILEGES;
		*raised = false;
	} else if (st == RPC_CONNECT && r.sys_errno == ENOENT) {
		ctl_out("%s no such file", c->serverurl);
		c->exitstatus = EXIT_NOT_RUNNING;
		*raised = false;
	} else if (st == RPC_FAULT && r.fault_code == XR_UNKNOWN_METHOD) {
		ctl_out(
		    "Sorry, supervisord responded but did not recognize the supervisor namespace "
		    "commands that supervisorctl uses to control it.  Please check that the "
		    "[rpcinterface:supervisor] section is enabled in the configuration file (see "
		    "sample.conf).");
		c->exitstatus = EXIT_UNIMPLEMENTED;
		*raised = false;
	} else if (st == RPC_HTTP && r.http_status == 401) {
		c->auth_required = r;
	} else if (st != RPC_OK) {
		ctl_report(c, &r);
	} else if (r.value->type != XR_STRING ||
		   strcmp(r.value->u.str.ptr, SUPERVISOR_API_VERSION) != 0) {
		ctl_out("Sorry, this version of supervisorctl expects to talk to a server with API "
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

bool ctl_upcheck(struct ctl *c)
{
	bool raised;
	return ctl_upcheck_ex(c, &raised);
}

void ctl_disconnect(struct ctl *c)
{
	rpc_client_close(&c->rpc);
	buf_free(&c->rpc.auth);
	c->rpc_ready = false;
}
