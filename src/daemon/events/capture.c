/* A program's output on the bus, as supervisord's POutputDispatcher does it: PROCESS_LOG_*
 * events, and capture mode (what comes between the BEGIN and END tokens is taken out of the log
 * and sent as one PROCESS_COMMUNICATION_* event). */
#include <stdio.h>
#include <string.h>

#include "events_internal.h"
#include "mainlog.h"
#include "supervisor.h"

#define BEGIN_TOKEN "<!--XSUPERVISOR:BEGIN-->"
#define END_TOKEN   "<!--XSUPERVISOR:END-->"
_Static_assert(sizeof(BEGIN_TOKEN) - 2 <= BUS_HELD_MAX && sizeof(END_TOKEN) - 2 <= BUS_HELD_MAX,
	       "capture mode holds back at most BUS_HELD_MAX bytes");

void capture_clear(struct capture *c)
{
	c->on = false;
	c->nheld = 0;
	buf_free(&c->data);
}

static void notify_output(struct process *p, enum event_type t, int channel, const char *data,
			  size_t n)
{
	struct event_bus *bus = p->sv->bus.ctx;
	if (!events_wanted(bus, t))
		return;
	struct buf *b = &bus->payload;
	buf_printf(b, "processname:%s groupname:%s pid:%d", p->conf->name, p->group->conf->name,
		   (int)p->pid);
	if (t == EV_PROCESS_LOG_STDOUT || t == EV_PROCESS_LOG_STDERR)
		buf_printf(b, " channel:%s", channel == 2 ? "stderr" : "stdout");
	buf_putc(b, '\n');
	events_append_text(b, data, n);
	events_notify_payload(bus, t);
}

/* supervisord's _log(): a piece goes to the capture, or stays in the chunk for the normal log
 * (moved down to *kept, never up, so the chunk is rewritten in place), and to PROCESS_LOG_*. */
static void log_piece(struct process *p, int channel, struct capture *c, char *chunk, size_t *kept,
		      const char *s, size_t n)
{
	if (n == 0)
		return;
	const struct log_conf *lc = channel == 2 ? &p->conf->err : &p->conf->out;
	if (c->on) {
		/* supervisord's BoundIO: a write that would pass the bound first drops as many
		 * bytes from the front as it adds */
		if (c->data.len + n > (size_t)lc->capture_maxbytes)
			buf_consume(&c->data, n < c->data.len ? n : c->data.len);
		buf_append(&c->data, s, n);
	} else {
		memmove(chunk + *kept, s, n);
		s = chunk + *kept;
		*kept += n;
	}
	if (lc->events_enabled)
		notify_output(p, channel == 2 ? EV_PROCESS_LOG_STDERR : EV_PROCESS_LOG_STDOUT,
			      channel, s, n);
}

/* The longest end of s that is a start of token. */
static size_t prefix_at_end(const char *s, size_t n, const char *token)
{
	size_t l = strlen(token) - 1;
	for (; l > 0; l--)
		if (l <= n && memcmp(s + n - l, token, l) == 0)
			return l;
	return 0;
}

static void capture_toggle(struct process *p, int channel, struct capture *c)
{
	c->on = !c->on;
	if (c->on)
		return;
	notify_output(
	    p, channel == 2 ? EV_PROCESS_COMMUNICATION_STDERR : EV_PROCESS_COMMUNICATION_STDOUT,
	    channel, c->data.data ? c->data.data : "", c->data.len);
	log_debug("'%s' %s emitted a comm event", p->conf->name,
		  channel == 2 ? "stderr" : "stdout");
	buf_reset(&c->data);
}

/* Capture mode on a chunk, in place: what it held goes in front, what is between the tokens
 * goes to the capture, the end that may begin a token is held; the rest stays, in order. */
static size_t capture_chunk(struct process *p, int channel, struct capture *c, char *data, size_t n)
{
	if (c->nheld) {
		memmove(data + c->nheld, data, n);
		memcpy(data, c->held, c->nheld);
		n += c->nheld;
		c->nheld = 0;
	}
	size_t kept = 0;
	const char *s = data;
	size_t len = n;
	while (len > 0) {
		const char *token = c->on ? END_TOKEN : BEGIN_TOKEN;
		size_t tl = strlen(token);
		const char *at = memmem(s, len, token, tl);
		if (!at) {
			size_t keep = prefix_at_end(s, len, token);
			log_piece(p, channel, c, data, &kept, s, len - keep);
			memcpy(c->held, s + len - keep, keep);
			c->nheld = keep;
			break;
		}
		log_piece(p, channel, c, data, &kept, s, (size_t)(at - s));
		capture_toggle(p, channel, c);
		len -= (size_t)(at - s) + tl;
		s = at + tl;
	}
	return kept;
}

size_t events_output(struct event_bus *bus, struct process *p, int channel, char *data, size_t n)
{
	const struct log_conf *lc = channel == 2 ? &p->conf->err : &p->conf->out;
	struct proc_events *pe = p->events;
	if (channel == 1 && p->conf->kind == KIND_EVENTLISTENER)
		return n; /* a listener's stdout is its protocol (events_listener_output) */
	if (lc->capture_maxbytes && pe)
		return capture_chunk(p, channel, &pe->cap[channel == 2], data, n);
	if (lc->events_enabled)
		notify_output(p, channel == 2 ? EV_PROCESS_LOG_STDERR : EV_PROCESS_LOG_STDOUT,
			      channel, data, n);
	return n;
}
