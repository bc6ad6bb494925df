#include "resources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "failfast.h"
#include "mainlog.h"
#include "process.h"
#include "supervisor.h"
#include "util.h"

#define CACHE_SECONDS 1.0

int res_parse_stat(const char *text, struct res_stat *out)
{
	/* the command name, in parentheses, may hold spaces and parentheses itself */
	const char *p = strrchr(text, ')');
	if (!p)
		return -1;
	char state;
	int ppid;
	unsigned long long utime, stime;
	long long cutime, cstime;
	long threads;
	/* after the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads */
	if (sscanf(p + 1,
		   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld %*d %*d %ld",
		   &state, &ppid, &utime, &stime, &cutime, &cstime, &threads) != 7)
		return -1;
	out->ppid = ppid;
	out->ticks = utime + stime;
	out->child_ticks = (unsigned long long)(cutime > 0 ? cutime : 0) +
			   (unsigned long long)(cstime > 0 ? cstime : 0);
	out->threads = (int)threads;
	return 0;
}

long long res_parse_kb(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (strncmp(line, key, n) != 0 || line[n] != ':')
			continue;
		char *end;
		errno = 0;
		long long kb = strtoll(line + n + 1, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno || end == line + n + 1 || kb < 0 || strncmp(end, "kB", 2) != 0)
			return -1;
		return kb * 1024;
	}
	return -1;
}

/* A small /proc file's text, NUL-terminated; false when it cannot be read or is empty. */
static bool read_small(const char *path, char *buf, size_t size)
{
	return read_small_file(path, buf, size) > 0;
}

struct proc_row {
	pid_t pid;
	struct res_stat st;
	long parent, child, sibling; /* indexes of rows (link_rows), -1 for none */
};

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_row *)a)->pid, y = ((const struct proc_row *)b)->pid;
	return (x > y) - (x < y);
}

/* Every process's stat, sorted by pid: n rows (malloc'd), or NULL. */
static struct proc_row *scan_proc(size_t *n)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return NULL;
	struct proc_row *rows = NULL;
	size_t len = 0, cap = 0;
	char path[64], text[1024];
	for (const struct dirent *e; (e = readdir(dir));) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		struct proc_row row = {.pid = (pid_t)atoi(e->d_name)};
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)row.pid);
		if (!read_small(path, text, sizeof(text)) || res_parse_stat(text, &row.st) < 0)
			continue; /* gone meanwhile */
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct proc_row *grown = realloc(rows, ncap * sizeof(*rows));
			if (!grown) {
				free(rows);
				closedir(dir);
				return NULL;
			}
			rows = grown;
			cap = ncap;
		}
		rows[len++] = row;
	}
	closedir(dir);
	if (rows)
		qsort(rows, len, sizeof(*rows), by_pid);
	*n = len;
	return rows;
}

/* Links each row to its parent, first child and next sibling, once per pass over /proc, so a
 * tree is walked in its own size whatever the number of processes. */
static void link_rows(struct proc_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rows[i].parent = rows[i].child = rows[i].sibling = -1;
	for (size_t i = 0; i < n; i++) {
		struct proc_row key = {.pid = rows[i].st.ppid};
		struct proc_row *parent = bsearch(&key, rows, n, sizeof(*rows), by_pid);
		if (!parent || parent == &rows[i])
			continue;
		rows[i].parent = parent - rows;
		rows[i].sibling = parent->child;
		parent->child = (long)i;
	}
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return 0;
	int n = 0;
	for (const struct dirent *e; (e = readdir(dir));)
		n += isdigit((unsigned char)e->d_name[0]) != 0;
	closedir(dir);
	return n;
}

/* Whether row's process is still where the pass saw it: alive and, unless parent is 0 (the
 * root, pidvisor's own child), still parent's child; st its stat now. A pass is kept a second:
 * one that has ended since, or was reparented out of the tree (its parent ended), is not
 * counted, nor are its descendants. */
static bool still_there(const struct proc_row *row, pid_t parent, struct res_stat *st)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)row->pid);
	if (!read_small(path, text, sizeof(text)) || res_parse_stat(text, st) < 0) {
		*st = row->st;
		return parent == 0;
	}
	return parent == 0 || st->ppid == parent;
}

