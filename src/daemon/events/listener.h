/*
 * The event listener protocol, as an [eventlistener:x] speaks it on its stdout: `READY\n` when it
 * wants an event, `RESULT <len>\n<result>` when done with one. A pure parser of supervisord
 * 4.2.5's PEventListenerDispatcher: bytes in, outcomes out, no I/O, so the fuzzer and the unit
 * tests drive it directly. events.c owns what the outcomes do (dispatch, rebuffer, log lines).
 */
#ifndef PIDVISOR_LISTENER_H
#define PIDVISOR_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* supervisord's EventListenerStates, with its names */
enum listener_state { LISTENER_READY, LISTENER_BUSY, LISTENER_ACKNOWLEDGED, LISTENER_UNKNOWN };

/* A result line longer than this without its newline is a bad result line (supervisord waits
 * for the newline forever, buffering every byte). */
#define LISTENER_LINE_MAX 1024

struct listener_proto {
	enum listener_state state;
	char buf[LISTENER_LINE_MAX]; /* ACKNOWLEDGED: the token so far; BUSY: the result line */
	size_t len;
	bool have_len;		 /* BUSY: the result line was read */
	bool endless;		 /* its length was negative or too big: the result never ends */
	unsigned long long need; /* result bytes still to come */
	unsigned long long got;	 /* result bytes so far */
	char result[2];		 /* the first of them: only "OK" is told apart */
	struct buf *keep;	 /* non-NULL: the result's bytes are appended there too (a result
				    handler that reads them); the buf's own bound applies */
};

enum listener_outcome {
	LISTENER_MORE,	     /* everything was consumed; nothing happened yet */
	LISTENER_GOT_READY,  /* ACKNOWLEDGED -> READY */
	LISTENER_VIOLATION,  /* -> UNKNOWN: not READY when it should have been, or data while READY
			      */
	LISTENER_BAD_RESULT, /* -> UNKNOWN: the result line's length is not a number */
	LISTENER_RESULT,     /* -> ACKNOWLEDGED: a whole result; ok when it is exactly "OK" */
};

struct listener_step {
	enum listener_outcome outcome;
	enum listener_state from;
	bool ok;	  /* LISTENER_RESULT */
	const char *line; /* LISTENER_BAD_RESULT: the line, without its newline */
	size_t line_len;
};

const char *listener_state_name(enum listener_state s);

/* A new child: ACKNOWLEDGED, nothing buffered (keep is left as it is: start from a zeroed
 * struct). */
void listener_reset(struct listener_proto *lp);
/* The event went out: READY -> BUSY. */
void listener_sent(struct listener_proto *lp);

/*
 * Takes bytes up to the first outcome: returns how many were consumed and what happened. The
 * caller calls again with the rest until it is all consumed; an outcome may consume nothing
 * (a zero-length result completes on the next byte, as in supervisord). Bytes a listener in
 * UNKNOWN writes are all consumed and ignored.
 */
size_t listener_feed(struct listener_proto *lp, const char *p, size_t n, struct listener_step *st);

/* Python's int() of a result line's text after "RESULT " (any 7 bytes, as supervisord slices
 * them): optional blanks, sign, digits with single '_' between them. false if not a number;
 * *neg and a saturated *v otherwise. */
bool listener_parse_len(const char *s, size_t n, bool *neg, unsigned long long *v);

#endif
