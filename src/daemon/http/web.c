#include "web.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "metrics.h"
#include "states.h"
#include "supervisor.h"
#include "version.h"
#include "xr_json.h"

#define PAGE_MAX (64 * 1024 * 1024) /* a page, an API answer or the metrics */
#define TAIL_MAX 65536		    /* tail.html shows at most this much */

static char token[33]; /* hex; the page's forms carry it */

void web_init(void)
{
	unsigned char raw[16] = {0};
	if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw)) {
		/* no entropy yet at early boot: the clock and pid still make it unguessable to a
		 * page that cannot read our memory */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^
				       ((unsigned long long)ts.tv_sec << 20) ^
				       ((unsigned long long)getpid() << 40);
		memcpy(raw, &x, sizeof(x));
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
}

/* A form value from a query string or a urlencoded body: percent-decoded, '+' as space. */
static bool form_get(const char *form, size_t len, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);
	const char *p = form, *end = form + len;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			http_percent_decode(out, n, v, (size_t)(stop - v), true);
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

static void url_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-_.~:", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static void html(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

/* One synchronous call through the same dispatcher as /RPC2. */
static void call(struct rpc_server *rs, const char *method, struct xr_value *params,
		 struct rpc_answer *a)
{
	memset(a, 0, sizeof(*a));
	rpc_dispatch(rs, method, params, a);
	xr_free(params);
}

static struct xr_value *one_string(const char *s)
{
	struct xr_value *params = xr_array();
	xr_array_add(params, xr_string(s));
	return params;
}

static void reply_text(struct web_reply *r, int status, const char *type, const char *text)
{
	r->status = status;
	r->content_type = type;
	buf_puts(&r->body, text);
}

static void now_ctime(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, n, "%a %b %e %H:%M:%S %Y", &tm);
}

static void redirect(struct web_reply *r, const char *message)
{
	struct buf loc = {0};
	buf_puts(&loc, "index.html?message=");
	url_encode(&loc, message);
	snprintf(r->location, sizeof(r->location), "%s", loc.data ? loc.data : "index.html");
	buf_free(&loc);
	r->status = 303;
	r->content_type = "text/plain";
	buf_puts(&r->body, message);
}

