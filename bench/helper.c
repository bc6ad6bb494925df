/* The programs the benchmarks supervise, and the physical reference they are compared with.
 * One binary so that every scenario forks and execs the same file.
 *
 *   helper ready FIFO            write "<pid>\n" to FIFO, then sleep until killed
 *   helper writer ID LINES GO    once a byte comes on FIFO GO, write LINES lines of 100 bytes
 *                                to stdout in 4 KiB writes
 *   helper orphans N GO DONE RDY fork N children that block on FIFO GO until EOF, write one
 *                                byte to FIFO DONE and exit; report on FIFO RDY, then exit
 *                                (the children become orphans of the supervisor)
 *   helper reaper ARGV...        the reference reaper: fork + exec ARGV once, then reap every
 *                                child (orphans included) on each SIGCHLD until SIGTERM
 *   helper sigecho FIFO          write "ready\n" to FIFO, then for each SIGUSR1 received the
 *                                CLOCK_MONOTONIC time in ns and "\n" (signal latency)
 *   helper spawn N ARGV...       the reference "supervisor": fork + exec ARGV N times, then
 *                                reap; on SIGTERM, TERM every child and exit once all are
 *                                reaped (no pipes, no config, no bookkeeping)
 *   helper counter BYTES OUT     the log benchmarks' reader: sets its stdin pipe to PIPE_DEPTH,
 *                                reads it in 1 MiB reads until EOF or BYTES bytes, checks every
 *                                line against the writers' pattern (an optional "wN | " prefix
 *                                first), and writes "bytes lines intact last_ns" to file OUT
 *                                (last_ns: CLOCK_MONOTONIC of the last read). In C, so the
 *                                reading end is never what limits the throughput measured.
 *   helper lines N GO            once a byte comes on FIFO GO, write N lines of 100 bytes to
 *                                stdout, one write() each
 *   helper listener BYTES OUT    an event listener that answers at once: READY, then for each
 *                                event its header and payload, RESULT 2 OK, READY again; once
 *                                the payloads' data (after their first line) add up to BYTES,
 *                                writes "events bytes first_ns last_ns" to file OUT and goes on
 *   helper pingpong N            the floor of the event-listener row: two processes pass a byte
 *                                back and forth over two pipes N times; prints the round
 *                                trips per second
 *   helper clients SOCK N PER    the concurrent-clients row's client: N connections to unix
 *                                socket SOCK, all connected first, then each sends PER
 *                                supervisor.getState calls one after the other (kept alive);
 *                                prints "requests wall_s p50_ms p99_ms failed". One thread and
 *                                epoll, so the figure is the server's, not the client's
 *                                scheduling of N threads
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE 100
#define CHUNK 4096
#define PIPE_DEPTH (1024 * 1024) /* every pipe the log benchmark reads, whoever writes it */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write");
		buf += n;
		len -= (size_t)n;
	}
}

_Noreturn static void ready(const char *fifo)
{
	char msg[32];
	int fd = open(fifo, O_WRONLY);
	if (fd < 0)
		die(fifo);
	int len = snprintf(msg, sizeof(msg), "%d\n", (int)getpid());
	write_all(fd, msg, (size_t)len);
	close(fd);
	for (;;)
		pause();
}

/* Line k of writer w: "w<w> <k, 12 digits> " then a filler that depends on w and k, so a
 * line torn and glued to another writer's tail no longer checks out. */
static void make_line(char *out, int w, long k)
{
	int n = snprintf(out, LINE, "w%d %012ld ", w, k);
	char c = (char)('a' + (w * 7 + k) % 26);
	memset(out + n, c, (size_t)(LINE - 1 - n));
	out[LINE - 1] = '\n';
}

