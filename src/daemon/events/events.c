/*
 * The event bus, as supervisord 4.2.5's events.py and EventListenerPool (process.py) do it:
 *
 * - an event is made once, with its payload, and shared by the pools that take it; it gets its
 *   serial from the first pool that takes it (an event nobody subscribes to uses none), and a
 *   pool serial from each pool;
 * - a pool's FIFO holds at most buffer_size events: the oldest goes, with supervisord's
 *   "pool %s event buffer overflowed, discarding event %s";
 * - the oldest event goes to the first listener of the pool that is RUNNING and READY; a FAIL,
 *   a bad result line or the listener's death puts it back at the head;
 * - an envelope is written to the listener's stdin without blocking; what the pipe does not
 *   take waits for it to be writable, and the listener gets no other event until it has all
 *   of it.
 */
#include "events.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "events_internal.h"
#include "listener.h"
#include "mainlog.h"
#include "process.h"
#include "stdout_sink.h"
#include "supervisor.h"

static void ticks_update(struct event_bus *bus);

/* --- events and pools --- */

bool events_wanted(const struct event_bus *bus, enum event_type t)
{
	return bus && event_type_matches(bus->sv->bus.wanted, t);
}

/* The union of the pools' masks, which core reads before it hands the bus a chunk; and the
 * ticks, which run only while some pool wants them. */
static void pools_changed(struct event_bus *bus)
{
	event_mask m = 0;
	for (struct pool *pl = bus->pools; pl; pl = pl->next)
		m |= pl->mask;
	bus->sv->bus.wanted = m;
	ticks_update(bus);
}

static void event_unref(struct event *ev)
{
	if (ev && --ev->refs == 0)
		free(ev);
}

static const char *pool_name(const struct pool *pl)
{
	return pl->group->conf->name;
}

static void qent_free(struct qent *q)
{
	if (!q)
		return;
	event_unref(q->ev);
	free(q);
}

/* supervisord's _acceptEvent: q is new to the pool (no pool serial yet) or given back. */
static void pool_accept(struct pool *pl, struct qent *q, bool head, bool again)
{
	struct event_bus *bus = pl->bus;
	if (q->ev->serial < 0)
		q->ev->serial = bus->serial = bus->serial == LLONG_MAX ? 0 : bus->serial + 1;
	if (!again)
		q->pool_serial = pl->serial = pl->serial == LLONG_MAX ? 0 : pl->serial + 1;
	else
		log_debug("rebuffering event %lld for pool %s (buf size=%zu, max=%lld)",
			  q->ev->serial, pool_name(pl), pl->n, pl->cap);
	if ((long long)pl->n >= pl->cap && pl->head) {
		struct qent *old = pl->head;
		pl->head = old->next;
		if (!pl->head)
			pl->tail = NULL;
		pl->n--;
		log_error("pool %s event buffer overflowed, discarding event %lld", pool_name(pl),
			  old->ev->serial);
		qent_free(old);
	}
	if (head) {
		q->next = pl->head;
		pl->head = q;
		if (!pl->tail)
			pl->tail = q;
	} else {
		q->next = NULL;
		if (pl->tail)
			pl->tail->next = q;
		else
			pl->head = q;
		pl->tail = q;
	}
	pl->n++;
}

static struct qent *pool_pop(struct pool *pl)
{
	struct qent *q = pl->head;
	if (q) {
		pl->head = q->next;
		if (!pl->head)
			pl->tail = NULL;
		pl->n--;
		q->next = NULL;
	}
	return q;
}

static void wio_cb(struct ev_loop *loop, ev_io *w, int revents);

static bool listener_can_take(const struct proc_events *pe)
{
	const struct process *p = pe->proc;
	return p->fsm.state == PS_RUNNING && pe->proto.state == LISTENER_READY && p->pid > 0 &&
	       !p->fsm.killing && p->stdin_fd >= 0 && pe->off == pe->out.len;
}