/* ---- the status page ---- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>pidvisor status</title><style>"
    "body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}"
    "header{background:#1d2330;color:#fff;padding:.8em 1em;display:flex;flex-wrap:wrap;"
    "gap:.6em;align-items:center}header h1{font-size:1.1em;margin:0}"
    ".meta{margin-right:auto;color:#c5cbd8;font-size:.85em}.tails{font-size:.8em;white-space:"
    "nowrap}"
    "header form{display:inline}main{padding:1em;max-width:75em;margin:auto}"
    "button,.btn{font:inherit;border:1px solid #9aa3b5;background:#fff;border-radius:4px;"
    "padding:.15em .6em;cursor:pointer;color:#1d2330;text-decoration:none}"
    "header button,header .btn{background:#2f3850;color:#fff;border-color:#56607a}"
    "#message{background:#fff7d6;border:1px solid #e6cf73;padding:.5em .8em;margin-bottom:1em}"
    "#filter{font:inherit;padding:.3em .5em;width:16em;max-width:100%}"
    "table{border-collapse:collapse;width:100%;background:#fff;margin-top:.8em}"
    "th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #e3e6ec}"
    "th{background:#eceff4;font-weight:600}td.acts "
    "form{display:inline}form[hidden]{display:none!important}"
    ".st{font-weight:600;border-radius:3px;padding:.1em .5em;font-size:.85em}"
    ".statusrunning .st{background:#d6f5dd;color:#146c2e}"
    ".statuserror .st{background:#fbdada;color:#a11d1d}"
    ".statusnominal .st{background:#e6e8ee;color:#444b5a}"
    "@media (max-width:640px){thead{display:none}tr{display:block;border-bottom:2px solid "
    "#d5d9e2}td{display:block;border:0;padding:.25em .6em}td.acts{padding-bottom:.6em}}"
    "</style></head><body>\n";

static const char page_script[] =
    "<script>\n"
    "(function(){\n"
    "var f=document.getElementById('filter'),timer=null;\n"
    "function cls(s){return s=='RUNNING'?'statusrunning':(s=='FATAL'||s=='BACKOFF')?"
    "'statuserror':'statusnominal';}\n"
    "function apply(){var q=f.value.toLowerCase();document.querySelectorAll('tbody tr')"
    ".forEach(function(r){var t=(r.dataset.name+' '+r.querySelector('.st').textContent)"
    ".toLowerCase();r.style.display=t.indexOf(q)<0?'none':'';});}\n"
    "f.addEventListener('input',apply);\n"
    "function banner(text){var m=document.getElementById('message');if(!m){m=document"
    ".createElement('div');m.id='message';document.querySelector('main').prepend(m);}"
    "m.textContent=text;}\n"
    /* the running program's buttons are Restart and Stop, a stopped one's Start */
    "function buttons(r,running){r.querySelectorAll('form').forEach(function(fm){var a="
    "fm.elements.action.value;if(a=='start')fm.hidden=running;if(a=='stop'||a=='restart')"
    "fm.hidden=!running;});}\n"
    /* as resource_text() writes it */
    "function res(p){return p.rss_bytes==null?'':'CPU '+p.cpu_seconds.toFixed(2)+' s, RSS '+"
    "(p.rss_bytes/1048576).toFixed(1)+' MiB, '+p.fds+' fds, '+p.threads+' threads';}\n"
    "function update(list){var rows=document.querySelectorAll('tbody tr');"
    "if(rows.length!=list.length){location.reload();return;}\n"
    "list.forEach(function(p){var r=document.querySelector('tr[data-name=\"'+"
    "CSS.escape(p.namespec)+'\"]');if(!r){location.reload();return;}\n"
    "r.className=cls(p.statename);r.querySelector('.st').textContent=p.statename;"
    "r.querySelector('.desc').textContent=p.description;"
    "r.querySelector('.res').textContent=res(p);buttons(r,['STARTING','RUNNING',"
    "'BACKOFF','STOPPING'].indexOf(p.statename)>=0);});apply();}\n"
    "function tick(){clearTimeout(timer);fetch('api/processes',{cache:'no-store'})"
    ".then(function(r){return r.json();}).then(update).catch(function(){})"
    ".then(function(){timer=setTimeout(tick,1000);});}\n"
    /* with JavaScript the forms act in place: the same POST, then the banner and rows */
    "document.addEventListener('submit',function(e){var fm=e.target;e.preventDefault();"
    "if(fm.elements.action.value=='stopall'&&!confirm('Stop every program?'))return;"
    "var bs=fm.querySelectorAll('button');bs.forEach(function(b){b.disabled=true;});"
    "fetch(fm.getAttribute('action'),{method:'POST',body:new URLSearchParams(new FormData(fm))})"
    ".then(function(r){var m=new URL(r.url).searchParams.get('message');if(m)banner(m);"
    "else if(!r.ok)banner('Error '+r.status);}).catch(function(){banner('No answer');})"
    ".then(function(){bs.forEach(function(b){b.disabled=false;});tick();});});\n"
    "document.querySelectorAll('tbody tr').forEach(function(r){buttons(r,['STARTING',"
    "'RUNNING','BACKOFF','STOPPING'].indexOf(r.querySelector('.st').textContent)>=0);});\n"
    "timer=setTimeout(tick,1000);})();\n"
    "</script>\n";

static const char *state_class(long long state)
{
	if (state == PS_RUNNING)
		return "statusrunning";
	if (state == PS_FATAL || state == PS_BACKOFF)
		return "statuserror";
	return "statusnominal";
}

/* A process's resources when getProcessInfo has them (memory_max, process_resources). */
static void resource_text(struct buf *b, const struct xr_value *p)
{
	const struct xr_value *cpu = xr_member(p, "cpu_seconds"), *rss = xr_member(p, "rss_bytes");
	if (!cpu || !rss || cpu->type != XR_DOUBLE || rss->type != XR_DOUBLE)
		return;
	buf_printf(b, "CPU %.2f s, RSS %.1f MiB, %lld fds, %lld threads", cpu->u.d,
		   rss->u.d / 1048576, xr_member_int(p, "fds", 0), xr_member_int(p, "threads", 0));
}

