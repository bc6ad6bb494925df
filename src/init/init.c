#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reap.h"

/* Message levels, as tini names them: 0 fatal, 1 warning, 2 info, 3 debug, 4 trace. */
enum { L_FATAL, L_WARN, L_INFO, L_DEBUG, L_TRACE };

static const char *const tini_level[] = {"FATAL", "WARN ", "INFO ", "DEBUG", "TRACE"};

/* Where each flavor prints: tini puts fatal errors and warnings on stderr and the rest on
 * stdout, shown up to its verbosity (default 1); dumb-init has errors and, with -v, debug lines,
 * all on stderr; pidvisor is silent but for errors unless -v. */
__attribute__((format(printf, 3, 4))) static void say(const struct init_opts *o, int level,
						      const char *fmt, ...)
{
	if (level > L_FATAL && o->verbosity < (o->flavor == INIT_DUMB_INIT ? 1 : level))
		return;
	FILE *f = o->flavor == INIT_TINI && level >= L_INFO ? stdout : stderr;
	if (o->flavor == INIT_TINI)
		fprintf(f, "[%s tini (%d)] ", tini_level[level], (int)getpid());
	else if (o->flavor == INIT_DUMB_INIT)
		fputs("[dumb-init] ", f);
	else
		fputs("pidvisor: ", f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

void init_opts_defaults(struct init_opts *o, enum init_flavor flavor)
{
	memset(o, 0, sizeof(*o));
	o->flavor = flavor;
	o->verbosity = flavor == INIT_TINI ? 1 : 0;
	for (int i = 0; i <= INIT_MAXSIG; i++)
		o->rewrite[i] = -1;
	o->grace_seconds = 5;
}

/* What the child gets back before exec: the caller's signal mask and TTIN/TTOU actions. */
struct saved_signals {
	sigset_t mask;
	struct sigaction ttin, ttou;
};

static void dummy_handler(int sig)
{
	(void)sig;
}

/*
 * Every signal is collected with sigwaitinfo except the synchronous faults, which must kill us
 * as they would any program. tini and `pidvisor --` leave the caller's dispositions alone, so the
 * child inherits what the caller ignored; they ignore TTIN/TTOU themselves so a debug line never
 * stops them once the child owns the terminal. dumb-init installs a handler for 1..31 (the
 * child then starts with default actions).
 */
static void setup_signals(const struct init_opts *o, sigset_t *wait_set, struct saved_signals *sv)
{
	sigfillset(wait_set);
	if (o->flavor == INIT_DUMB_INIT) {
		sigprocmask(SIG_BLOCK, wait_set, &sv->mask);
		for (int i = 1; i <= INIT_MAXSIG; i++)
			signal(i, dummy_handler); /* KILL and STOP refuse; that is fine */
		return;
	}
	static const int own[] = {SIGFPE,  SIGILL, SIGSEGV, SIGBUS, SIGABRT,
				  SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		sigdelset(wait_set, own[i]);
	sigprocmask(SIG_SETMASK, wait_set, &sv->mask);
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGTTIN, &ign, &sv->ttin);
	sigaction(SIGTTOU, &ign, &sv->ttou);
}

static int exec_failure_code(const struct init_opts *o, int err)
{
	if (o->flavor == INIT_DUMB_INIT)
		return 2;
	return err == ENOENT ? 127 : err == EACCES ? 126 : 1;
}

/* In the child, between fork and exec. */
static void become_child(const struct init_opts *o, const struct saved_signals *sv)
{
	if (o->flavor == INIT_DUMB_INIT) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		if (o->setsid) {
			if (setsid() < 0) {
				say(o, L_FATAL, "cannot start a session (errno=%d %s)", errno,
				    strerror(errno));
				_exit(1);
			}
			if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
				say(o, L_DEBUG, "no controlling terminal to take (errno=%d %s).",
				    errno, strerror(errno));
			say(o, L_DEBUG, "new session started.");
		}
	} else {
		/* Own process group, and the terminal's foreground if there is one: done here,
		 * not in the parent, so an init running an init cannot leave the program in the
		 * background. */
		if (setpgid(0, 0) < 0) {
			say(o, L_FATAL, "setpgid: %s", strerror(errno));
			_exit(1);
		}
		if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO) {
			say(o, L_FATAL, "tcsetpgrp: %s", strerror(errno));
			_exit(1);
		}
		sigprocmask(SIG_SETMASK, &sv->mask, NULL);
		sigaction(SIGTTIN, &sv->ttin, NULL);
		sigaction(SIGTTOU, &sv->ttou, NULL);
	}
	execvp(o->argv[0], o->argv);
	int err = errno;
	if (o->flavor == INIT_DUMB_INIT)
		say(o, L_FATAL, "%s: %s", o->argv[0], strerror(err));
	else
		say(o, L_FATAL, "cannot run %s: %s", o->argv[0], strerror(err));
	_exit(exec_failure_code(o, err));
}

static int translate(const struct init_opts *o, int sig)
{
	if (sig < 1 || sig > INIT_MAXSIG || o->rewrite[sig] < 0)
		return sig;
	say(o, L_DEBUG, "Signal %d rewritten to %d.", sig, o->rewrite[sig]);
	return o->rewrite[sig];
}

