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

#include "pages.h"
#include "reap.h"

/* Message levels, as tini names them: 0 fatal, 1 warning, 2 info, 3 debug, 4 trace. */
enum { L_FATAL, L_WARN, L_INFO, L_DEBUG, L_TRACE };

static const char *const tini_level[] = {"FATAL", "WARN ", "INFO ", "DEBUG", "TRACE"};

/* Where each flavor prints: tini puts fatal errors and warnings on stderr and the rest on
 * stdout, shown up to its verbosity (default 1); dumb-init has errors and, with -v, debug lines,
 * all on stderr; pidvisor is silent but for errors unless -v. Each line is one write, so the
 * lines of the parent and of the child (between fork and exec) never mix. */
static bool shown(const struct init_opts *o, int level)
{
	return level == L_FATAL || o->verbosity >= (o->flavor == INIT_DUMB_INIT ? 1 : level);
}

__attribute__((format(printf, 3, 4))) static void say(const struct init_opts *o, int level,
						      const char *fmt, ...)
{
	if (!shown(o, level))
		return;
	char line[4096]; /* docs/limits.md: a longer line is cut */
	int n;
	if (o->flavor == INIT_TINI)
		n = snprintf(line, sizeof(line), "[%s tini (%d)] ", tini_level[level],
			     (int)getpid());
	else
		n = snprintf(line, sizeof(line), "%s",
			     o->flavor == INIT_DUMB_INIT ? "[dumb-init] " : "pidvisor: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	int fd = o->flavor == INIT_TINI && level >= L_INFO ? STDOUT_FILENO : STDERR_FILENO;
	for (const char *p = line; n > 0;) {
		ssize_t w = write(fd, p, (size_t)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (int)w;
	}
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
	const char *no_tty = NULL;
	if (o->flavor == INIT_DUMB_INIT) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		if (o->setsid) {
			if (setsid() < 0) {
				say(o, L_FATAL, "Unable to setsid (errno=%d %s). Exiting.", errno,
				    strerror(errno));
				_exit(1);
			}
			if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
				say(o, L_DEBUG,
				    "Unable to attach to controlling tty (errno=%d %s).", errno,
				    strerror(errno));
			say(o, L_DEBUG, "setsid complete.");
		}
	} else {
		/* Own process group, and the terminal's foreground if there is one: done here,
		 * not in the parent, so an init running an init cannot leave the program in the
		 * background. */
		if (setpgid(0, 0) < 0) {
			say(o, L_FATAL, "setpgid failed: %s", strerror(errno));
			_exit(1);
		}
		if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0) {
			if (errno != ENOTTY && errno != ENXIO) {
				say(o, L_FATAL, "tcsetpgrp failed: %s", strerror(errno));
				_exit(1);
			}
			no_tty = errno == ENOTTY ? "no tty" : "no such device";
			/* tini prints this on its buffered stdout: a successful exec discards
			 * it unless stdout is a terminal, a failed one prints it at exit */
			if (o->flavor == INIT_TINI && isatty(STDOUT_FILENO)) {
				say(o, L_DEBUG, "tcsetpgrp failed: %s (ok to proceed)", no_tty);
				no_tty = NULL;
			}
		}
		sigprocmask(SIG_SETMASK, &sv->mask, NULL);
		sigaction(SIGTTIN, &sv->ttin, NULL);
		sigaction(SIGTTOU, &sv->ttou, NULL);
	}
	execvp(o->argv[0], o->argv);
	int err = errno;
	if (o->flavor == INIT_DUMB_INIT)
		say(o, L_FATAL, "%s: %s", o->argv[0], strerror(err));
	else if (o->flavor == INIT_TINI) {
		say(o, L_FATAL, "exec %s failed: %s", o->argv[0], strerror(err));
		if (no_tty)
			say(o, L_DEBUG, "tcsetpgrp failed: %s (ok to proceed)", no_tty);
	} else
		say(o, L_FATAL, "cannot run %s: %s", o->argv[0], strerror(err));
	_exit(exec_failure_code(o, err));
}

/* dumb-init's -r, and its job-control stops rewritten to SIGSTOP. */
static int translate(const struct init_opts *o, int sig)
{
	if (sig < 1 || sig > INIT_MAXSIG || o->rewrite[sig] < 0)
		return sig;
	say(o, L_DEBUG, "Translating signal %d to %d.", sig, o->rewrite[sig]);
	return o->rewrite[sig];
}