static void action_form(struct buf *b, const char *spec, const char *action, const char *label,
			bool hidden)
{
	buf_printf(b, "<form method=\"post\" action=\"index.html\"%s>", hidden ? " hidden" : "");
	if (spec) {
		buf_puts(b, "<input type=\"hidden\" name=\"processname\" value=\"");
		html(b, spec);
		buf_puts(b, "\">");
	}
	buf_printf(b,
		   "<input type=\"hidden\" name=\"action\" value=\"%s\">"
		   "<input type=\"hidden\" name=\"token\" value=\"%s\">"
		   "<button type=\"submit\" name=\"do\" value=\"%s\">%s</button></form> ",
		   action, token, action, label);
}

static void render_page(struct rpc_server *rs, const char *message, struct web_reply *r)
{
	struct rpc_answer a;
	call(rs, "supervisor.getAllProcessInfo", xr_array(), &a);
	struct buf *b = &r->body;
	buf_puts(b, page_head);
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	buf_puts(b, "<header><h1>pidvisor</h1><span class=\"meta\">" PIDVISOR_VERSION
		    " (supervisord " SUPERVISOR_VERSION ") on ");
	html(b, host);
	buf_puts(b, "</span><a class=\"btn\" href=\"index.html?action=refresh\">Refresh</a> ");
	action_form(b, NULL, "restartall", "Restart All", false);
	action_form(b, NULL, "stopall", "Stop All", false);
	buf_puts(b, "</header><main>");
	if (message && *message) {
		buf_puts(b, "<div id=\"message\">");
		html(b, message);
		buf_puts(b, "</div>");
	}
	buf_puts(b, "<input id=\"filter\" type=\"search\" placeholder=\"Filter by name or state\" "
		    "aria-label=\"Filter\">"
		    "<table><thead><tr><th>State</th><th>Description</th><th>Resources</th>"
		    "<th>Name</th><th>Action</th></tr></thead><tbody>\n");
	size_t n = a.value && a.value->type == XR_ARRAY ? a.value->u.array.len : 0;
	for (size_t i = 0; i < n; i++) {
		const struct xr_value *p = a.value->u.array.items[i];
		const char *group = xr_member_str(p, "group", ""),
			   *name = xr_member_str(p, "name", "");
		char spec[1024];
		if (strcmp(group, name) == 0)
			snprintf(spec, sizeof(spec), "%s", name);
		else
			snprintf(spec, sizeof(spec), "%s:%s", group, name);
		long long state = xr_member_int(p, "state", PS_UNKNOWN);
		buf_printf(b, "<tr class=\"%s\" data-name=\"", state_class(state));
		html(b, spec);
		buf_puts(b, "\"><td><span class=\"st\">");
		html(b, xr_member_str(p, "statename", "UNKNOWN"));
		buf_puts(b, "</span></td><td class=\"desc\">");
		html(b, xr_member_str(p, "description", ""));
		buf_puts(b, "</td><td class=\"res\">");
		resource_text(b, p);
		struct buf enc = {0};
		url_encode(&enc, spec);
		const char *e = enc.data ? enc.data : "";
		/* why a FATAL or BACKOFF program failed is on its stderr, its stdout often empty */
		buf_printf(b, "</td><td><a class=\"name\" href=\"tail.html?processname=");
		html(b, e);
		buf_puts(b, state == PS_FATAL || state == PS_BACKOFF ? "&amp;stream=stderr\">"
								     : "\">");
		html(b, spec);
		buf_puts(b, "</a> <span class=\"tails\"><a href=\"logtail/");
		html(b, e);
		buf_puts(b, "\">Tail -f Stdout</a> <a href=\"logtail/");
		html(b, e);
		buf_puts(b, "/stderr\">Tail -f Stderr</a></span></td><td class=\"acts\">");
		buf_free(&enc);
		bool running = proc_state_running((enum proc_state)state) || state == PS_STOPPING;
		action_form(b, spec, "start", "Start", running);
		action_form(b, spec, "restart", "Restart", !running);
		action_form(b, spec, "stop", "Stop", !running);
		action_form(b, spec, "clearlog", "Clear Log", false);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody></table></main>\n");
	buf_puts(b, page_script);
	buf_puts(b, "</body></html>\n");
	rpc_answer_clear(&a);
	r->status = b->failed ? 500 : 200;
	r->content_type = "text/html; charset=utf-8";
}

static void render_tail(struct rpc_server *rs, const char *query, size_t qlen, struct web_reply *r)
{
	char name[512], limit_s[32], stream[16] = "";
	bool have = form_get(query, qlen, "processname", name, sizeof(name)) && *name;
	form_get(query, qlen, "stream", stream, sizeof(stream));
	bool err = !strcmp(stream, "stderr");
	long long limit = 1024;
	if (form_get(query, qlen, "limit", limit_s, sizeof(limit_s))) {
		char *end;
		long long v = strtoll(limit_s, &end, 10);
		if (!*end && v > 0)
			limit = v < TAIL_MAX ? v : TAIL_MAX;
	}
	struct buf text = {0};
	if (!have) {
		buf_puts(&text, "No process name found");
	} else {
		struct xr_value *params = one_string(name);
		xr_array_add(params, xr_int(-limit));
		xr_array_add(params, xr_int(0));
		struct rpc_answer a;
		call(rs,
		     err ? "supervisor.readProcessStderrLog" : "supervisor.readProcessStdoutLog",
		     params, &a);
		if (a.fault == XR_NO_FILE)
			buf_printf(&text, "No file for %s", name);
		else if (a.fault)
			buf_printf(&text, "ERROR: unexpected rpc fault [%d] %s", a.fault,
				   a.fault_text);
		else if (a.value && a.value->type == XR_STRING)
			buf_append(&text, a.value->u.str.ptr, a.value->u.str.len);
		rpc_answer_clear(&a);
	}
	struct buf *b = &r->body;
	buf_puts(b, page_head);
	buf_puts(b, "<header><h1>Tail of ");
	html(b, have ? name : "?");
	buf_puts(b, err ? " (stderr)" : " (stdout)");
	buf_puts(b, "</h1><a class=\"btn\" href=\"index.html\">Back</a> ");
	if (have) {
		struct buf enc = {0};
		url_encode(&enc, name);
		const char *e = enc.data ? enc.data : "";
		buf_puts(b, "<a class=\"btn\" href=\"tail.html?processname=");
		html(b, e);
		buf_printf(b, "&amp;limit=%lld%s\">Refresh</a> ", limit,
			   err ? "&amp;stream=stderr" : "");
		buf_puts(b, "<a class=\"btn\" href=\"tail.html?processname=");
		html(b, e);
		buf_printf(b, "&amp;limit=%lld%s\">%s</a>", limit, err ? "" : "&amp;stream=stderr",
			   err ? "Stdout" : "Stderr");
		buf_free(&enc);
	}
	buf_puts(b, "</header><main><pre id=\"tailbody\">");
	html(b, text.data ? text.data : "");
	buf_puts(b, "</pre></main></body></html>\n");
	buf_free(&text);
	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
}

static void api_processes(struct rpc_server *rs, const char *name, struct web_reply *r)
{
	struct rpc_answer a;
	if (name) {
		call(rs, "supervisor.getProcessInfo", one_string(name), &a);
		if (a.fault) {
			r->status = a.fault == XR_BAD_NAME ? 404 : 500;
			r->content_type = "application/json";
			buf_puts(&r->body, "{\"fault\":");
			buf_printf(&r->body, "%d,\"faultString\":", a.fault);
			json_string(&r->body, a.fault_text, strlen(a.fault_text));
			buf_puts(&r->body, "}\n");
		} else {
			xr_process_json(&r->body, a.value);
			buf_putc(&r->body, '\n');
			r->status = 200;
			r->content_type = "application/json";
		}
		rpc_answer_clear(&a);
		return;
	}
	call(rs, "supervisor.getAllProcessInfo", xr_array(), &a);
	buf_putc(&r->body, '[');
	size_t n = a.value && a.value->type == XR_ARRAY ? a.value->u.array.len : 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(&r->body, ",\n");
		xr_process_json(&r->body, a.value->u.array.items[i]);
	}
	buf_puts(&r->body, "]\n");
	rpc_answer_clear(&a);
	r->status = 200;
	r->content_type = "application/json";
}