/* One byte per waiter: the harness can release them before they have all opened the FIFO. */
static void wait_byte(const char *fifo)
{
	char c;
	int fd = open(fifo, O_RDONLY);
	if (fd < 0)
		die(fifo);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

/* The next line after `line` (line k of writer w, made by make_line) in place: the counter's
 * digits incremented by hand and the filler letter advanced, so a writer costs little CPU next
 * to what it measures (snprintf per line was a third of the pipeline's CPU). */
static void next_line(char *line)
{
	for (int i = 14; i >= 3; i--) {
		if (line[i] != '9') {
			line[i]++;
			break;
		}
		line[i] = '0';
	}
	char c = (char)(line[16] == 'z' ? 'a' : line[16] + 1);
	memset(line + 16, c, LINE - 17);
}

static int writer(int w, long lines, const char *go)
{
	static char buf[CHUNK + LINE];
	char line[LINE];
	size_t used = 0;
	make_line(line, w, 0);
	wait_byte(go);
	for (long k = 0; k < lines; k++) {
		if (k > 0)
			next_line(line);
		memcpy(buf + used, line, LINE);
		used += LINE;
		if (used >= CHUNK) {
			write_all(1, buf, CHUNK);
			used -= CHUNK;
			memmove(buf, buf + CHUNK, used);
		}
	}
	write_all(1, buf, used);
	return 0;
}

static int orphans(long n, const char *go, const char *done, const char *rdy)
{
	int gofd = open(go, O_RDONLY);
	int donefd = open(done, O_WRONLY);
	if (gofd < 0 || donefd < 0)
		die("orphans: open");
	int null = open("/dev/null", O_RDWR);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			/* off the supervisor's log pipes, so only the exit is measured */
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			char c;
			while (read(gofd, &c, 1) != 0)
				;
			write_all(donefd, "x", 1);
			_exit(0);
		}
	}
	int fd = open(rdy, O_WRONLY);
	if (fd < 0)
		die(rdy);
	write_all(fd, "forked\n", 7);
	return 0;
}

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

static int spawn(long n, char **argv)
{
	/* no SA_RESTART: SIGTERM must interrupt wait() */
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			execv(argv[0], argv);
			_exit(127);
		}
	}
	while (!stopping) {
		if (wait(NULL) < 0 && errno == ECHILD)
			pause();
	}
	/* as a supervisor's shutdown: signal every child, exit when all are reaped */
	kill(-1, SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/* What a minimal PID 1 does for orphans (tini's loop): nothing but waitpid(-1) on SIGCHLD. */
static int reaper(char **argv)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGTERM)
			return 0;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

/* A line as the writers make it (make_line), after an optional "wN +| " name prefix. */
static int line_intact(const char *l, size_t n)
{
	if (n > 4 && l[0] == 'w' && memchr(l, '|', n < 16 ? n : 16)) {
		const char *bar = memchr(l, '|', n < 16 ? n : 16);
		if (bar[1] != ' ')
			return 0;
		n -= (size_t)(bar + 2 - l);
		l = bar + 2;
	}
	if (n != LINE - 1 || l[0] != 'w' || l[1] < '0' || l[1] > '9' || l[2] != ' ' || l[15] != ' ')
		return 0;
	for (int i = 3; i < 15; i++)
		if (l[i] < '0' || l[i] > '9')
			return 0;
	long k = strtol(l + 3, NULL, 10);
	char c = (char)('a' + ((l[1] - '0') * 7 + k) % 26);
	for (size_t i = 16; i < n; i++)
		if (l[i] != c)
			return 0;
	return 1;
}

/* The counter's check, fast in the usual case: each writer's next line is known (its 12 digits
 * incremented in place, its filler letter advanced), so a line is two compares against it. Any
 * other line gets line_intact(), and the writer's expectation follows an intact one. */
struct expect {
	char digits[12];
	int fill; /* 0..25 */
};

static char fills[26][LINE];

static void expect_after(struct expect *e, const char *digits, int fill)
{
	memcpy(e->digits, digits, 12);
	for (int i = 11; i >= 0; i--) {
		if (e->digits[i] != '9') {
			e->digits[i]++;
			break;
		}
		e->digits[i] = '0';
	}
	e->fill = (fill + 1) % 26;
}

static int line_checks(struct expect *exp, const char *l, size_t n)
{
	if (n > 4 && l[0] == 'w' && l[3] == '|' && l[4] == ' ') { /* "wN | " */
		l += 5;
		n -= 5;
	}
	/* a bare line of a writer: its expectation, and the two compares */
	struct expect *e =
	    n == LINE - 1 && l[0] == 'w' && l[1] >= '0' && l[1] <= '9' ? &exp[l[1] - '0'] : NULL;
	if (e && l[2] == ' ' && !memcmp(l + 3, e->digits, 12) && l[15] == ' ' &&
	    !memcmp(l + 16, fills[e->fill], LINE - 17)) {
		expect_after(e, l + 3, e->fill);
		return 1;
	}
	if (!line_intact(l, n))
		return 0;
	if (e) /* intact and bare: that writer goes on from here */
		expect_after(e, l + 3, l[16] - 'a');
	return 1;
}