/* Passes a signal on, in each flavor's words. false: a fatal error (tini exits 1). */
static bool forward(const struct init_opts *o, pid_t child, int sig)
{
	pid_t to = o->to_group ? -child : child;
	if (o->flavor == INIT_DUMB_INIT) {
		sig = translate(o, sig);
		if (sig == 0) {
			say(o, L_DEBUG, "Not forwarding signal %d to children (ignored).", sig);
			return true;
		}
		kill(to, sig);
		say(o, L_DEBUG, "Forwarded signal %d to children.", sig);
		return true;
	}
	/* strsignal only when shown: it runs gettext, pages the loop would not touch otherwise */
	if (o->flavor == INIT_TINI && shown(o, L_DEBUG))
		say(o, L_DEBUG, "Passing signal: '%s'", strsignal(sig));
	if (kill(to, sig) == 0) {
		if (o->flavor == INIT_PIDVISOR)
			say(o, L_DEBUG, "Forwarded signal %d.", sig);
		return true;
	}
	if (errno == ESRCH) {
		if (o->flavor == INIT_TINI)
			say(o, L_WARN, "Child was dead when forwarding signal");
		else
			say(o, L_WARN, "The child had already exited; signal %d not delivered.",
			    sig);
		return true;
	}
	if (o->flavor == INIT_TINI) {
		say(o, L_FATAL, "Unexpected error when forwarding signal: '%s'", strerror(errno));
		return false;
	}
	say(o, L_FATAL, "Forwarding signal %d failed: %s", sig, strerror(errno));
	return true;
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
		    "Tini is not running as PID 1 and isn't registered as a child subreaper.\n"
		    "Zombie processes will not be re-parented to Tini, so zombie reaping won't "
		    "work.\n"
		    "To fix the problem, use the -s option or set the environment variable "
		    "TINI_SUBREAPER to register Tini as a child subreaper, or run Tini as PID 1.");
}

/* dumb-init gives up its terminal so the child's session can take it. The kernel then sends
 * SIGHUP and SIGCONT to our group: the first of each is not the user's, so it is not
 * forwarded. */
static void give_up_tty(const struct init_opts *o, bool *tty_ignore)
{
	if (ioctl(STDIN_FILENO, TIOCNOTTY) < 0) {
		say(o, L_DEBUG, "Unable to detach from controlling tty (errno=%d %s).", errno,
		    strerror(errno));
	} else if (getsid(0) == getpid()) {
		say(o, L_DEBUG,
		    "Detached from controlling tty, ignoring the first SIGHUP and "
		    "SIGCONT we receive.");
		tty_ignore[SIGHUP] = tty_ignore[SIGCONT] = true;
	} else {
		say(o, L_DEBUG, "Detached from controlling tty, but was not session leader.");
	}
}

/* Reaps every exited child, in each flavor's words. *code is set (the exit status, 128+N for
 * a signal, tini's -e applied) when the child itself is reaped; dumb-init stops there. */
static void reap(const struct init_opts *o, pid_t child, int *code)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int st = wait_status_code(status) % 256;
		if (o->flavor == INIT_DUMB_INIT) {
			if (WIFSIGNALED(status))
				say(o, L_DEBUG, "A child with PID %d was terminated by signal %d.",
				    (int)pid, WTERMSIG(status));
			else
				say(o, L_DEBUG, "A child with PID %d exited with exit status %d.",
				    (int)pid, st);
		} else if (o->flavor == INIT_TINI) {
			say(o, L_DEBUG, "Reaped child with pid: '%d'", (int)pid);
		}
		if (pid != child) {
			if (o->flavor == INIT_TINI && o->warn_on_reap)
				say(o, L_WARN, "Reaped zombie process with pid=%d", (int)pid);
			else if (o->flavor == INIT_PIDVISOR)
				say(o, o->warn_on_reap ? L_WARN : L_DEBUG, "Reaped pid %d.",
				    (int)pid);
			continue;
		}
		if (o->flavor == INIT_TINI && WIFSIGNALED(status))
			say(o, L_INFO, "Main child exited with signal (with signal '%s')",
			    strsignal(WTERMSIG(status)));
		else if (o->flavor == INIT_TINI)
			say(o, L_INFO, "Main child exited normally (with status '%d')", st);
		else if (o->flavor == INIT_PIDVISOR)
			say(o, L_DEBUG, "The program exited with status %d.", st);
		*code = o->remap[st] ? 0 : st;
		if (o->flavor == INIT_DUMB_INIT)
			return;
	}
	if (o->flavor == INIT_TINI)
		say(o, L_TRACE,
		    pid < 0 && errno == ECHILD ? "No child to wait" : "No child to reap");
}

/* tini wakes once a second to reap even when no SIGCHLD came. */
static int next_signal(const struct init_opts *o, const sigset_t *wait_set)
{
	siginfo_t si;
	if (o->flavor != INIT_TINI)
		return sigwaitinfo(wait_set, &si);
	static const struct timespec one_second = {1, 0};
	int sig = sigtimedwait(wait_set, &si, &one_second);
	if (sig < 0 && errno == EAGAIN)
		return 0;
	return sig;
}

