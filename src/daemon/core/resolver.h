/*
 * Name lookups off the event loop, for the health checks' http: and tcp: names: getaddrinfo
 * may wait as long as the resolver does (forever for one that never answers), so each lookup
 * runs on a detached thread of its own, and hands its result back through a pipe the loop
 * watches. At most RESOLVER_MAX lookups run at once (a lookup given up by its caller counts
 * until its thread ends); past that resolver_start fails with EAGAIN.
 */
#ifndef PIDVISOR_RESOLVER_H
#define PIDVISOR_RESOLVER_H

#include <ev.h>
#include <sys/socket.h>

#define RESOLVER_MAX 32

struct lookup;

/* On the loop, once per lookup not cancelled: err is NULL and addr/len set, or err says why. */
typedef void (*lookup_done_fn)(void *owner, const char *err, const struct sockaddr_storage *addr,
			       socklen_t len);

void resolver_init(struct ev_loop *loop);
/* Starts looking host:port up (a TCP address). NULL with errno when it cannot: EAGAIN at the
 * bound, or what creating the thread failed with. */
struct lookup *resolver_start(const char *host, const char *port, lookup_done_fn done, void *owner);
/* The caller gives the lookup up: done is not called, and its memory goes when its thread
 * ends. */
void resolver_cancel(struct lookup *l);
/* Lookups whose threads have not ended. */
int resolver_running(void);

#endif