static int counter(long long want, const char *out)
{
	static char buf[(1 << 20) + 256];
	struct expect exp[10];
	for (int c = 0; c < 26; c++)
		memset(fills[c], 'a' + c, LINE);
	for (int w = 0; w < 10; w++) {
		char first[LINE];
		make_line(first, w, 0);
		memcpy(exp[w].digits, first + 3, 12);
		exp[w].fill = first[16] - 'a';
	}
	size_t keep = 0; /* the start of a line not yet ended, at buf[0] */
	long long bytes = 0, lines = 0, intact = 0;
	struct timespec last = {0, 0};
	fcntl(0, F_SETPIPE_SZ, PIPE_DEPTH);
	while (bytes < want) {
		ssize_t n = read(0, buf + keep, sizeof(buf) - 256 - keep);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &last);
		bytes += n;
		size_t end = keep + (size_t)n, start = 0;
		for (char *nl; (nl = memchr(buf + start, '\n', end - start)); start = (size_t)(nl - buf) + 1) {
			lines++;
			intact += line_checks(exp, buf + start, (size_t)(nl - buf) - start);
		}
		keep = end - start;
		if (keep > 256) /* longer than any line: a torn one; count it as such */
			keep = 0, lines++;
		memmove(buf, buf + start, keep);
	}
	FILE *f = fopen(out, "w");
	if (!f)
		die(out);
	fprintf(f, "%lld %lld %lld %lld\n", bytes, lines, intact,
		(long long)last.tv_sec * 1000000000LL + last.tv_nsec);
	fclose(f);
	/* whatever comes after (the supervisor's own exit lines) is not measured */
	while (read(0, buf, sizeof(buf) - 256) > 0)
		;
	return 0;
}

static int lines_writer(long n, const char *go)
{
	char line[LINE];
	make_line(line, 0, 0);
	wait_byte(go);
	for (long k = 0; k < n; k++) {
		if (k > 0)
			next_line(line);
		write_all(1, line, LINE);
	}
	return 0;
}

/* Reads exactly n bytes of stdin through a buffer; 0 at EOF. */
static struct {
	char data[1 << 16];
	size_t head, len;
} in;

static int in_fill(void)
{
	if (in.len > 0)
		return 1;
	ssize_t r;
	do
		r = read(0, in.data, sizeof(in.data));
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return 0;
	in.head = 0;
	in.len = (size_t)r;
	return 1;
}

static int in_byte(char *c)
{
	if (!in_fill())
		return 0;
	*c = in.data[in.head++];
	in.len--;
	return 1;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

_Noreturn static void listener(long long want, const char *out)
{
	long long events = 0, bytes = 0, first = 0, last = 0;
	int reported = 0;
	char header[1024];
	write_all(1, "READY\n", 6);
	for (;;) {
		size_t hn = 0;
		char c;
		while (in_byte(&c) && c != '\n')
			if (hn < sizeof(header) - 1)
				header[hn++] = c;
		if (hn == 0 && !in_fill())
			exit(0);
		header[hn] = '\0';
		const char *lenp = strstr(header, "len:");
		long len = lenp ? strtol(lenp + 4, NULL, 10) : 0;
		long body = 0, data = 0;
		int past_first_line = 0;
		while (body < len && in_byte(&c)) {
			body++;
			if (past_first_line)
				data++;
			else if (c == '\n')
				past_first_line = 1;
		}
		last = now_ns();
		if (events++ == 0)
			first = last;
		bytes += data;
		write_all(1, "RESULT 2\nOKREADY\n", 17);
		if (!reported && bytes >= want) {
			reported = 1;
			FILE *f = fopen(out, "w");
			if (!f)
				die(out);
			fprintf(f, "%lld %lld %lld %lld\n", events, bytes, first, last);
			fclose(f);
		}
	}
}

_Noreturn static void sigecho(const char *fifo)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = open(fifo, O_WRONLY);
	if (fd < 0)
		die(fifo);
	write_all(fd, "ready\n", 6);
	for (;;) {
		if (sigwaitinfo(&set, NULL) < 0)
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "%lld\n",
				   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
		write_all(fd, msg, (size_t)len);
	}
}

