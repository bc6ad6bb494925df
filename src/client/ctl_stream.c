/* The `pidvisor ctl` actions that read logs and stream: tail, maintail (with -f, the /logtail
 * and /mainlogtail streams) and fg, which also forwards stdin. Ctrl-C ends a stream the way
 * KeyboardInterrupt does in supervisorctl. */
#include "ctl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "states.h"

static volatile sig_atomic_t interrupted;

static void write_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	fwrite(data, 1, len, stdout);
	fflush(stdout);
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C ends a stream the way KeyboardInterrupt does in supervisorctl (a
 * newline, the exit status kept). While caught, SIGINT stays blocked except
 * inside ppoll() under sigint_wait_mask, so it cannot slip in between a
 * check of the flag and a blocking wait. */
static sigset_t sigint_wait_mask;

static void catch_sigint(bool on)
{
	struct sigaction sa = {.sa_handler = on ? on_sigint : SIG_DFL};
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigemptyset(&sa.sa_mask);
	if (on) {
		interrupted = 0;
		sigaction(SIGINT, &sa, NULL);
		sigprocmask(SIG_BLOCK, &block, &sigint_wait_mask);
		sigdelset(&sigint_wait_mask, SIGINT);
	} else {
		sigprocmask(SIG_UNBLOCK, &block, NULL); /* a pending one only sets the flag */
		sigaction(SIGINT, &sa, NULL);
	}
}

/* `tail -f` / `maintail -f`: the /logtail stream, until Ctrl-C or the end. */
static void tail_follow(struct ctl *c, const char *path)
{
	ctl_out("==> Press Ctrl-C to exit <==");
	fflush(stdout);
	struct rpc_client stream;
	char err[256];
	if (!rpc_client_init(&stream, c->serverurl, c->username, c->password, err, sizeof(err))) {
		fprintf(stderr, "%s%s Cannot connect, error: %s\n", c->serverurl, path, err);
		return;
	}
	struct rpc_result r;
	stream.timeout_ms = c->timeout_ms;
	catch_sigint(true);
	enum rpc_status st =
	    rpc_stream(&stream, path, write_stdout, NULL, &interrupted, &sigint_wait_mask, &r);
	catch_sigint(false);
	if (interrupted)
		putchar('\n');
	else if (st == RPC_HTTP)
		fprintf(stderr, "%s%s Cannot read, status code %d\n", c->serverurl, path,
			r.http_status);
	else if (st == RPC_CONNECT)
		fprintf(stderr, "%s%s Cannot connect, error: %s\n", c->serverurl, path, r.message);
	else if (st == RPC_TIMEOUT)
		fprintf(stderr, "%s%s %s\n", c->serverurl, path, r.message);
	rpc_result_free(&r);
	rpc_client_close(&stream);
	buf_free(&stream.auth);
}

bool ctl_parse_tail_modifier(const char *mod, long long *bytes, bool *follow)
{
	const char *what = mod + 1;
	*follow = strcmp(what, "f") == 0;
	if (*follow)
		return true;
	/* Python's int(): optional sign and surrounding spaces, digits, '_' between digits */
	char *end;
	errno = 0;
	long long v = strtoll(what, &end, 10);
	if (end == what || *end || errno)
		return false;
	*bytes = v;
	return true;
}

/* who: the process name, or NULL for the main log (no BAD_NAME there). */
static void read_log_result(struct ctl *c, struct rpc_result *r, const char *who)
{
	if (r->status == RPC_FAULT) {
		c->exitstatus = EXIT_GENERIC;
		if (r->fault_code == XR_NO_FILE)
			ctl_out("%s: ERROR (no log file)", who ? who : "supervisord");
		else if (r->fault_code == XR_FAILED)
			ctl_out("%s: ERROR (unknown error reading log)", who ? who : "supervisord");
		else if (r->fault_code == XR_BAD_NAME && who)
			ctl_out("%s: ERROR (no such process name)", who);
		else {
			ctl_unexpected_fault(c, r);
			return;
		}
	} else {
		if (r->value->type == XR_STRING)
			fwrite(r->value->u.str.ptr, 1, r->value->u.str.len, stdout);
		putchar('\n');
	}
	rpc_result_free(r);
}