/* Writes what is left of the envelope; false when the pipe is broken. */
static bool listener_flush(struct proc_events *pe)
{
	int fd = pe->proc->stdin_fd;
	while (pe->off < pe->out.len) {
		ssize_t w = write(fd, pe->out.data + pe->off, pe->out.len - pe->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ev_is_active(&pe->wio)) {
				ev_io_set(&pe->wio, fd, EV_WRITE);
				ev_io_start(pe->bus->sv->loop, &pe->wio);
			}
			return true;
		}
		if (w < 0)
			return false;
		pe->off += (size_t)w;
	}
	ev_io_stop(pe->bus->sv->loop, &pe->wio);
	buf_reset(&pe->out);
	pe->off = 0;
	return true;
}

static void listener_drop_output(struct proc_events *pe)
{
	ev_io_stop(pe->bus->sv->loop, &pe->wio);
	buf_reset(&pe->out);
	pe->off = 0;
}

static void wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct proc_events *pe = container_of(w, struct proc_events, wio);
	(void)loop;
	(void)revents;
	if (!listener_flush(pe))
		listener_drop_output(pe); /* it is going away: its exit gives the event back */
}

/* supervisord's _dispatchEvent: to the first RUNNING and READY listener that takes it. */
static bool pool_send(struct pool *pl, struct qent *q)
{
	struct pgroup *g = pl->group;
	for (size_t i = 0; i < g->nprocs; i++) {
		struct process *p = g->procs[i];
		struct proc_events *pe = p->events;
		if (!pe || !listener_can_take(pe))
			continue;
		struct event *ev = q->ev;
		buf_reset(&pe->out);
		buf_printf(&pe->out,
			   "ver:3.0 server:%s serial:%lld pool:%s poolserial:%lld eventname:%s "
			   "len:%zu\n",
			   pl->bus->sv->cfg->sd.identifier, ev->serial, pool_name(pl),
			   q->pool_serial, event_type_name(ev->type),
			   events_payload_chars(ev->payload, ev->len));
		buf_append(&pe->out, ev->payload, ev->len);
		pe->off = 0;
		if (pe->out.failed || !listener_flush(pe)) {
			log_debug(
			    "epipe occurred while sending event %lld to listener %s, listener "
			    "state unchanged",
			    ev->serial, p->conf->name);
			listener_drop_output(pe);
			continue;
		}
		listener_sent(&pe->proto);
		buf_reset(&pe->result);
		pe->cur = q;
		log_debug("event %lld sent to listener %s", ev->serial, p->conf->name);
		return true;
	}
	return false;
}

static void pool_dispatch(struct pool *pl)
{
	while (pl->head) {
		struct qent *q = pool_pop(pl);
		if (!pool_send(pl, q)) {
			pool_accept(pl, q, true, true);
			break;
		}
	}
}

static bool pool_ready(const struct pool *pl)
{
	for (size_t i = 0; i < pl->group->nprocs; i++) {
		const struct proc_events *pe = pl->group->procs[i]->events;
		if (pe && listener_can_take(pe))
			return true;
	}
	return false;
}

/* supervisord dispatches on its next pass when a listener is ready; so does this, at once */
static void dispatch_ready(struct pool *pl)
{
	if (pl->head && pool_ready(pl))
		pool_dispatch(pl);
}

/* supervisord's notify(): every pool subscribed to the type (or a parent) takes it. */
static void notify(struct event_bus *bus, struct event *ev)
{
	ev->refs = 1;
	ev->serial = -1;
	for (struct pool *pl = bus->pools; pl; pl = pl->next) {
		if (!event_type_matches(pl->mask, ev->type))
			continue;
		struct qent *q = calloc(1, sizeof(*q));
		if (!q) {
			log_error("out of memory: event %s not given to pool %s",
				  event_type_name(ev->type), pool_name(pl));
			continue;
		}
		q->ev = ev;
		ev->refs++;
		pool_accept(pl, q, false, false);
	}
	event_unref(ev);
	for (struct pool *pl = bus->pools; pl; pl = pl->next)
		dispatch_ready(pl);
}

