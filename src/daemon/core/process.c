#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "cgroup.h"
#include "child_output.h"
#include "fcgi.h"
#include "passwd.h"
#include "ready.h"
#include "strtab.h"
#include "supervisor.h"

extern char **environ;

const char *process_namespec(const struct process *p, char *buf, size_t n)
{
	if (strcmp(p->conf->group, p->conf->name) == 0)
		snprintf(buf, n, "%s", p->conf->name);
	else
		snprintf(buf, n, "%s:%s", p->conf->group, p->conf->name);
	return buf;
}

static const char *env_lookup(char *const *env, const char *key)
{
	size_t n = strlen(key);
	const char *found = NULL;
	for (; env && *env; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			found = *env + n + 1;
	return found;
}

/* Spawn messages fit here (a longer path is cut in the message, never in the search). */
enum { ERR_MAX = FSM_SPAWNERR_MAX };

/* *err = the message, on the heap without aborting: NULL when even that fails. */
__attribute__((format(printf, 2, 3))) static void set_err(char **err, const char *fmt, ...)
{
	char msg[ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*err = strdup(msg);
}

/* supervisord's get_execv_args(): argv[0] without '/' is searched in the program's PATH. With
 * no heap (it runs on every spawn): the path in path[PATH_MAX], or why not and a message in
 * msg[ERR_MAX]. */
static enum spawn_err find_command(const struct proc_conf *c, char *const *daemon_env, char *path,
				   char *msg)
{
	const char *prog = c->argv.v[0];
	struct stat st;

	if (strchr(prog, '/')) {
		if (snprintf(path, PATH_MAX, "%s", prog) >= PATH_MAX) {
			snprintf(msg, ERR_MAX, "can't find command '%s'", prog);
			return SPAWN_ERR_NO_FILE;
		}
	} else {
		const char *search = env_lookup(c->environment.v, "PATH");
		if (!search)
			search = env_lookup(daemon_env, "PATH");
		if (!search)
			search = "/bin:/usr/bin:/usr/local/bin";
		bool found = false;
		/* empty entries are skipped, as strtok did */
		for (const char *dir = search; *dir && !found;) {
			int n = (int)strcspn(dir, ":");
			found = n > 0 &&
				snprintf(path, PATH_MAX, "%.*s/%s", n, dir, prog) < PATH_MAX &&
				stat(path, &st) == 0;
			dir += n + (dir[n] == ':');
		}
		if (!found) {
			snprintf(msg, ERR_MAX, "can't find command '%s'", prog);
			return SPAWN_ERR_NO_FILE;
		}
	}
	if (stat(path, &st) < 0) {
		snprintf(msg, ERR_MAX, "can't find command '%s'", prog);
		return SPAWN_ERR_NO_FILE;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(msg, ERR_MAX, "command at '%s' is a directory", path);
		return SPAWN_ERR_NOT_EXECUTABLE;
	}
	if (access(path, X_OK) < 0) {
		snprintf(msg, ERR_MAX, "command at '%s' is not executable", path);
		return SPAWN_ERR_NOT_EXECUTABLE;
	}
	return SPAWN_OK;
}

char *process_find_command(const struct proc_conf *c, char *const *daemon_env, char **err)
{
	char path[PATH_MAX], msg[ERR_MAX];
	if (find_command(c, daemon_env, path, msg) == SPAWN_OK)
		return xstrdup(path);
	*err = xstrdup(msg);
	return NULL;
}

enum spawn_err process_check_command(const struct process *p, char **err)
{
	char path[PATH_MAX], msg[ERR_MAX];
	enum spawn_err why = find_command(p->conf, p->sv->env.v, path, msg);
	if (why == SPAWN_OK)
		return SPAWN_OK;
	*err = strdup(msg);
	/* out of memory for the message: let the start go on, its spawn fails the same way */
	return *err ? why : SPAWN_OK;
}

/* WATCHDOG_PID's digits, written by the child (its pid is known only there): zeros until then. */
#define PID_SLOT "0000000000"

/* supervisord's environment for a child, last definition of a key wins. It points into the
 * layers and into own (the SUPERVISOR_* variables, NOTIFY_SOCKET, WATCHDOG_*), NULL-terminated
 * in ptrs; *pid_at is WATCHDOG_PID's digits in own (or SIZE_MAX). No abort: false when memory
 * runs out. */
static bool build_env(const struct process *p, struct buf *own, struct buf *ptrs, size_t *pid_at)
{
	const char *url = p->conf->serverurl && strcmp(p->conf->serverurl, "AUTO") != 0
			      ? p->conf->serverurl
			      : p->sv->server_url;
	const char *notify = ready_notify_path(p);
	long long watchdog = ready_watchdog_usec(p);
	size_t at[7], nadd = 0;
	at[nadd++] = own->len;
	buf_printf(own, "SUPERVISOR_ENABLED=1%c", '\0');
	at[nadd++] = own->len;
	buf_printf(own, "SUPERVISOR_PROCESS_NAME=%s%c", p->conf->name, '\0');
	at[nadd++] = own->len;
	buf_printf(own, "SUPERVISOR_GROUP_NAME=%s%c", p->conf->group, '\0');
	if (url) {
		at[nadd++] = own->len;
		buf_printf(own, "SUPERVISOR_SERVER_URL=%s%c", url, '\0');
	}
	if (notify) {
		at[nadd++] = own->len;
		buf_printf(own, "NOTIFY_SOCKET=%s%c", notify, '\0');
	}
	*pid_at = SIZE_MAX;
	if (watchdog > 0) {
		at[nadd++] = own->len;
		buf_printf(own, "WATCHDOG_USEC=%lld%c", watchdog, '\0');
		at[nadd++] = own->len;
		*pid_at = own->len + strlen("WATCHDOG_PID=");
		buf_printf(own, "WATCHDOG_PID=" PID_SLOT "%c", '\0');
	}
	if (own->failed)
		return false;
	char *added[7];
	for (size_t i = 0; i < nadd; i++)
		added[i] = own->data + at[i];
	const struct strvec add = {added, nadd, nadd};

	/* env files under the environment key of the same section */
	const struct strvec *layers[] = {&p->sv->env,
					 &add,
					 &p->sv->cfg->sd.envfiles,
					 &p->sv->cfg->sd.environment,
					 &p->conf->envfiles,
					 &p->conf->environment};
	/* key -> 1 + its index in ptrs: a redefinition replaces in place, in linear time (a
	 * program can carry tens of thousands of entries) */
	struct strtab seen = {0};
	bool ok = true;
	for (size_t l = 0; ok && l < ARRAY_SIZE(layers); l++)
		for (size_t i = 0; ok && i < layers[l]->n; i++) {
			char *kv = layers[l]->v[i];
			struct strtab_entry *e = strtab_put(&seen, kv, strcspn(kv, "="));
			if (!e) {
				ok = false;
			} else if (e->val) {
				((char **)ptrs->data)[(uintptr_t)e->val - 1] = kv;
			} else {
				e->val = (void *)(uintptr_t)(ptrs->len / sizeof(char *) + 1);
				buf_append(ptrs, &kv, sizeof(kv));
				ok = !ptrs->failed;
			}
		}
	strtab_free(&seen);
	char *end = NULL;
	buf_append(ptrs, &end, sizeof(end));
	return ok && !ptrs->failed;
}

static void child_fail(const char *what, const char *arg, int err)
{
	char msg[1024];
	const char *code = strerrorname_np(err);
	int n = snprintf(msg, sizeof(msg), "supervisor: %s %s: %s\n", what, arg,
			 code ? code : strerror(err));
	if (n > 0) {
		ssize_t w =
		    write(2, msg, (size_t)(n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1));
		(void)w;
	}
	_exit(127);
}

static void close_fds(unsigned lo, unsigned hi)
{
#ifdef SYS_close_range
	if (lo > hi || syscall(SYS_close_range, lo, hi, 0U) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lo; fd <= hi && fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

/* Every descriptor above 2 but keep (ready=fd:N's N; -1: none). */
static void close_other_fds(int keep)
{
	if (keep < 3) {
		close_fds(3, ~0U);
		return;
	}
	close_fds(3, (unsigned)keep - 1);
	close_fds((unsigned)keep + 1, ~0U);
}

/* ready=fd:N: the pipe's write end (at fd, above 2) becomes the child's N, open across exec. */
static void child_ready_fd(int fd, int n)
{
	if (fd < 0)
		return;
	if (fd == n ? fcntl(n, F_SETFD, 0) < 0 : dup2(fd, n) < 0)
		child_fail("couldn't set up", "ready=fd", errno);
}

/* The child's own pid in decimal at slot (WATCHDOG_PID), which has room for PID_SLOT. */
static void child_pid_into(char *slot)
{
	char digits[sizeof(PID_SLOT)];
	int n = 0;
	if (!slot)
		return;
	for (unsigned long v = (unsigned long)getpid(); n == 0 || v; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	while (n)
		*slot++ = digits[--n];
	*slot = '\0';
}

/* In the child, between fork and exec: only async-signal-safe calls. pid_slot: see
 * child_pid_into (NULL: none). */
static void child_setup(const struct process *p, const int fds[4], const char *path,
			char *const *envp, char *pid_slot, const struct user_info *ui)
{
	sigset_t none;
	struct sigaction dfl = {.sa_handler = SIG_DFL};

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, &dfl, NULL) < 0) {
			/* glibc keeps 32 and 33 for itself and refuses them; an inherited SIG_IGN
			 * there must still not reach the program */
			struct {
				void *handler;
				unsigned long flags;
				void *restorer;
				unsigned long mask;
			} k = {0};
			syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
		}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* fds[] are above 2 unless pidvisor itself started with 0-2 closed: dup them up first */
	int hi[4] = {-1, -1, -1, -1};
	for (int i = 0; i < 4; i++) {
		hi[i] = i < 3 || fds[3] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
		if (hi[i] < 0 && (i < 3 || fds[3] >= 0))
			child_fail("couldn't set up", "pipes", errno);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0)
			child_fail("couldn't set up", "pipes", errno);
	int n = p->conf->ready.fd;
	child_ready_fd(hi[3], n);
	close_other_fds(hi[3] >= 0 ? n : -1);

	/* as supervisord's drop_privileges: nothing at all when the uid is already the user's
	 * (a root pidvisor's user=root children keep its groups, none added) */
	if (ui && getuid() != ui->uid) {
		if (getuid() != 0) {
			static const char msg[] = "supervisor: error trying to setuid to a user: "
						  "Can't drop privilege as nonroot user\n";
			ssize_t w = write(2, msg, sizeof(msg) - 1);
			(void)w;
			_exit(127);
		}
		if (setgroups(ui->ngroups, ui->groups) < 0)
			child_fail("couldn't setgroups for", ui->name, errno);
		if (setgid(ui->gid) < 0)
			child_fail("couldn't setgid for", ui->name, errno);
		if (setuid(ui->uid) < 0)
			child_fail("couldn't setuid to", ui->name, errno);
	}
	/* as supervisord: the directory is entered as the user, then the umask is set */
	if (p->conf->directory && chdir(p->conf->directory) < 0)
		child_fail("couldn't chdir to", p->conf->directory, errno);
	if (p->conf->umask >= 0)
		umask((mode_t)p->conf->umask);
	child_pid_into(pid_slot);
	execve(path, p->conf->argv.v, envp);
	child_fail("couldn't exec", path, errno);
}

/*
 * Spawning costs the same whatever the daemon's size. fork() copies the page tables and the
 * descriptor table (two pipes per program: thousands of entries), and the child then closes
 * them all, so spawning N programs cost O(N^2). Instead the child shares memory and the
 * descriptor table while the parent waits (CLONE_VM | CLONE_VFORK | CLONE_FILES, on a stack of
 * its own, as posix_spawn does), and leaves the shared table with close_range(UNSHARE), which
 * copies only the descriptors below the first one closed. The child's pipe ends are parked in
 * three low "slots" for that moment; between spawns the slots hold /dev/null.
 * Sanitizer builds use fork, which their runtimes follow better.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(SYS_close_range)
#define SPAWN_WITH_FORK 1
#else
#include <sched.h>
#include <sys/mman.h>
#include <sys/param.h>
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

enum { SPAWN_STACK = 256 * 1024 };

static struct {
	int slot[4]; /* the child's 0, 1, 2 and ready=fd:N's pipe wait here */
	int top;     /* the highest slot: the child keeps descriptors up to it */
	int devnull;
	void *stack;
	bool ready, failed;
} spawner;

struct spawn_args {
	const struct process *p;
	const char *path;
	char *const *envp;
	char *pid_slot;
	const struct user_info *ui;
	bool ready_fd; /* slot[3] holds ready=fd:N's pipe */
	const struct cg_join *cg;
};

static bool spawner_init(void)
{
	if (spawner.ready || spawner.failed)
		return spawner.ready;
	spawner.failed = true;
	spawner.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 4; i++)
		spawner.slot[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	spawner.stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (spawner.devnull < 0 || spawner.slot[0] < 0 || spawner.slot[1] < 0 ||
	    spawner.slot[2] < 0 || spawner.slot[3] < 0 || spawner.stack == MAP_FAILED)
		return false; /* fork it is (descriptors stay open: this happens once) */
	spawner.top =
	    MAX(MAX(spawner.slot[0], spawner.slot[3]), MAX(spawner.slot[1], spawner.slot[2]));
	spawner.failed = false;
	spawner.ready = true;
	return true;
}

static int spawn_child(void *arg)
{
	const struct spawn_args *a = arg;
	/* into its cgroups before anything runs (their descriptors are above the slots) */
	cg_join_self(a->cg);
	/* our own table from here on: never touch the parent's */
	if (syscall(SYS_close_range, (unsigned)spawner.top + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0 &&
	    unshare(CLONE_FILES) < 0)
		_exit(127);
	int fds[4] = {spawner.slot[0], spawner.slot[1], spawner.slot[2],
		      a->ready_fd ? spawner.slot[3] : -1};
	child_setup(a->p, fds, a->path, a->envp, a->pid_slot, a->ui);
	return 127;
}

/* The child has exec'd or died when clone returns (CLONE_VFORK). */
static pid_t spawn_clone(const struct process *p, const int fds[4], const char *path,
			 char *const *envp, char *pid_slot, const struct user_info *ui,
			 const struct cg_join *cg)
{
	struct spawn_args a = {p, path, envp, pid_slot, ui, fds[3] >= 0, cg};
	for (int i = 0; i < 4; i++)
		if (dup3(i < 3 || fds[3] >= 0 ? fds[i] : spawner.devnull, spawner.slot[i],
			 O_CLOEXEC) < 0)
			return -1;
	pid_t pid = clone(spawn_child, (char *)spawner.stack + SPAWN_STACK,
			  CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &a);
	int saved = errno;
	for (int i = 0; i < 4; i++)
		dup3(spawner.devnull, spawner.slot[i], O_CLOEXEC);
	errno = saved;
	return pid;
}
#endif

static pid_t spawn_prepared(struct process *p, char **err)
{
	struct user_info ui;
	struct buf own = {0}, ptrs = {0};
	char path[PATH_MAX], msg[ERR_MAX];
	int fds[4];
	pid_t pid;

	fds[3] = ready_child_fd(p);
	if (find_command(p->conf, p->sv->env.v, path, msg) != SPAWN_OK) {
		*err = strdup(msg);
		return -1;
	}
	if (p->conf->user && user_lookup(p->conf->user, &ui) < 0) {
		set_err(err, "no such user '%s'", p->conf->user);
		return -1;
	}
	/* said here, where it reaches the main log, not by the child on the program's stderr */
	if (p->conf->user && user_switch_refused(&ui, msg, sizeof(msg))) {
		set_err(err, "cannot run '%s' as user '%s' (uid %u): %s", p->conf->name,
			p->conf->user, (unsigned)ui.uid, msg);
		return -1;
	}
	if (output_prepare(p, fds, err) < 0)
		return -1;
	if (fcgi_child_stdin(p, fds, err) < 0) {
		output_abort(p, fds);
		return -1;
	}
	size_t pid_at;
	if (!build_env(p, &own, &ptrs, &pid_at)) {
		set_err(err, "out of memory for the environment of '%s'", p->conf->name);
		output_abort(p, fds);
		buf_free(&own);
		buf_free(&ptrs);
		return -1;
	}
	char **envp = (char **)ptrs.data;
	char *pid_slot = pid_at != SIZE_MAX ? own.data + pid_at : NULL;
	struct cg_join cg;
	resources_enter(p, &cg);
#ifndef SPAWN_WITH_FORK
	if (spawner_init())
		pid = spawn_clone(p, fds, path, envp, pid_slot, p->conf->user ? &ui : NULL, &cg);
	else
#endif
	{
		pid = fork();
		if (pid == 0) {
			cg_join_self(&cg);
			child_setup(p, fds, path, envp, pid_slot, p->conf->user ? &ui : NULL);
		}
	}
	resources_entered(p, &cg, pid);
	if (pid < 0) {
		/* supervisord's two messages: EAGAIN is RLIMIT_NPROC or a full process table */
		int e = errno;
		const char *code = strerrorname_np(e);
		if (e == EAGAIN)
			set_err(err, "Too many processes in process table to spawn '%s'",
				p->conf->name);
		else
			set_err(err, "unknown error during fork for '%s': %s", p->conf->name,
				code ? code : strerror(e));
		output_abort(p, fds);
	} else {
		/* also in the parent, so signals to -pid work before the child runs */
		setpgid(pid, pid);
		output_started(p, fds);
	}
	buf_free(&own);
	buf_free(&ptrs);
	return pid;
}

pid_t process_spawn(struct process *p, char **err)
{
	*err = NULL;
	if (ready_prepare(p, err) < 0)
		return -1;
	pid_t pid = spawn_prepared(p, err);
	ready_spawned(p);
	return pid;
}
