#include "control.h"

#include <stdlib.h>

#include "conn.h"
#include "logtail.h"
#include "router.h"
#include "util.h"
#include "web.h"

unsigned long long control_requests(const struct supervisor *sv)
{
	const struct control *ctl = sv->control;
	return ctl ? ctl->requests : 0;
}

/* One pass over the requests that wait (a start or stop that answers when done), after what may
 * finish them: a state change, a process gone, a new wait. The watcher runs once per such
 * event, not on every turn of the loop; what happens during the pass starts it again. */
static void check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct control *ctl = container_of(w, struct control, check);
	(void)revents;
	ev_prepare_stop(loop, &ctl->check);
	struct conn *next;
	for (struct conn *c = ctl->conns; c; c = next) {
		next = c->next;
		if (!route_poll(c))
			continue;
		unsigned long closes = ctl->closes;
		conn_process(c);
		/* the next request may have closed any connection (removeProcessGroup ends the
		 * streams of its processes): `next` may be gone, start over */
		if (ctl->closes != closes)
			next = ctl->conns;
	}
}

/* A state observer (supervisor_observe): a waiting request may be done. */
static void state_changed(void *ctx, struct process *p, enum proc_state from, bool expected,
			  pid_t pid)
{
	struct supervisor *sv = ctx;
	struct control *ctl = sv->control;
	(void)p;
	(void)from;
	(void)expected;
	(void)pid;
	if (ctl && ctl->npending)
		ev_prepare_start(sv->loop, &ctl->check);
}

static void process_gone(struct supervisor *sv, struct process *p)
{
	struct control *ctl = sv->control;
	struct conn *next;
	for (struct conn *c = ctl->conns; c; c = next) {
		next = c->next;
		if (c->pending)
			rpc_forget_process(c->pending, p);
		if (c->web && c->web->pending)
			rpc_forget_process(c->web->pending, p);
		if (c->tail && logtail_follows(c->tail, p)) {
			/* its stream has nothing left to follow; the writing waits for the loop, so
			 * no connection closes under a caller walking the list */
			conn_stream_end(c);
			ev_feed_event(sv->loop, &c->io, EV_WRITE);
		}
	}
	if (ctl->npending) /* a request waiting on p is answered */
		ev_prepare_start(sv->loop, &ctl->check);
}

/* Start-up: a failure here ends pidvisor anyway, so the aborting x-allocators serve (a reload
 * goes through endpoint_reload, which aborts on nothing). */
int control_start(struct supervisor *sv, char **err)
{
	if (sv->cfg->unix_server.enabled && endpoint_unix_answers(sv->cfg->unix_server.file)) {
		*err = xasprintf("Another program is already listening on a port that one of our "
				 "HTTP servers is configured to use.  Shut this program down first "
				 "before starting supervisord. (%s)",
				 sv->cfg->unix_server.file);
		return -1;
	}
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	ctl->sv = sv;
	ctl->rpc.sv = sv;
	sv->control = ctl;
	sv->on_process_gone = process_gone;
	sv->on_reload = control_reload;
	ev_prepare_init(&ctl->check, check_cb);
	/* once only: the observer finds the control server through sv, and none after stop */
	if (!sv->control_observed) {
		supervisor_observe(sv, state_changed, sv);
		sv->control_observed = true;
	}
	web_init();
	/* both set up before either opens: a failed open tears down the other one too */
	for (int i = 0; i < 2; i++)
		endpoint_init(&ctl->endpoints[i], ctl, i);
	for (int i = 0; i < 2; i++) {
		struct endpoint *ep = &ctl->endpoints[i];
		const struct http_server_conf *conf = endpoint_conf(ep);
		char why[ENDPOINT_ERR_MAX];
		if (conf->enabled && endpoint_open(ep, conf, why, sizeof(why)) < 0) {
			*err = xstrdup(why);
			control_stop(sv);
			return -1;
		}
	}
	return 0;
}

/* Credentials and limits are read from the live config at each use; here the sockets follow
 * it. A socket that cannot be opened keeps the old one, and the log says so. */
void control_reload(struct supervisor *sv)
{
	struct control *ctl = sv->control;
	if (!ctl)
		return;
	for (int i = 0; i < 2; i++)
		endpoint_reload(&ctl->endpoints[i]);
}

void control_stop(struct supervisor *sv)
{
	struct control *ctl = sv->control;
	if (!ctl)
		return;
	while (ctl->conns)
		conn_close(ctl->conns);
	for (int i = 0; i < 2; i++)
		endpoint_close(&ctl->endpoints[i], true);
	ev_prepare_stop(sv->loop, &ctl->check);
	sv->control = NULL;
	sv->on_process_gone = NULL;
	sv->on_reload = NULL;
	free(ctl);
}