void events_notify_payload(struct event_bus *bus, enum event_type t)
{
	struct buf *b = &bus->payload;
	if (b->failed) {
		log_error("out of memory: event %s dropped", event_type_name(t));
		buf_reset(b);
		return;
	}
	struct event *ev = malloc(sizeof(*ev) + b->len + 1);
	if (!ev) {
		log_error("out of memory: event %s dropped", event_type_name(t));
		buf_reset(b);
		return;
	}
	ev->type = t;
	ev->len = b->len;
	if (b->len)
		memcpy(ev->payload, b->data, b->len);
	ev->payload[b->len] = '\0';
	buf_reset(b);
	notify(bus, ev);
}

/* --- hooks --- */

static bool ticks_wanted(const struct event_bus *bus)
{
	return events_wanted(bus, EV_TICK_5) || events_wanted(bus, EV_TICK_60) ||
	       events_wanted(bus, EV_TICK_3600);
}

static void tick_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct event_bus *bus = container_of(w, struct event_bus, tick_w);
	enum event_type types[3];
	long long when[3];
	(void)revents;
	int n = events_ticks_due(bus->tick_last, ev_now(loop), types, when);
	for (int i = 0; i < n; i++) {
		buf_printf(&bus->payload, "when:%lld", when[i]);
		events_notify_payload(bus, types[i]);
	}
}

static void ticks_stop(struct event_bus *bus)
{
	if (!ev_is_active(&bus->tick_w))
		return;
	ev_ref(bus->sv->loop);
	ev_periodic_stop(bus->sv->loop, &bus->tick_w);
}

static void ticks_update(struct event_bus *bus)
{
	bool want = ticks_wanted(bus);
	if (want == ev_is_active(&bus->tick_w))
		return;
	if (!want) {
		ticks_stop(bus);
		return;
	}
	/* supervisord's first pass only notes the slices; the next change is the first tick */
	enum event_type types[3];
	long long when[3];
	events_ticks_due(bus->tick_last, ev_time(), types, when);
	ev_periodic_set(&bus->tick_w, 0.001, 5, 0);
	ev_periodic_start(bus->sv->loop, &bus->tick_w);
	/* the tick must not keep a loop alive on its own (the loop's end is the signals' call) */
	ev_unref(bus->sv->loop);
}

int events_ticks_due(long long last[3], double now, enum event_type types[3], long long when[3])
{
	static const struct {
		enum event_type type;
		long long period;
	} ticks[3] = {{EV_TICK_5, 5}, {EV_TICK_60, 60}, {EV_TICK_3600, 3600}};
	int n = 0;
	long long secs = (long long)now;
	for (int i = 0; i < 3; i++) {
		long long slice = secs - secs % ticks[i].period;
		if (last[i] < 0) {
			last[i] = slice;
			continue;
		}
		if (slice != last[i]) {
			last[i] = slice;
			types[n] = ticks[i].type;
			when[n++] = slice;
		}
	}
	return n;
}

static void state_changed(void *ctx, struct process *p, enum proc_state from, bool expected,
			  pid_t pid)
{
	events_process_state(ctx, p, from, expected, pid);
}

static void group_changed(struct event_bus *bus, struct pgroup *g, bool added)
{
	if (added)
		events_group_added(bus, g);
	else
		events_group_removed(bus, g);
}

void events_attach(struct supervisor *sv)
{
	struct event_bus *bus = xcalloc(1, sizeof(*bus));
	bus->sv = sv;
	bus->serial = -1;
	ev_periodic_init(&bus->tick_w, tick_cb, 0.001, 5, 0);
	for (int i = 0; i < 3; i++)
		bus->tick_last[i] = -1;
	sv->bus = (struct bus_hooks){.ctx = bus,
				     .child_gone = events_child_gone,
				     .output = events_output,
				     .listener_output = events_listener_output,
				     .group_changed = group_changed,
				     .supervisor_state = events_supervisor_state};
	supervisor_observe(sv, state_changed, bus);
}

