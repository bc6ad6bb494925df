#include "resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Owned by the thread until it writes its own address to the pipe, then by the loop. Only
 * the loop reads or writes `done`. */
struct lookup {
	char *host, *port;
	lookup_done_fn done; /* NULL once cancelled */
	void *owner;
	int rc;	 /* getaddrinfo's */
	int err; /* errno, for EAI_SYSTEM */
	struct sockaddr_storage addr;
	socklen_t len;
};

static struct ev_loop *loop;
static ev_io results;
static int pipefd[2] = {-1, -1};
static int running;

static void lookup_free(struct lookup *l)
{
	free(l->host);
	free(l->port);
	free(l);
}

static void *lookup_thread(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
	l->rc = getaddrinfo(l->host, l->port, &hints, &res);
	l->err = errno;
	if (l->rc == 0) {
		memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
		l->len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	/* a pointer is less than PIPE_BUF, so the write is whole; the pipe holds far more than
	 * RESOLVER_MAX of them, so it does not block for long */
	while (write(pipefd[1], &l, sizeof(l)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void results_cb(struct ev_loop *lp, ev_io *w, int revents)
{
	struct lookup *l;
	for (;;) {
		ssize_t got = read(pipefd[0], &l, sizeof(l));
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(l))
			return;
		running--;
		if (l->done) {
			const char *err = NULL;
			if (l->rc == EAI_SYSTEM)
				err = strerror(l->err);
			else if (l->rc)
				err = gai_strerror(l->rc);
			l->done(l->owner, err, &l->addr, l->len);
		}
		lookup_free(l);
	}
}

void resolver_init(struct ev_loop *l)
{
	loop = l;
}

static bool pipe_ready(void)
{
	if (pipefd[0] >= 0)
		return true;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return false;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	ev_io_init(&results, results_cb, pipefd[0], EV_READ);
	ev_io_start(loop, &results);
	ev_unref(loop); /* pending lookups do not keep the loop alive */
	return true;
}

struct lookup *resolver_start(const char *host, const char *port, lookup_done_fn done, void *owner)
{
	if (running >= RESOLVER_MAX) {
		errno = EAGAIN;
		return NULL;
	}
	if (!pipe_ready())
		return NULL;
	struct lookup *l = calloc(1, sizeof(*l));
	if (!l || !(l->host = strdup(host)) || !(l->port = strdup(port))) {
		if (l)
			lookup_free(l);
		errno = ENOMEM;
		return NULL;
	}
	l->done = done;
	l->owner = owner;
	pthread_attr_t attr;
	sigset_t all;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* signals are the loop's: none lands on a lookup thread */
	pthread_attr_setsigmask_np(&attr, &all);
	pthread_t t;
	int rc = pthread_create(&t, &attr, lookup_thread, l);
	pthread_attr_destroy(&attr);
	if (rc) {
		lookup_free(l);
		errno = rc;
		return NULL;
	}
	running++;
	return l;
}

void resolver_cancel(struct lookup *l)
{
	l->done = NULL;
}

int resolver_running(void)
{
	return running;
}