static void forward(const struct init_opts *o, pid_t child, int sig)
{
	sig = translate(o, sig);
	if (sig == 0) {
		say(o, L_DEBUG, "Signal dropped (rewritten to 0).");
		return;
	}
	if (kill(o->to_group ? -child : child, sig) < 0) {
		if (errno == ESRCH)
			say(o, L_WARN, "The child had already exited; signal %d not delivered.",
			    sig);
		else
			say(o, L_FATAL, "Forwarding signal %d failed: %s", sig, strerror(errno));
		return;
	}
	say(o, L_DEBUG, "Forwarded signal %d.", sig);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pidvisor's own mode: nothing the program left behind outlives us unreaped. TERM (and CONT, so
 * stopped ones see it), a grace period, then KILL; every exit is reaped. */
static void finish_leftovers(const struct init_opts *o, const sigset_t *wait_set)
{
	bool pid1 = getpid() == 1;
	if (!have_children())
		return;
	say(o, L_INFO, "stopping the processes the program left behind");
	signal_leftovers(pid1, SIGTERM);
	signal_leftovers(pid1, SIGCONT);
	double deadline = now_s() + o->grace_seconds;
	bool killed = false;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	(void)wait_set;
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!have_children())
			return;
		double left = deadline - now_s();
		if (left <= 0) {
			if (!killed)
				say(o, L_WARN, "killing what is left with SIGKILL");
			killed = true;
			/* as a subreaper, new orphans keep arriving as their parents die */
			signal_leftovers(pid1, SIGKILL);
			left = 0.05;
		}
		struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
		sigtimedwait(&chld, NULL, &ts);
	}
}

static void pid1_check(const struct init_opts *o)
{
	if (getpid() == 1)
		return;
	int bit = 0;
	if (prctl(PR_GET_CHILD_SUBREAPER, &bit) == 0 && bit)
		return;
	if (o->flavor == INIT_TINI)
		say(o, L_WARN,
		    "not PID 1 and not a child subreaper: orphaned processes will not be handed "
		    "to this init, so their zombies will not be reaped.\n"
		    "Fix: pass -s or set TINI_SUBREAPER to become a subreaper, or run as PID 1.");
}

int init_run(struct init_opts *o)
{
	sigset_t wait_set;
	struct saved_signals saved;
	bool tty_ignore[INIT_MAXSIG + 1] = {false};

	setup_signals(o, &wait_set, &saved);
	if (o->pdeathsig && prctl(PR_SET_PDEATHSIG, o->pdeathsig) < 0) {
		say(o, L_FATAL, "cannot set the parent-death signal: %s", strerror(errno));
		return 1;
	}
	if (o->subreaper && getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		say(o, L_FATAL, "cannot become a child subreaper: %s", strerror(errno));
		return 1;
	}
	pid1_check(o);

	if (o->flavor == INIT_DUMB_INIT && o->setsid) {
		/* Give up our terminal so the child's session can take it. The kernel then sends
		 * SIGHUP and SIGCONT to our group: the first of each is not the user's, so it is
		 * not forwarded. */
		if (ioctl(STDIN_FILENO, TIOCNOTTY) < 0) {
			say(o, L_DEBUG, "No controlling terminal to give up (errno=%d %s).", errno,
			    strerror(errno));
		} else if (getsid(0) == getpid()) {
			say(o, L_DEBUG,
			    "Gave up the terminal; the first SIGHUP and SIGCONT will "
			    "be ignored.");
			tty_ignore[SIGHUP] = tty_ignore[SIGCONT] = true;
		}
	}

	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		say(o, L_FATAL, "fork: %s", strerror(errno));
		return 1;
	}
	if (child == 0)
		become_child(o, &saved);
	say(o, o->flavor == INIT_TINI ? L_INFO : L_DEBUG, "Started '%s' as pid %d.", o->argv[0],
	    (int)child);
	if (o->flavor == INIT_DUMB_INIT && chdir("/") < 0)
		say(o, L_DEBUG, "chdir(\"/\"): %s", strerror(errno));

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&wait_set, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			say(o, L_FATAL, "sigwaitinfo: %s", strerror(errno));
			return 1;
		}
		say(o, L_DEBUG, "Received signal %d.", sig);
		if (sig <= INIT_MAXSIG && tty_ignore[sig]) {
			tty_ignore[sig] = false;
			say(o, L_DEBUG, "Ignored terminal hand-off signal %d.", sig);
			continue;
		}
		if (sig != SIGCHLD) {
			forward(o, child, sig);
			if (o->flavor == INIT_DUMB_INIT &&
			    (sig == SIGTSTP || sig == SIGTTOU || sig == SIGTTIN)) {
				say(o, L_DEBUG, "Stopping ourselves after a terminal stop signal.");
				kill(getpid(), SIGSTOP);
			}
			continue;
		}
		int status;
		pid_t pid;
		int code = -1;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child) {
				say(o, o->warn_on_reap ? L_WARN : L_DEBUG, "Reaped pid %d.",
				    (int)pid);
				continue;
			}
			code = wait_status_code(status) % 256;
			say(o, o->flavor == INIT_TINI ? L_INFO : L_DEBUG,
			    "The program exited with status %d.", code);
			if (o->remap[code])
				code = 0;
			if (o->flavor == INIT_DUMB_INIT)
				break;
		}
		if (code < 0)
			continue;
		if (o->flavor == INIT_DUMB_INIT)
			forward(o, child, SIGTERM); /* to whatever is left in the group */
		else if (o->leftovers_grace)
			finish_leftovers(o, &wait_set);
		return code;
	}
}