/* ---- actions ---- */

static const struct {
	const char *name;
	bool with_name;
	const char *steps[WEB_STEPS_MAX];
} actions[] = {
    {"start", true, {"supervisor.startProcess"}},
    {"stop", true, {"supervisor.stopProcess"}},
    {"restart", true, {"supervisor.stopProcess", "supervisor.startProcess"}},
    {"clearlog", true, {"supervisor.clearProcessLogs"}},
    {"stopall", false, {"supervisor.stopAllProcesses"}},
    {"restartall", false, {"supervisor.stopAllProcesses", "supervisor.startAllProcesses"}},
};

/* supervisord's words for a failed start */
static const char *start_fault(int code)
{
	switch (code) {
	case XR_NO_FILE:
		return "no such file";
	case XR_NOT_EXECUTABLE:
		return "file not executable";
	case XR_ALREADY_STARTED:
		return "already started";
	case XR_SPAWN_ERROR:
		return "spawn error";
	case XR_ABNORMAL_TERMINATION:
		return "abnormal termination";
	default:
		return NULL;
	}
}

static void note_fault(struct web_action *a, const char *method, struct rpc_answer *ans)
{
	if (!ans->fault || a->error[0])
		return;
	/* a restart of a stopped process: its stop has nothing to do, as in supervisord */
	if (ans->fault == XR_NOT_RUNNING && strstr(method, "stop"))
		return;
	const char *why = strstr(method, "start") ? start_fault(ans->fault) : NULL;
	if (why)
		snprintf(a->error, sizeof(a->error), "ERROR: Process %s: %s", a->namespec, why);
	else
		snprintf(a->error, sizeof(a->error), "unexpected rpc fault [%d] %.500s", ans->fault,
			 ans->fault_text);
}

