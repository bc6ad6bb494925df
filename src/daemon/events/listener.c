#include "listener.h"

#include <limits.h>
#include <string.h>

#define READY_TOKEN	 "READY\n"
#define READY_LEN	 (sizeof(READY_TOKEN) - 1)
#define RESULT_TOKEN_LEN 7 /* "RESULT ": supervisord slices it off without looking at it */

static const char *const state_names[] = {
    [LISTENER_READY] = "READY",
    [LISTENER_BUSY] = "BUSY",
    [LISTENER_ACKNOWLEDGED] = "ACKNOWLEDGED",
    [LISTENER_UNKNOWN] = "UNKNOWN",
};

const char *listener_state_name(enum listener_state s)
{
	return s <= LISTENER_UNKNOWN ? state_names[s] : "UNKNOWN";
}

static void clear_result(struct listener_proto *lp)
{
	lp->len = 0;
	lp->have_len = false;
	lp->endless = false;
	lp->need = 0;
	lp->got = 0;
}

void listener_reset(struct listener_proto *lp)
{
	clear_result(lp);
	lp->state = LISTENER_ACKNOWLEDGED;
}

void listener_sent(struct listener_proto *lp)
{
	clear_result(lp);
	lp->state = LISTENER_BUSY;
}

static bool is_blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool listener_parse_len(const char *s, size_t n, bool *neg, unsigned long long *v)
{
	size_t i = 0;
	while (i < n && is_blank(s[i]))
		i++;
	while (n > i && is_blank(s[n - 1]))
		n--;
	*neg = false;
	*v = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		*neg = s[i++] == '-';
	if (i == n || !is_digit(s[i]))
		return false;
	for (; i < n; i++) {
		if (s[i] == '_') {
			/* one underscore, between two digits */
			if (i + 1 == n || !is_digit(s[i + 1]))
				return false;
			continue;
		}
		if (!is_digit(s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		*v = *v > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : *v * 10 + d;
	}
	return true;
}

static size_t to_state(struct listener_proto *lp, enum listener_state to, enum listener_outcome o,
		       struct listener_step *st, size_t consumed)
{
	st->outcome = o;
	st->from = lp->state;
	lp->state = to;
	return consumed;
}

/* The result line is in lp->buf (without its newline); not whole when it is too long. */
static void result_line(struct listener_proto *lp, bool whole, struct listener_step *st)
{
	bool neg;
	unsigned long long v;
	if (whole && lp->len >= RESULT_TOKEN_LEN &&
	    listener_parse_len(lp->buf + RESULT_TOKEN_LEN, lp->len - RESULT_TOKEN_LEN, &neg, &v)) {
		lp->have_len = true;
		lp->len = 0;
		/* a negative length never completes in supervisord; neither does one we cannot
		 * count to */
		lp->endless = neg && v > 0;
		lp->need = neg ? 0 : v;
		lp->endless |= v == ULLONG_MAX;
		return;
	}
	st->outcome = LISTENER_BAD_RESULT;
	st->from = lp->state;
	st->line = lp->buf;
	st->line_len = lp->len;
	lp->state = LISTENER_UNKNOWN;
	lp->have_len = false;
}

size_t listener_feed(struct listener_proto *lp, const char *p, size_t n, struct listener_step *st)
{
	memset(st, 0, sizeof(*st));
	st->outcome = LISTENER_MORE;
	if (n == 0)
		return 0; /* supervisord looks at nothing until data comes */
	switch (lp->state) {
	case LISTENER_UNKNOWN:
		return n;
	case LISTENER_READY:
		/* anything while READY is spurious: supervisord drops it all */
		clear_result(lp);
		return to_state(lp, LISTENER_UNKNOWN, LISTENER_VIOLATION, st, n);
	case LISTENER_ACKNOWLEDGED: {
		size_t take = READY_LEN - lp->len;
		if (take > n)
			take = n;
		memcpy(lp->buf + lp->len, p, take);
		lp->len += take;
		if (lp->len < READY_LEN)
			return n;
		bool ready = memcmp(lp->buf, READY_TOKEN, READY_LEN) == 0;
		lp->len = 0;
		if (ready)
			return to_state(lp, LISTENER_READY, LISTENER_GOT_READY, st, take);
		/* the rest of what it wrote goes with it */
		return to_state(lp, LISTENER_UNKNOWN, LISTENER_VIOLATION, st, n);
	}
	case LISTENER_BUSY:
		break;
	}
	if (!lp->have_len) {
		const char *nl = memchr(p, '\n', n);
		size_t upto = nl ? (size_t)(nl - p) : n;
		size_t room = sizeof(lp->buf) - lp->len;
		size_t keep = upto < room ? upto : room;
		memcpy(lp->buf + lp->len, p, keep);
		lp->len += keep;
		if (!nl && upto < room)
			return n;
		/* a whole line, or one too long to be a result line */
		result_line(lp, nl && upto <= room, st);
		if (!lp->have_len) {
			size_t consumed = n; /* supervisord drops the rest of what it had */
			lp->len = 0;
			return consumed;
		}
		/* the result's bytes may follow in the same piece */
		size_t used = upto + 1;
		return used + listener_feed(lp, p + used, n - used, st);
	}
	/* the result's bytes; a zero-length result completes here, on the next byte */
	size_t take = 0;
	if (lp->endless)
		return n;
	if (lp->need > 0) {
		take = lp->need < n ? (size_t)lp->need : n;
		for (size_t i = 0; i < take && lp->got + i < sizeof(lp->result); i++)
			lp->result[lp->got + i] = p[i];
		if (lp->keep)
			buf_append(lp->keep, p, take);
		lp->got += take;
		lp->need -= take;
		if (lp->need > 0)
			return take;
	}
	st->ok = lp->got == 2 && memcmp(lp->result, "OK", 2) == 0;
	clear_result(lp);
	return to_state(lp, LISTENER_ACKNOWLEDGED, LISTENER_RESULT, st, take);
}
