/*
 * The soak's numbered writer: writer NAME LINES_PER_S [LIMIT]
 * Writes "NAME INSTANCE SEQ padding" lines to stdout, in ten bursts a second, until SIGTERM or
 * LIMIT lines, then "NAME INSTANCE END COUNT": the soak checks every line of every instance
 * reached the output, once and whole.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* a line is shorter than PIPE_BUF: a write is all or nothing, so only EINTR is retried */
static void put(const char *line, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, line, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(3);
		line += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *name = argv[1];
	long rate = atol(argv[2]), limit = argc > 3 ? atol(argv[3]) : 0;
	struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: a blocked write wakes */
	sigaction(SIGTERM, &sa, NULL);
	struct timespec t0;
	clock_gettime(CLOCK_REALTIME, &t0);
	char inst[64], line[256];
	snprintf(inst, sizeof(inst), "%lld.%09ld.%d", (long long)t0.tv_sec, t0.tv_nsec,
		 (int)getpid());
	long seq = 0, burst = rate / 10 > 0 ? rate / 10 : 1;
	while (!stopping && (limit == 0 || seq < limit)) {
		for (long i = 0; i < burst && !stopping && (limit == 0 || seq < limit);
		     i++, seq++) {
			int n = snprintf(line, sizeof(line),
					 "%s %s %ld the quick brown fox jumps over the lazy dog\n",
					 name, inst, seq);
			put(line, (size_t)n);
		}
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	int n = snprintf(line, sizeof(line), "%s %s END %ld\n", name, inst, seq);
	put(line, (size_t)n);
	return 0;
}