/* One process's share: its memory (smaps_rollup, else status's VmRSS) and descriptors. */
static void add_process(struct res_usage *u, pid_t pid, const struct res_stat *st)
{
	char path[64], text[4096];
	u->procs++;
	u->threads += st->threads;
	u->cpu_seconds += (double)(st->ticks + st->child_ticks) / (double)sysconf(_SC_CLK_TCK);
	u->fds += count_fds(pid);
	long long rss = -1, pss = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_small(path, text, sizeof(text))) {
		rss = res_parse_kb(text, "Rss");
		pss = res_parse_kb(text, "Pss");
	}
	if (rss < 0) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if (read_small(path, text, sizeof(text)))
			rss = res_parse_kb(text, "VmRSS");
	}
	u->rss_bytes += rss > 0 ? rss : 0;
	if (pss < 0 || u->pss_bytes < 0)
		u->pss_bytes = -1;
	else
		u->pss_bytes += pss;
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One /proc pass serves every program for a second (a scrape asks for each of them): the
 * parents it read; each process of a tree is checked to be still there, and its CPU times,
 * memory and fds read, fresh for each tree. A root it does not hold (spawned since) makes a new
 * pass. */
static struct proc_row *rows_with(pid_t root, size_t *n)
{
	static struct proc_row *rows;
	static size_t len;
	static double at;
	double now = monotonic();
	struct proc_row key = {.pid = root};
	if (!rows || now - at >= CACHE_SECONDS ||
	    !bsearch(&key, rows, len, sizeof(*rows), by_pid)) {
		free(rows);
		len = 0;
		rows = scan_proc(&len);
		at = now;
		if (rows)
			link_rows(rows, len);
	}
	*n = len;
	return rows;
}

static bool read_tree(pid_t root, struct res_usage *u)
{
	size_t n = 0;
	struct proc_row *rows = rows_with(root, &n);
	struct proc_row key = {.pid = root};
	struct proc_row *r = rows ? bsearch(&key, rows, n, sizeof(*rows), by_pid) : NULL;
	if (!r)
		return false;
	*u = (struct res_usage){0};
	/* depth first, without a stack: down to a child, else on to a sibling, else up. A pid
	 * reused while /proc was read can make a cycle: no more steps than rows. Who is there is
	 * checked now (still_there): the pass may be a second old. */
	long top = r - rows, i = top;
	for (size_t steps = 0; steps < n; steps++) {
		struct res_stat st;
		bool there = still_there(&rows[i], i == top ? 0 : rows[rows[i].parent].pid, &st);
		if (there)
			add_process(u, rows[i].pid, &st);
		if (there && rows[i].child >= 0) {
			i = rows[i].child;
			continue;
		}
		while (i != top && rows[i].sibling < 0)
			i = rows[i].parent;
		if (i == top)
			break;
		i = rows[i].sibling;
	}
	return true;
}

const struct res_usage *resources_of(struct process *p)
{
	struct res_cache *c = &p->res;
	if (p->pid <= 0)
		return NULL;
	double now = monotonic();
	if (c->pid == p->pid && now - c->read_at < CACHE_SECONDS)
		return &c->usage;
	c->pid = 0;
	if (!read_tree(p->pid, &c->usage))
		return NULL;
	c->pid = p->pid;
	c->read_at = now;
	return &c->usage;
}

const struct res_usage *resources_shown(struct process *p)
{
	if (!p->conf->memory_max && !p->sv->cfg->sd.process_resources)
		return NULL;
	return resources_of(p);
}

static void poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct process *p = (struct process *)((char *)t - offsetof(struct process, res.poll));
	/* a stopping program is not judged */
	if (p->fsm.state != PS_RUNNING && p->fsm.state != PS_STARTING)
		return;
	p->res.pid = 0; /* its memory read now: the cache may be a second old already */
	const struct res_usage *u = resources_of(p);
	if (!u)
		return;
	bool over = u->rss_bytes > p->conf->memory_max;
	bool crossed = over && !p->res.over;
	p->res.over = over;
	if (crossed || (over && p->conf->on_memory != UNHEALTHY_NONE))
		failfast_memory_exceeded(p, u);
}

void resources_start(struct process *p)
{
	p->res.over = false;
	ev_timer_init(&p->res.poll, poll_cb, CACHE_SECONDS, CACHE_SECONDS);
	if (p->conf->memory_max > 0 && !p->res.kernel_memory)
		ev_timer_start(p->sv->loop, &p->res.poll);
}

void resources_stop(struct process *p)
{
	ev_timer_stop(p->sv->loop, &p->res.poll);
}

/* A /proc file of any size (mountinfo grows with the mounts), malloc'd; NULL when unreadable. */
static char *read_all(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	ssize_t r = 0;
	while (text && (r = read(fd, text + len, cap - 1 - len)) > 0) {
		len += (size_t)r;
		char *grown = len + 1 == cap ? realloc(text, cap *= 2) : text;
		if (!grown)
			free(text);
		text = grown;
	}
	close(fd);
	if (text)
		text[len] = '\0';
	return text;
}