static int pingpong(long n)
{
	int there[2], back[2];
	char c = 'x';
	if (pipe(there) < 0 || pipe(back) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			write_all(back[1], &c, 1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		write_all(there[1], &c, 1);
		if (read(back[0], &c, 1) != 1)
			die("read");
	}
	long long t1 = now_ns();
	close(there[1]);
	waitpid(pid, NULL, 0);
	printf("%.0f\n", (double)n / ((double)(t1 - t0) / 1e9));
	return 0;
}

#define CLIENT_BUF 8192

#define CLIENT_BODY                                                                                \
	"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName>"            \
	"<params></params></methodCall>"
static char client_req[512];
static size_t client_req_len;

struct client {
	int fd;
	int left; /* calls still to send */
	long long t0;
	size_t len;
	char buf[CLIENT_BUF];
};

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* Length of the whole response at the head of buf, or 0 if it has not all come. */
static size_t response_len(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t body = 0;
	for (const char *p = buf; p && p < end; p = memmem(p, (size_t)(end - p), "\r\n", 2)) {
		p += 2;
		if (!strncasecmp(p, "Content-Length:", 15))
			body = strtoul(p + 15, NULL, 10);
	}
	size_t total = (size_t)(end + 4 - buf) + body;
	return total <= len ? total : 0;
}

/* False if the request did not go out whole (the socket's buffer is empty at this point). */
static bool client_send(struct client *c)
{
	c->t0 = now_ns();
	c->left--;
	return send(c->fd, client_req, client_req_len, MSG_NOSIGNAL) == (ssize_t)client_req_len;
}

static void client_fail(struct client *c, int *failed, int *live)
{
	(*failed)++;
	(*live)--;
	close(c->fd);
}

static int clients(const char *path, int n, int per)
{
	client_req_len = (size_t)snprintf(client_req, sizeof(client_req),
					  "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n"
					  "Content-Length: %zu\r\nContent-Type: text/xml\r\n\r\n%s",
					  sizeof(CLIENT_BODY) - 1, CLIENT_BODY);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	struct client *cs = calloc((size_t)n, sizeof(*cs));
	long long *lat = malloc(sizeof(*lat) * (size_t)n * (size_t)per);
	int ep = epoll_create1(0);
	if (!cs || !lat || ep < 0)
		die("clients");
	int failed = 0, live = 0;
	for (int i = 0; i < n; i++) {
		cs[i].fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			failed++;
			if (cs[i].fd >= 0)
				close(cs[i].fd);
			cs[i].fd = -1;
			continue;
		}
		fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
		cs[i].left = per;
		live++;
	}
	long nlat = 0;
	long long start = now_ns(), deadline = start + 60000000000LL;
	for (int i = 0; i < n; i++)
		if (cs[i].fd >= 0 && !client_send(&cs[i]))
			client_fail(&cs[i], &failed, &live);
	struct epoll_event evs[64];
	while (live > 0 && now_ns() < deadline) {
		int k = epoll_wait(ep, evs, 64, 1000);
		for (int j = 0; j < k; j++) {
			struct client *c = evs[j].data.ptr;
			ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (r < 0 && errno == EAGAIN)
				continue;
			size_t whole = 0;
			if (r > 0) {
				c->len += (size_t)r;
				whole = response_len(c->buf, c->len);
			}
			if (r <= 0 || (!whole && c->len == sizeof(c->buf))) {
				client_fail(c, &failed, &live);
				continue;
			}
			if (!whole)
				continue;
			lat[nlat++] = now_ns() - c->t0;
			memmove(c->buf, c->buf + whole, c->len - whole);
			c->len -= whole;
			if (c->left > 0) {
				if (!client_send(c))
					client_fail(c, &failed, &live);
				continue;
			}
			live--;
			close(c->fd);
		}
	}
	long long wall = now_ns() - start;
	failed += live;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_ll);
	double p50 = nlat ? (double)lat[nlat / 2] / 1e6 : 0;
	double p99 = nlat ? (double)lat[(nlat * 99) / 100 - (nlat >= 100)] / 1e6 : 0;
	printf("%ld %.6f %.3f %.3f %d\n", nlat, (double)wall / 1e9, p50, p99, failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sigecho"))
		sigecho(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "ready"))
		ready(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "lines"))
		return lines_writer(atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "listener"))
		listener(atoll(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "counter"))
		return counter(atoll(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "writer"))
		return writer(atoi(argv[2]), atol(argv[3]), argv[4]);
	if (argc == 6 && !strcmp(argv[1], "orphans"))
		return orphans(atol(argv[2]), argv[3], argv[4], argv[5]);
	if (argc >= 3 && !strcmp(argv[1], "reaper"))
		return reaper(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "spawn"))
		return spawn(atol(argv[2]), argv + 3);
	if (argc == 5 && !strcmp(argv[1], "clients"))
		return clients(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see bench/helper.c\n");
	return 2;
}
