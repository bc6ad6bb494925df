/*
 * Health checks of programs (the `healthcheck` key): a command (`cmd:ARGV`, run without a
 * shell), an HTTP GET (`http://HOST:PORT/PATH`, 2xx and 3xx are healthy) or a TCP connect
 * (`tcp:HOST:PORT`), the last two in-process on the event loop with no fork; a HOST that is
 * a name is looked up at each check on a thread (resolver.h), within the check's timeout. A program
 * is `starting` from its spawn until its first passing check, `healthy` after it, and `unhealthy`
 * after `healthcheck_retries` failures in a row; failures within `healthcheck_start_period`
 * of the spawn do not count. While starting, checks repeat every min(interval, 1 s) so a
 * dependent learns of readiness early; after that every `healthcheck_interval`.
 */
#ifndef PIDVISOR_HEALTH_H
#define PIDVISOR_HEALTH_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

struct process;

enum health_status { HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

struct health {
	struct process *p;
	enum health_status status;
	bool active;	  /* the program runs: checks are scheduled */
	int failures;	  /* in a row, counted ones */
	double spawned;	  /* ev_now() at the spawn */
	ev_timer tick;	  /* the next check */
	ev_timer timeout; /* the check in flight */
	ev_io io;	  /* http:, tcp: the socket; cmd: the output pipe */
	int fd;
	pid_t pid;	/* cmd: the running check, 0 when none */
	struct buf got; /* http: the answer's head; cmd: its output (bounded) */
	bool in_flight;
	struct lookup *lookup;	     /* http:, tcp: a name being looked up */
	struct health *next_running; /* cmd checks waiting to be reaped, by pid */
};

/* Called when a check's verdict changes the status. */
typedef void (*health_change_fn)(struct process *p, enum health_status from);

void health_init(struct ev_loop *loop, health_change_fn on_change);
/* The program was spawned: its checks start (no-op without a healthcheck). */
void health_start(struct process *p);
/* The program exited or is stopping: checks stop, and a check command still running is
 * killed (and reaped later through health_reaped). */
void health_stop(struct process *p);
/* The process goes away (its group removed): health_stop, and its memory. Nothing refers to
 * it afterwards: a lookup in flight is given up, and a check command still running is killed
 * and reaped as a stranger. */
void health_free(struct process *p);
/* A child that is not a program was reaped: true when it was a check command. */
bool health_reaped(pid_t pid, int status);
const char *health_status_name(enum health_status s);
/* The status shown for a program: NULL when it has no check or is not running. */
const char *health_of(const struct process *p);

#endif
