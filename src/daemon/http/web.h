/*
 * The control server's web side: supervisord's status page and its URLs (`/`, `index.html`
 * with `?processname=&action=`, `tail.html`), done better (live updates, filtering, a phone
 * layout, forms that work without JavaScript), a JSON API (`/api/processes[/NAME]`) and
 * Prometheus metrics (`/metrics`). router.c maps the paths to the pages here; the connection
 * and the auth are conn.c's.
 */
#ifndef PIDVISOR_WEB_H
#define PIDVISOR_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "rpc.h"

/* What the router tells a page about the request. */
struct web_request {
	const char *method; /* GET, HEAD, POST */
	const char *query;  /* the target's query (after '?'), or "" */
	size_t query_len;
	const char *rest; /* the path after a route's prefix (/api/processes/NAME) */
	size_t rest_len;
	const char *body; /* a POST's form body (application/x-www-form-urlencoded) */
	size_t body_len;
	const char *origin;	/* the Origin header, or NULL */
	const char *host;	/* the Host header, or NULL */
	bool may_get_act;	/* supervisord's GET action URLs are accepted: auth is on, or the
				   server is a unix socket or on loopback */
	const char *cross_site; /* the header telling that a page of another site sent the
				   request (http_cross_site), or NULL: GET actions are refused */
};

#define WEB_STEPS_MAX 2

/* An action in progress (start, stop, restart...), run as XML-RPC calls one after the other,
 * each to completion, without blocking the loop. */
struct web_action {
	char namespec[512];
	char what[32];
	const char *steps[WEB_STEPS_MAX]; /* method names */
	size_t nsteps, step;
	bool with_name; /* the steps take namespec as their one argument */
	struct rpc_pending *pending;
	char error[640]; /* the first fault, for the message */
};

struct web_reply {
	int status;
	const char *content_type;
	struct buf body;
	char location[1024];	   /* a 303 redirect, when set */
	struct web_action *action; /* not done yet: poll with web_action_poll */
};

enum web_result {
	WEB_DONE,    /* reply is complete */
	WEB_PENDING, /* reply->action runs: poll it */
};

void web_reply_init(struct web_reply *reply);

/* The page's token for state-changing POSTs; made once at start. */
void web_init(void);

/* The pages, each answering into an initialized reply; router.c says which path and method
 * reach which. */
typedef enum web_result web_handler(struct rpc_server *rs, const struct web_request *rq,
				    struct web_reply *reply);
/* the status page, or one of supervisord's action URLs (index.html?processname=&action=) */
web_handler web_page;
/* a button of the page */
web_handler web_page_post;
/* tail.html?processname=&limit=&stream= */
web_handler web_tail_page;
/* every process's info in JSON */
web_handler web_api_processes;
/* one process's (rq->rest: its name, percent-encoded) */
web_handler web_api_process;
/* Prometheus metrics (metrics.c) */
web_handler web_metrics;

/* true when the action is done and reply holds the redirect with its message. */
bool web_action_poll(struct rpc_server *rs, struct web_action *a, struct web_reply *reply);
void web_action_free(struct web_action *a);
void web_reply_free(struct web_reply *reply);

#endif