void ctl_do_tail(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	const char *modifier = NULL, *name = NULL, *channel = "stdout";
	char chan[64];
	char **a = w.v;
	size_t n = w.n;
	long long bytes = 1600;
	bool follow = false;
	if (n < 1 || n > 3) {
		ctl_out(n < 1 ? "Error: too few arguments" : "Error: too many arguments");
		c->exitstatus = EXIT_GENERIC;
		ctl_print_help("tail");
		goto done;
	}
	if (a[0][0] == '-') {
		modifier = a[0];
		a++;
		n--;
	}
	if (n == 1) {
		name = a[0];
	} else if (n) {
		name = a[0];
		snprintf(chan, sizeof(chan), "%s", a[n - 1]);
		for (char *p = chan; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(chan, "stderr") != 0 && strcmp(chan, "stdout") != 0) {
			struct buf sb;
			buf_init(&sb, 0);
			python_repr(&sb, a[n - 1]);
			ctl_out("Error: bad channel %s", sb.data);
			buf_free(&sb);
			c->exitstatus = EXIT_GENERIC;
			goto done;
		}
		channel = strcmp(chan, "stderr") == 0 ? "stderr" : "stdout";
	} else {
		ctl_out("Error: tail requires process name");
		c->exitstatus = EXIT_GENERIC;
		goto done;
	}
	if (modifier && !ctl_parse_tail_modifier(modifier, &bytes, &follow)) {
		ctl_out("Error: bad argument %s", modifier);
		c->exitstatus = EXIT_GENERIC;
		goto done;
	}
	if (follow) {
		struct buf path;
		buf_init(&path, 0);
		buf_printf(&path, "/logtail/%s/%s", name, channel);
		tail_follow(c, path.data);
		buf_free(&path);
		goto done;
	}
	struct rpc_result r;
	if (ctl_call_read_log(c, &r,
			      strcmp(channel, "stdout") == 0 ? "supervisor.readProcessStdoutLog"
							     : "supervisor.readProcessStderrLog",
			      name, -bytes))
		read_log_result(c, &r, name);
done:
	ctl_words_free(&w);
}

void ctl_do_maintail(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	long long bytes = 1600;
	bool follow = false;
	if (w.n > 1) {
		ctl_out("Error: too many arguments");
		c->exitstatus = EXIT_GENERIC;
		ctl_print_help("maintail");
	} else if (w.n == 1 &&
		   (w.v[0][0] != '-' || !ctl_parse_tail_modifier(w.v[0], &bytes, &follow))) {
		ctl_out("Error: bad argument %s", w.v[0]);
		c->exitstatus = EXIT_GENERIC;
	} else if (follow) {
		tail_follow(c, "/mainlogtail");
	} else {
		struct rpc_result r;
		if (ctl_call_read_log(c, &r, "supervisor.readLog", NULL, -bytes))
			read_log_result(c, &r, NULL);
	}
	ctl_words_free(&w);
}

static pid_t fg_stream(struct ctl *c, const char *name, const char *channel)
{
	fflush(stdout);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* never outlive `fg`, whatever ends it */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	struct rpc_client stream;
	struct rpc_result r;
	struct buf path;
	char err[256];
	buf_init(&path, 0);
	buf_printf(&path, "/logtail/%s/%s", name, channel);
	if (rpc_client_init(&stream, c->serverurl, c->username, c->password, err, sizeof(err))) {
		stream.timeout_ms = c->timeout_ms;
		rpc_stream(&stream, path.data, write_stdout, NULL, NULL, NULL, &r);
	}
	_exit(0);
}

/* Process state RUNNING; anything else ends `fg`. */
static bool fg_running(struct ctl *c, const char *name, struct rpc_result *r)
{
	if (!ctl_call_s(c, r, "supervisor.getProcessInfo", name, NULL)) {
		r->status = RPC_PROTOCOL; /* already reported */
		return false;
	}
	bool running = r->status == RPC_OK && xr_member_int(r->value, "state", -1) == PS_RUNNING;
	return running;
}

/* One line of stdin for `fg`, without stdio so that the wait is a ppoll()
 * that Ctrl-C can end; NULL on EOF or Ctrl-C. */