/* Before the fork: signals, the parent-death signal, the subreaper, the terminal. 0 or 1. */
static int init_prepare(struct init_opts *o, sigset_t *wait_set, struct saved_signals *saved,
			bool *tty_ignore)
{
	setup_signals(o, wait_set, saved);
	if (o->pdeathsig && prctl(PR_SET_PDEATHSIG, o->pdeathsig) < 0) {
		say(o, L_FATAL,
		    o->flavor == INIT_TINI ? "Failed to set up parent death signal"
					   : "cannot set the parent-death signal");
		return 1;
	}
	if (o->subreaper && (o->flavor == INIT_TINI || getpid() != 1)) {
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
			say(o, L_FATAL, "Failed to register as child subreaper: %s",
			    strerror(errno));
			return 1;
		}
		if (o->flavor == INIT_TINI)
			say(o, L_TRACE, "Registered as child subreaper");
	}
	pid1_check(o);
	if (o->flavor == INIT_DUMB_INIT && o->setsid)
		give_up_tty(o, tty_ignore);
	return 0;
}

/* The one child, with each flavour's words for it; its pid, or -1 said. */
static pid_t init_spawn(struct init_opts *o, const struct saved_signals *saved)
{
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		say(o, L_FATAL,
		    o->flavor == INIT_DUMB_INIT ? "Unable to fork. Exiting." : "fork failed: %s",
		    strerror(errno));
		return -1;
	}
	if (child == 0)
		become_child(o, saved);
	if (o->flavor == INIT_TINI)
		say(o, L_INFO, "Spawned child process '%s' with pid '%d'", o->argv[0], (int)child);
	else if (o->flavor == INIT_DUMB_INIT)
		say(o, L_DEBUG, "Child spawned with PID %d.", (int)child);
	else
		say(o, L_DEBUG, "Started '%s' as pid %d.", o->argv[0], (int)child);
	if (o->flavor == INIT_DUMB_INIT && chdir("/") < 0)
		say(o, L_DEBUG, "Unable to chdir(\"/\") (errno=%d %s)", errno, strerror(errno));
	return child;
}

/* The wait loop: forward what comes, reap, and end with the child's code. */
static int init_wait(struct init_opts *o, pid_t child, sigset_t *wait_set, bool *tty_ignore)
{
	for (;;) {
		int sig = next_signal(o, wait_set);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			say(o, L_FATAL, "sigwaitinfo: %s", strerror(errno));
			return 1;
		}
		int code = -1;
		if (o->flavor == INIT_TINI && sig == SIGCHLD)
			say(o, L_DEBUG, "Received SIGCHLD");
		else if (o->flavor == INIT_PIDVISOR)
			say(o, L_DEBUG, "Received signal %d.", sig);
		else if (o->flavor == INIT_DUMB_INIT)
			say(o, L_DEBUG, "Received signal %d.", sig);
		if (sig > 0 && sig <= INIT_MAXSIG && tty_ignore[sig]) {
			tty_ignore[sig] = false;
			say(o, L_DEBUG, "Ignoring tty hand-off signal %d.", sig);
			continue;
		}
		if (sig > 0 && sig != SIGCHLD) {
			if (!forward(o, child, sig))
				return 1;
			if (o->flavor == INIT_DUMB_INIT &&
			    (sig == SIGTSTP || sig == SIGTTOU || sig == SIGTTIN)) {
				say(o, L_DEBUG, "Suspending self due to TTY signal.");
				kill(getpid(), SIGSTOP);
			}
		}
		/* tini reaps after every wake-up; the others on SIGCHLD */
		if (o->flavor == INIT_TINI || sig == SIGCHLD)
			reap(o, child, &code);
		if (code < 0)
			continue;
		if (o->flavor == INIT_DUMB_INIT) {
			forward(o, child, SIGTERM); /* to whatever is left in the group */
			say(o, L_DEBUG, "Child exited with status %d. Goodbye.", code);
		} else if (o->flavor == INIT_TINI) {
			say(o, L_TRACE, "Exiting: child has exited");
		} else if (o->leftovers_grace) {
			finish_leftovers(o, wait_set);
		}
		return code;
	}
}

int init_run(struct init_opts *o)
{
	sigset_t wait_set;
	struct saved_signals saved;
	bool tty_ignore[INIT_MAXSIG + 1] = {false};

	if (init_prepare(o, &wait_set, &saved, tty_ignore))
		return 1;
	pid_t child = init_spawn(o, &saved);
	if (child < 0)
		return 1;
	/* the rest of the binary (daemon, client, builder) is never run again in this process */
	pages_drop();
	return init_wait(o, child, &wait_set, tty_ignore);
}