/* Where program cgroups go, found when the first program with a limit for the kernel is added
 * (never, and nothing moved, without one). Not PID 1, pidvisor may share its cgroup with another
 * pidvisor (started from one shell, CI job or service): its program cgroups are its own. */
static const struct cg_host *host(void)
{
	static struct cg_host h;
	static bool found;
	if (found)
		return &h;
	found = true;
	char *self = read_all("/proc/self/cgroup"), *mounts = read_all("/proc/self/mountinfo");
	cg_detect(&h, "", self ? self : "", mounts ? mounts : "");
	free(self);
	free(mounts);
	if (getpid() != 1)
		h.instance = getpid();
	return &h;
}

/* Its memory_max goes to the kernel: with on_memory=none, which only logs, it is polled. */
static bool wants_kernel_memory(const struct proc_conf *c)
{
	return c->memory_max > 0 && c->on_memory != UNHEALTHY_NONE;
}

void resources_added(struct process *p)
{
	const struct proc_conf *c = p->conf;
	char name[512];
	process_namespec(p, name, sizeof(name));
	if (c->memory_max > 0 && c->on_memory == UNHEALTHY_NONE)
		log_info("memory_max of '%s' checked once a second (on_memory=none only logs; a "
			 "cgroup limit would have the kernel kill it)",
			 name);
	if (!wants_kernel_memory(c) && c->cpu_max <= 0)
		return;
	const struct cg_host *h = host();
	if (wants_kernel_memory(c) && *h->dir[CG_MEMORY])
		log_info("memory_max of '%s' enforced by the kernel (%s)", name,
			 cg_describe(h, CG_MEMORY));
	else if (wants_kernel_memory(c))
		log_info("memory_max of '%s' checked once a second (no writable cgroup: %s)", name,
			 h->why[CG_MEMORY]);
	if (c->cpu_max > 0 && *h->dir[CG_CPU])
		log_info("cpu_max of '%s' enforced by the kernel (%s)", name,
			 cg_describe(h, CG_CPU));
	else if (c->cpu_max > 0)
		log_warn("cpu_max of '%s' is not enforced (no writable cgroup: %s); only a cgroup "
			 "can limit CPU",
			 name, h->why[CG_CPU]);
}

void resources_enter(struct process *p, struct cg_join *j)
{
	const struct proc_conf *c = p->conf;
	for (int i = 0; i < CG_NCONTROLLERS; i++)
		j->fd[i] = -1;
	p->res.kernel_memory = false;
	bool memory = wants_kernel_memory(c);
	if (!memory && c->cpu_max <= 0)
		return;
	const struct cg_host *h = host();
	memory &= *h->dir[CG_MEMORY] != '\0';
	long long cpu = *h->dir[CG_CPU] ? c->cpu_max : 0;
	if (!memory && cpu <= 0)
		return;
	char name[512], err[CG_WHY_MAX + PATH_MAX];
	process_namespec(p, name, sizeof(name));
	p->res.cgroup_made = true;
	if (cg_program_enter(h, name, memory ? c->memory_max : 0, cpu, j, err, sizeof(err)) < 0) {
		log_warn("%s: %s; its limits are not enforced by the kernel this run", name, err);
		return;
	}
	p->res.kernel_memory = memory;
	p->res.oom_kills = memory ? cg_oom_kills(h, name) : -1;
}

void resources_entered(struct process *p, struct cg_join *j, pid_t pid)
{
	int e = cg_join_done(j, pid);
	if (pid <= 0 || !e)
		return;
	char name[512];
	log_warn("%s (pid %d) could not join its cgroup: %s; its limits are not enforced by the "
		 "kernel this run",
		 process_namespec(p, name, sizeof(name)), (int)pid, strerror(e));
	p->res.kernel_memory = false;
}

bool resources_exited(struct process *p)
{
	if (!p->res.kernel_memory || !WIFSIGNALED(p->wait_status) ||
	    WTERMSIG(p->wait_status) != SIGKILL || p->res.oom_kills < 0)
		return false;
	char name[512];
	long long before = p->res.oom_kills;
	p->res.oom_kills = cg_oom_kills(host(), process_namespec(p, name, sizeof(name)));
	if (p->res.oom_kills <= before)
		return false;
	failfast_memory_killed(p);
	return true;
}

void resources_removed(struct process *p)
{
	resources_stop(p);
	if (!p->res.cgroup_made)
		return;
	char name[512];
	process_namespec(p, name, sizeof(name));
	if (cg_program_remove(host(), name) < 0)
		log_info("the cgroup of %s stays: %s", name, strerror(errno));
}
