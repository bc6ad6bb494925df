#include "router.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "control.h"
#include "logtail.h"
#include "mainlog.h"
#include "util.h"
#include "web.h"

static void send_answer(struct conn *c, struct rpc_answer *a)
{
	struct buf xml;
	buf_init(&xml, CONN_OUT_MAX);
	if (a->fault)
		xr_encode_fault(&xml, a->fault, a->fault_text);
	else if (!xr_encode_response(&xml, a->value)) {
		buf_reset(&xml);
		xr_encode_fault(&xml, XR_FAILED, "FAILED: the answer cannot be encoded");
	}
	if (xml.failed)
		conn_respond_error(c, 500);
	else
		conn_respond(c, 200, "text/xml", xml.data, xml.len, NULL);
	buf_free(&xml);
}

static void send_web(struct conn *c, struct web_reply *r)
{
	char extra[1200] = "Cache-Control: no-store\r\n";
	if (r->location[0])
		snprintf(extra, sizeof(extra), "Location: %s\r\nCache-Control: no-store\r\n",
			 r->location);
	if (r->body.failed) {
		conn_respond_error(c, 500);
		return;
	}
	if (c->head) {
		if (!c->keep_alive)
			c->closing = true;
		http_write_response_head(&c->out, r->status, r->content_type,
					 (long long)r->body.len, c->keep_alive, extra);
		return;
	}
	conn_respond(c, r->status, r->content_type, r->body.data ? r->body.data : "", r->body.len,
		     extra);
}

/* A page of web.c: its answer now, or an action whose answer comes later. */
static void serve_page(struct conn *c, web_handler *page, const char *rest, size_t rest_len)
{
	struct control *ctl = c->ep->ctl;
	const char *q = strchr(c->parser.target, '?');
	struct web_request rq = {
	    .method = c->parser.method,
	    .query = q ? q + 1 : "",
	    .query_len = q ? strlen(q + 1) : 0,
	    .rest = rest,
	    .rest_len = rest_len,
	    .body = c->parser.body.data,
	    .body_len = c->parser.body.len,
	    .origin = http_header(&c->parser, "Origin"),
	    .host = http_header(&c->parser, "Host"),
	    .may_get_act = endpoint_conf(c->ep)->username || endpoint_trusted(c->ep),
	    .cross_site = http_cross_site(&c->parser),
	};
	struct web_reply r;
	c->head = !strcmp(rq.method, "HEAD");
	web_reply_init(&r);
	if (page(&ctl->rpc, &rq, &r) == WEB_DONE) {
		send_web(c, &r);
	} else if (c->ep->npending >= endpoint_pending_max(c->ep)) {
		log_warn("control: %s: %zu answers already pending: not waiting for this one (what "
			 "it started goes on)",
			 endpoint_section(c->ep), c->ep->npending);
		conn_respond_error(c, 503);
	} else {
		c->web = r.action;
		r.action = NULL;
		conn_await(c);
	}
	web_reply_free(&r);
}

static void handle_rpc(struct conn *c)
{
	struct xr_call call;
	char err[256];
	struct rpc_answer a;
	const char *body = c->parser.body.data ? c->parser.body.data : "";
	struct control *ctl = c->ep->ctl;

	if (!xr_parse_call(body, c->parser.body.len, NULL, &call, err, sizeof(err))) {
		log_debug("control: bad XML-RPC request: %s", err);
		conn_respond_error(c, 400);
		return;
	}
	rpc_dispatch(&ctl->rpc, call.method, call.params, &a);
	xr_call_free(&call);
	if (a.pending && c->ep->npending >= endpoint_pending_max(c->ep)) {
		/* what the request started goes on (a start waits for its dependencies); only
		 * its answer is not awaited, and a multicall's calls after this one do not run */
		rpc_pending_free(a.pending);
		a.pending = NULL;
		a.fault = XR_FAILED;
		snprintf(a.fault_text, sizeof(a.fault_text),
			 "FAILED: %zu answers already pending on this server (at most half of "
			 "max_connections): not waiting for this one; what it started goes on",
			 c->ep->npending);
	} else if (a.pending) {
		c->pending = a.pending;
		conn_await(c);
		return;
	}
	send_answer(c, &a);
	rpc_answer_clear(&a);
}

static void serve_logtail(struct conn *c)
{
	int status;
	struct logtail *t = logtail_open(c->ep->ctl->sv, c->parser.target, &status);
	if (t)
		conn_stream(c, t);
	else
		conn_respond_error(c, status);
}

/* A page on another site can make the browser POST here with no preflight (an HTML form, a
 * no-cors fetch) and with the browser's cached credentials: every XML-RPC client sends
 * text/xml, which no such request can, and no browser request from another origin is taken. */