static void finish_message(const struct web_action *a, char *out, size_t n)
{
	char when[64];
	now_ctime(when, sizeof(when));
	if (a->error[0])
		snprintf(out, n, "%s", a->error);
	else if (!strcmp(a->what, "start"))
		snprintf(out, n, "Process %s started", a->namespec);
	else if (!strcmp(a->what, "stop"))
		snprintf(out, n, "Process %s stopped", a->namespec);
	else if (!strcmp(a->what, "restart"))
		snprintf(out, n, "Process %s restarted", a->namespec);
	else if (!strcmp(a->what, "clearlog"))
		snprintf(out, n, "Log for %s cleared", a->namespec);
	else if (!strcmp(a->what, "stopall"))
		snprintf(out, n, "All stopped at %s", when);
	else
		snprintf(out, n, "All restarted at %s", when);
}

bool web_action_poll(struct rpc_server *rs, struct web_action *a, struct web_reply *reply)
{
	for (;;) {
		struct rpc_answer ans;
		memset(&ans, 0, sizeof(ans));
		if (a->pending) {
			if (!rpc_poll(rs, a->pending, &ans))
				return false;
			a->pending = NULL;
			note_fault(a, a->steps[a->step], &ans);
			rpc_answer_clear(&ans);
			a->step++;
		}
		if (a->step >= a->nsteps || a->error[0]) {
			char message[700];
			finish_message(a, message, sizeof(message));
			redirect(reply, message);
			return true;
		}
		struct xr_value *params = a->with_name ? one_string(a->namespec) : xr_array();
		rpc_dispatch(rs, a->steps[a->step], params, &ans);
		xr_free(params);
		if (ans.pending) {
			a->pending = ans.pending;
			return false;
		}
		note_fault(a, a->steps[a->step], &ans);
		rpc_answer_clear(&ans);
		a->step++;
	}
}

void web_action_free(struct web_action *a)
{
	if (!a)
		return;
	if (a->pending)
		rpc_pending_free(a->pending);
	free(a);
}

static enum web_result act(struct rpc_server *rs, const char *form, size_t len, struct web_reply *r)
{
	char action[32] = "", name[512] = "";
	form_get(form, len, "action", action, sizeof(action));
	form_get(form, len, "processname", name, sizeof(name));
	char message[700];
	if (!strcmp(action, "refresh")) {
		char when[64];
		now_ctime(when, sizeof(when));
		snprintf(message, sizeof(message), "Page refreshed at %s", when);
		redirect(r, message);
		return WEB_DONE;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(actions[i].name, action) != 0)
			continue;
		if (actions[i].with_name) {
			struct rpc_answer a;
			call(rs, "supervisor.getProcessInfo", one_string(name), &a);
			int fault = a.fault;
			rpc_answer_clear(&a);
			if (!*name || fault) {
				snprintf(message, sizeof(message), "No such process named %s",
					 name);
				redirect(r, message);
				return WEB_DONE;
			}
		}
		struct web_action *wa = calloc(1, sizeof(*wa));
		if (!wa) {
			reply_text(r, 503, "text/plain", "503 out of memory\n");
			return WEB_DONE;
		}
		snprintf(wa->namespec, sizeof(wa->namespec), "%s", name);
		snprintf(wa->what, sizeof(wa->what), "%s", action);
		wa->with_name = actions[i].with_name;
		for (size_t s = 0; s < WEB_STEPS_MAX && actions[i].steps[s]; s++)
			wa->steps[wa->nsteps++] = actions[i].steps[s];
		if (web_action_poll(rs, wa, r)) {
			web_action_free(wa);
			return WEB_DONE;
		}
		r->action = wa;
		return WEB_PENDING;
	}
	reply_text(r, 400, "text/plain", "400 unknown action\n");
	return WEB_DONE;
}