static char *read_input_line(struct buf *pending)
{
	for (;;) {
		char *nl = pending->len ? memchr(pending->data, '\n', pending->len) : NULL;
		if (nl) {
			char *line = strndup(pending->data, (size_t)(nl - pending->data));
			buf_consume(pending, (size_t)(nl - pending->data) + 1);
			return line;
		}
		if (interrupted)
			return NULL;
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		if (ppoll(&pfd, 1, NULL, &sigint_wait_mask) < 0)
			continue;
		char buf[4096];
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR) ||
		    !buf_append(pending, buf, (size_t)(n > 0 ? n : 0)))
			return NULL;
	}
}

/* Whether w names one process and it runs; says why not. */
static bool fg_target(struct ctl *c, const struct ctl_words *w)
{
	struct rpc_result r;
	if (w->n != 1) {
		ctl_out(w->n ? "ERROR: too many process names supplied"
			     : "ERROR: no process name supplied");
		c->exitstatus = EXIT_GENERIC;
		if (!w->n)
			ctl_print_help("fg");
		return false;
	}
	bool running = fg_running(c, w->v[0], &r);
	if (!running) {
		if (r.status == RPC_FAULT && r.fault_code == XR_BAD_NAME) {
			ctl_out("ERROR: bad process name supplied");
			c->exitstatus = EXIT_GENERIC;
		} else if (r.status == RPC_FAULT) {
			ctl_out_fault_error(&r);
		} else if (r.status == RPC_OK) {
			ctl_out("ERROR: process not running");
			c->exitstatus = EXIT_GENERIC;
		}
	}
	rpc_result_free(&r);
	return running;
}

/* One line to the process's stdin (with its newline); false when that ends `fg`, said why. */
static bool fg_send_line(struct ctl *c, const char *name, const char *line)
{
	struct rpc_result r;
	struct xr_value *p[2] = {xr_string(name), NULL};
	size_t len = strlen(line);
	p[1] = xr_string_len(line, len + 1);
	if (p[1])
		p[1]->u.str.ptr[len] = '\n';
	bool sent =
	    ctl_call(c, &r, "supervisor.sendProcessStdin", (const struct xr_value *const *)p, 2);
	xr_free(p[0]);
	xr_free(p[1]);
	if (!sent)
		return false;
	if (r.status == RPC_FAULT) {
		if (r.fault_code == XR_NOT_RUNNING)
			ctl_out("Process got killed");
		else
			ctl_out_fault_error(&r);
		ctl_out("Exiting foreground");
		rpc_result_free(&r);
		return false;
	}
	rpc_result_free(&r);
	bool running = fg_running(c, name, &r);
	rpc_result_free(&r);
	if (!running) {
		ctl_out("Process got killed");
		ctl_out("Exiting foreground");
	}
	return running;
}

/* stdin to the process a line at a time, until EOF, Ctrl-C or the process ends. */
static void fg_forward(struct ctl *c, const char *name)
{
	struct buf input;
	buf_init(&input, 1024 * 1024);
	for (;;) {
		char *line = read_input_line(&input);
		if (!line) {
			ctl_out("Exiting foreground");
			break;
		}
		bool more = fg_send_line(c, name, line);
		free(line);
		if (!more)
			break;
	}
	buf_free(&input);
}

void ctl_do_fg(struct ctl *c, const char *arg)
{
	if (!ctl_upcheck(c))
		return;
	struct ctl_words w;
	ctl_split_words(arg, &w);
	if (!fg_target(c, &w)) {
		ctl_words_free(&w);
		return;
	}
	const char *name = w.v[0];
	catch_sigint(true);
	ctl_out("==> Press Ctrl-C to exit <==");
	pid_t streams[2] = {fg_stream(c, name, "stdout"), fg_stream(c, name, "stderr")};
	fg_forward(c, name);
	/* the streams go before Ctrl-C can kill us again */
	for (int i = 0; i < 2; i++) {
		if (streams[i] > 0) {
			kill(streams[i], SIGTERM);
			waitpid(streams[i], NULL, 0);
		}
	}
	catch_sigint(false);
	ctl_words_free(&w);
}