static bool rpc_refused(struct conn *c)
{
	char body[300];
	int status = 0, n = 0;
	const char *type = http_header(&c->parser, "Content-Type");
	const char *why = http_cross_site(&c->parser);
	if (why) {
		status = 403;
		n = snprintf(body, sizeof(body),
			     "403 Forbidden: /RPC2 takes no request from a page of another site "
			     "(the %s header says it comes from one)\n",
			     why);
	} else if (!http_media_type_is(type, "text/xml")) {
		status = 415;
		n = snprintf(body, sizeof(body),
			     "415 Unsupported Media Type: /RPC2 takes XML-RPC calls sent as "
			     "Content-Type: text/xml (this one: %.100s)\n",
			     type ? type : "none");
	}
	if (!status)
		return false;
	log_debug("control: /RPC2 request refused: %d (%s)", status, why ? why : "Content-Type");
	conn_respond(c, status, "text/plain", body, (size_t)n, NULL);
	return true;
}

static void serve_rpc(struct conn *c)
{
	if (!rpc_refused(c))
		handle_rpc(c);
}

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

enum match {
	TARGET,	       /* the whole target, query and all */
	TARGET_PREFIX, /* the start of the target */
	PATH,	       /* the path: the target before its query */
	PATH_PREFIX,   /* the start of the path, with more after it (the page's rest) */
};

struct route {
	const char *path;
	enum match match;
	unsigned methods;
	int other_method;	       /* the answer to a method not in methods */
	void (*serve)(struct conn *c); /* answers on the connection (/RPC2, the log streams), */
	web_handler *page;	       /* or a page of web.c */
};

/* supervisorctl's paths are matched as supervisord matches them, on the raw target; the
 * pages' on the path, the query being theirs to read. No target matches two paths. */
static const struct route routes[] = {
    {"/RPC2", TARGET_PREFIX, M_POST, 400, serve_rpc, NULL},
    {"/logtail/", TARGET_PREFIX, M_GET, 400, serve_logtail, NULL},
    {"/mainlogtail", TARGET, M_GET, 400, serve_logtail, NULL},
    {"/", PATH, M_GET | M_HEAD, 405, NULL, web_page},
    {"/", PATH, M_POST, 405, NULL, web_page_post},
    {"/index.html", PATH, M_GET | M_HEAD, 405, NULL, web_page},
    {"/index.html", PATH, M_POST, 405, NULL, web_page_post},
    {"/tail.html", PATH, M_GET | M_HEAD, 405, NULL, web_tail_page},
    {"/api/processes", PATH, M_GET | M_HEAD, 405, NULL, web_api_processes},
    {"/api/processes/", PATH_PREFIX, M_GET | M_HEAD, 405, NULL, web_api_process},
    {"/metrics", PATH, M_GET | M_HEAD, 405, NULL, web_metrics},
};

static unsigned method_bit(const char *method)
{
	if (!strcmp(method, "GET"))
		return M_GET;
	if (!strcmp(method, "HEAD"))
		return M_HEAD;
	return !strcmp(method, "POST") ? M_POST : 0;
}

/* Whether the route takes target, whose path is its first plen bytes. */
static bool route_matches(const struct route *r, const char *target, size_t plen)
{
	size_t n = strlen(r->path);
	switch (r->match) {
	case TARGET:
		return !strcmp(target, r->path);
	case TARGET_PREFIX:
		return !strncmp(target, r->path, n);
	case PATH:
		return plen == n && !strncmp(target, r->path, n);
	case PATH_PREFIX:
		return plen > n && !strncmp(target, r->path, n);
	}
	return false;
}

void route_request(struct conn *c)
{
	const char *target = c->parser.target, *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	unsigned method = method_bit(c->parser.method);
	const struct route *other = NULL; /* the path's, taken with another method */
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		const struct route *r = &routes[i];
		if (!route_matches(r, target, plen))
			continue;
		if (!(r->methods & method)) {
			other = other ? other : r;
			continue;
		}
		if (r->serve) {
			r->serve(c);
			return;
		}
		size_t n = strlen(r->path);
		serve_page(c, r->page, target + n, plen - n);
		return;
	}
	if (other)
		conn_respond_error(c, other->other_method);
	else
		conn_respond_error(c, method & (M_GET | M_HEAD) ? 404 : 405);
}

bool route_poll(struct conn *c)
{
	struct control *ctl = c->ep->ctl;
	if (c->web) {
		struct web_reply r;
		web_reply_init(&r);
		bool done = web_action_poll(&ctl->rpc, c->web, &r);
		if (done) {
			web_action_free(c->web);
			c->web = NULL;
			conn_answered(c);
			send_web(c, &r);
		}
		web_reply_free(&r);
		return done;
	}
	if (!c->pending)
		return false;
	struct rpc_answer a = {0};
	if (!rpc_poll(&ctl->rpc, c->pending, &a))
		return false;
	rpc_pending_free(c->pending);
	c->pending = NULL;
	conn_answered(c);
	send_answer(c, &a);
	rpc_answer_clear(&a);
	return true;
}