/* A POST changes state only with the page's token, and from the page's own origin. */
static bool post_allowed(const struct web_request *rq)
{
	char given[64];
	if (!form_get(rq->body ? rq->body : "", rq->body_len, "token", given, sizeof(given)) ||
	    strcmp(given, token) != 0)
		return false;
	if (rq->origin && strcmp(rq->origin, "null") != 0) {
		const char *host = strstr(rq->origin, "://");
		if (!host || !rq->host || strcmp(host + 3, rq->host) != 0)
			return false;
	}
	return true;
}

void web_reply_init(struct web_reply *r)
{
	buf_init(&r->body, PAGE_MAX);
	r->status = 0;
	r->content_type = "text/plain";
	r->location[0] = '\0';
	r->action = NULL;
}

enum web_result web_page(struct rpc_server *rs, const struct web_request *rq, struct web_reply *r)
{
	char action[32];
	if (!form_get(rq->query, rq->query_len, "action", action, sizeof(action))) {
		char message[700] = "";
		form_get(rq->query, rq->query_len, "message", message, sizeof(message));
		render_page(rs, message, r);
		return WEB_DONE;
	}
	if (!rq->may_get_act && strcmp(action, "refresh") != 0) {
		reply_text(
		    r, 403, "text/plain",
		    "403 Forbidden: actions by GET URL are accepted only when the server has "
		    "a password, or listens on a unix socket or loopback. Use the page's "
		    "buttons.\n");
		return WEB_DONE;
	}
	if (rq->cross_site && strcmp(action, "refresh") != 0) {
		r->status = 403;
		buf_printf(
		    &r->body,
		    "403 Forbidden: this action URL was opened from a page of another site "
		    "(the %s header says so), and nothing was done. Open it directly, or use "
		    "the page's buttons.\n",
		    rq->cross_site);
		return WEB_DONE;
	}
	return act(rs, rq->query, rq->query_len, r);
}

enum web_result web_page_post(struct rpc_server *rs, const struct web_request *rq,
			      struct web_reply *r)
{
	if (!post_allowed(rq)) {
		reply_text(r, 403, "text/plain",
			   "403 Forbidden: the form's token is missing or stale, or the request "
			   "came from another site. Reload the page.\n");
		return WEB_DONE;
	}
	return act(rs, rq->body ? rq->body : "", rq->body_len, r);
}

enum web_result web_tail_page(struct rpc_server *rs, const struct web_request *rq,
			      struct web_reply *r)
{
	render_tail(rs, rq->query, rq->query_len, r);
	return WEB_DONE;
}

enum web_result web_api_processes(struct rpc_server *rs, const struct web_request *rq,
				  struct web_reply *r)
{
	(void)rq;
	api_processes(rs, NULL, r);
	return WEB_DONE;
}

enum web_result web_api_process(struct rpc_server *rs, const struct web_request *rq,
				struct web_reply *r)
{
	char name[512];
	http_percent_decode(name, sizeof(name), rq->rest, rq->rest_len, false);
	api_processes(rs, name, r);
	return WEB_DONE;
}

enum web_result web_metrics(struct rpc_server *rs, const struct web_request *rq,
			    struct web_reply *r)
{
	(void)rq;
	metrics_write(rs->sv, &r->body);
	r->status = r->body.failed ? 500 : 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return WEB_DONE;
}

void web_reply_free(struct web_reply *reply)
{
	buf_free(&reply->body);
	web_action_free(reply->action);
	reply->action = NULL;
}