static struct proc_events *proc_events_new(struct event_bus *bus, struct process *p)
{
	struct proc_events *pe = xcalloc(1, sizeof(*pe));
	pe->bus = bus;
	pe->proc = p;
	ev_init(&pe->wio, wio_cb);
	listener_reset(&pe->proto);
	if (p->conf->kind == KIND_EVENTLISTENER && p->conf->result_handler &&
	    strcmp(p->conf->result_handler, RESULT_HANDLER_STDOUT) == 0) {
		buf_init(&pe->result, RESULT_KEEP_MAX);
		pe->proto.keep = &pe->result;
	}
	return pe;
}

static void proc_events_free(struct process *p)
{
	struct proc_events *pe = p->events;
	if (!pe)
		return;
	listener_drop_output(pe);
	buf_free(&pe->out);
	buf_free(&pe->result);
	qent_free(pe->cur);
	for (int i = 0; i < 2; i++)
		capture_clear(&pe->cap[i]);
	free(pe);
	p->events = NULL;
}

static void notify_group(struct event_bus *bus, enum event_type t, const char *name)
{
	if (!events_wanted(bus, t))
		return;
	buf_printf(&bus->payload, "groupname:%s\n", name);
	events_notify_payload(bus, t);
}

void events_group_added(struct event_bus *bus, struct pgroup *g)
{
	for (size_t i = 0; i < g->nprocs; i++) {
		const struct proc_conf *c = g->procs[i]->conf;
		if (c->kind == KIND_EVENTLISTENER || c->out.capture_maxbytes > 0 ||
		    c->err.capture_maxbytes > 0)
			g->procs[i]->events = proc_events_new(bus, g->procs[i]);
	}
	if (g->conf->kind == KIND_EVENTLISTENER && g->nprocs > 0) {
		struct pool *pl = xcalloc(1, sizeof(*pl));
		pl->bus = bus;
		pl->group = g;
		pl->mask = g->procs[0]->conf->events;
		pl->cap = g->procs[0]->conf->buffer_size;
		pl->serial = -1;
		/* subscribers are told in the order they subscribed */
		struct pool **at = &bus->pools;
		while (*at)
			at = &(*at)->next;
		*at = pl;
		for (size_t i = 0; i < g->nprocs; i++)
			g->procs[i]->events->pool = pl;
		pools_changed(bus);
	}
	notify_group(bus, EV_PROCESS_GROUP_ADDED, g->conf->name);
}

void events_group_removed(struct event_bus *bus, struct pgroup *g)
{
	for (struct pool **at = &bus->pools; *at; at = &(*at)->next) {
		struct pool *pl = *at;
		if (pl->group != g)
			continue;
		*at = pl->next;
		while (pl->head)
			qent_free(pool_pop(pl));
		free(pl);
		pools_changed(bus);
		break;
	}
	for (size_t i = 0; i < g->nprocs; i++)
		proc_events_free(g->procs[i]);
	/* at exit, groups go without telling anyone, as in supervisord */
	if (bus->sv->mood != MOOD_SHUTDOWN)
		notify_group(bus, EV_PROCESS_GROUP_REMOVED, g->conf->name);
}

static enum event_type state_event(enum proc_state s)
{
	switch (s) {
	case PS_STOPPED:
		return EV_PROCESS_STATE_STOPPED;
	case PS_STARTING:
		return EV_PROCESS_STATE_STARTING;
	case PS_RUNNING:
		return EV_PROCESS_STATE_RUNNING;
	case PS_BACKOFF:
		return EV_PROCESS_STATE_BACKOFF;
	case PS_STOPPING:
		return EV_PROCESS_STATE_STOPPING;
	case PS_EXITED:
		return EV_PROCESS_STATE_EXITED;
	case PS_FATAL:
		return EV_PROCESS_STATE_FATAL;
	case PS_UNKNOWN:
		break;
	}
	return EV_PROCESS_STATE_UNKNOWN;
}

static void notify_state(struct event_bus *bus, struct process *p, enum proc_state from,
			 enum proc_state to, bool expected, pid_t pid)
{
	enum event_type t = state_event(to);
	if (!events_wanted(bus, t))
		return;
	struct buf *b = &bus->payload;
	buf_printf(b, "processname:%s groupname:%s from_state:%s", p->conf->name,
		   p->group->conf->name, proc_state_name(from));
	switch (to) {
	case PS_STARTING:
	case PS_BACKOFF:
		buf_printf(b, " tries:%d", p->fsm.backoff);
		break;
	case PS_EXITED:
		buf_printf(b, " expected:%d pid:%d", expected, (int)pid);
		break;
	case PS_RUNNING:
	case PS_STOPPING:
	case PS_STOPPED:
		buf_printf(b, " pid:%d", (int)pid);
		break;
	default:
		break;
	}
	events_notify_payload(bus, t);
}

void events_process_state(struct event_bus *bus, struct process *p, enum proc_state from,
			  bool expected, pid_t pid)
{
	struct proc_events *pe = p->events;
	enum proc_state to = p->fsm.state;
	if (to == PS_STARTING && pe) {
		/* a new child gets new dispatchers: ACKNOWLEDGED, not capturing */
		listener_reset(&pe->proto);
		for (int i = 0; i < 2; i++)
			capture_clear(&pe->cap[i]);
	}
	/* an exit after startsecs from STARTING is RUNNING, then EXITED, in supervisord */
	if (from == PS_STARTING && to == PS_EXITED) {
		notify_state(bus, p, from, PS_RUNNING, expected, pid);
		from = PS_RUNNING;
	}
	notify_state(bus, p, from, to, expected, pid);
	if (!pe || !pe->pool)
		return;
	if (pe->gone) {
		/* died before it processed its event: the event goes back to the head */
		pe->gone = false;
		if (pe->cur) {
			struct qent *q = pe->cur;
			pe->cur = NULL;
			pool_accept(pe->pool, q, true, true);
		}
	}
	if (to == PS_RUNNING)
		dispatch_ready(pe->pool);
}

void events_child_gone(struct event_bus *bus, struct process *p)
{
	struct proc_events *pe = p->events;
	if (!pe || !pe->pool)
		return;
	listener_drop_output(pe);
	pe->gone = true;
}

void events_supervisor_state(struct event_bus *bus, enum event_type t)
{
	if (events_wanted(bus, t))
		events_notify_payload(bus, t);
}

void events_remote(struct supervisor *sv, const char *type, size_t type_len, const char *data,
		   size_t data_len)
{
	struct event_bus *bus = sv->bus.ctx;
	if (!events_wanted(bus, EV_REMOTE_COMMUNICATION))
		return;
	buf_puts(&bus->payload, "type:");
	buf_append(&bus->payload, type, type_len);
	buf_putc(&bus->payload, '\n');
	buf_append(&bus->payload, data, data_len);
	events_notify_payload(bus, EV_REMOTE_COMMUNICATION);
}

/* --- a listener's side of the protocol --- */

static void listener_changed(struct process *p, enum listener_state from, enum listener_state to)
{
	log_debug("%s: %s -> %s", p->conf->name, listener_state_name(from),
		  listener_state_name(to));
	if (to == LISTENER_UNKNOWN)
		log_warn(
		    "%s: has entered the UNKNOWN state and will no longer receive events, this "
		    "usually indicates the process violated the eventlistener protocol",
		    p->conf->name);
}

static void give_back(struct proc_events *pe)
{
	struct qent *q = pe->cur;
	pe->cur = NULL;
	if (q)
		pool_accept(pe->pool, q, true, true);
}

/*
 * supervisor_stdout's event_handler (the supervisor-stdout package, common in images that send
 * every program's output to docker logs): its listener answers each PROCESS_LOG event with the
 * event's payload as the result, and the handler prints every line of the data prefixed with
 * "PROCESSNAME CHANNEL | ", as Python's print('\n'.join(...)) does (so data ending in a newline
 * gives a last line with the prefix alone). false when the result's header line lacks
 * processname or channel (the handler's KeyError: "event caused an error").
 */
static bool stdout_handler(const struct buf *res)
{
	const char *s = res->data ? res->data : "";
	const char *nl = memchr(s, '\n', res->len);
	if (!nl)
		return false;
	char name[256] = "", channel[64] = "";
	for (const char *w = s; w < nl;) {
		const char *end = memchr(w, ' ', (size_t)(nl - w));
		end = end ? end : nl;
		const char *colon = memchr(w, ':', (size_t)(end - w));
		if (colon && (size_t)(colon - w) == 11 && !memcmp(w, "processname", 11))
			snprintf(name, sizeof(name), "%.*s", (int)(end - colon - 1), colon + 1);
		else if (colon && (size_t)(colon - w) == 7 && !memcmp(w, "channel", 7))
			snprintf(channel, sizeof(channel), "%.*s", (int)(end - colon - 1),
				 colon + 1);
		w = end + 1;
	}
	if (!name[0] || !channel[0])
		return false;
	struct buf out;
	buf_init(&out, RESULT_KEEP_MAX * 2);
	const char *d = nl + 1, *end = s + res->len;
	for (;;) {
		const char *e = memchr(d, '\n', (size_t)(end - d));
		buf_printf(&out, "%s %s | %.*s\n", name, channel, (int)((e ? e : end) - d), d);
		if (!e)
			break;
		d = e + 1;
	}
	if (!out.failed)
		sink_write_line(sink_stdout(), out.data, out.len);
	buf_free(&out);
	return true;
}

void events_listener_output(struct event_bus *bus, struct process *p, const char *data, size_t n)
{
	struct proc_events *pe = p->events;
	if (!pe || !pe->pool)
		return;
	const char *name = p->conf->name;
	while (n > 0) {
		struct listener_step st;
		size_t k = listener_feed(&pe->proto, data, n, &st);
		data += k;
		n -= k;
		switch (st.outcome) {
		case LISTENER_MORE:
			break;
		case LISTENER_GOT_READY:
			listener_changed(p, st.from, LISTENER_READY);
			break;
		case LISTENER_VIOLATION:
			listener_changed(p, st.from, LISTENER_UNKNOWN);
			qent_free(pe->cur);
			pe->cur = NULL;
			break;
		case LISTENER_BAD_RESULT: {
			struct buf line = {0};
			events_append_text(&line, st.line, st.line_len);
			log_warn("%s: bad result line: '%s'", name, line.data ? line.data : "");
			buf_free(&line);
			listener_changed(p, st.from, LISTENER_UNKNOWN);
			give_back(pe);
			break;
		}
		case LISTENER_RESULT:
			if (pe->proto.keep && !stdout_handler(&pe->result)) {
				log_warn("%s: event caused an error", name);
				listener_changed(p, st.from, LISTENER_UNKNOWN);
				give_back(pe);
			} else if (pe->proto.keep || st.ok) {
				log_debug("%s: event was processed", name);
				listener_changed(p, st.from, LISTENER_ACKNOWLEDGED);
				qent_free(pe->cur);
				pe->cur = NULL;
			} else {
				log_warn("%s: event was rejected", name);
				listener_changed(p, st.from, LISTENER_ACKNOWLEDGED);
				give_back(pe);
			}
			break;
		}
	}
	dispatch_ready(pe->pool);
}

void events_free(struct supervisor *sv)
{
	struct event_bus *bus = sv->bus.ctx;
	if (!bus)
		return;
	while (bus->pools) {
		struct pool *pl = bus->pools;
		bus->pools = pl->next;
		while (pl->head)
			qent_free(pool_pop(pl));
		free(pl);
	}
	ticks_stop(bus);
	buf_free(&bus->payload);
	free(bus);
	sv->bus = (struct bus_hooks){0};
}
