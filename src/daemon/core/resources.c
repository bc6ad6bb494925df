#include "resources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "failfast.h"
#include "process.h"
#include "supervisor.h"

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

/* A small /proc file's text, NUL-terminated; false when it cannot be read. */
static bool read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t got = 0;
	ssize_t r;
	while (got < size - 1 && (r = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	return got > 0;
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

/* One process's share: its memory (smaps_rollup, else status's VmRSS) and descriptors. */
static void add_process(struct res_usage *u, const struct proc_row *row)
{
	char path[64], text[4096];
	u->procs++;
	u->threads += row->st.threads;
	u->cpu_seconds +=
	    (double)(row->st.ticks + row->st.child_ticks) / (double)sysconf(_SC_CLK_TCK);
	u->fds += count_fds(row->pid);
	long long rss = -1, pss = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)row->pid);
	if (read_small(path, text, sizeof(text))) {
		rss = res_parse_kb(text, "Rss");
		pss = res_parse_kb(text, "Pss");
	}
	if (rss < 0) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)row->pid);
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
 * parents and CPU times it read; memory and fds are read fresh for each tree. A root it does
 * not hold (spawned since) makes a new pass. */
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
	 * reused while /proc was read can make a cycle: no more steps than rows. */
	long top = r - rows, i = top;
	for (size_t steps = 0; steps < n; steps++) {
		add_process(u, &rows[i]);
		if (rows[i].child >= 0) {
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
	if (p->conf->memory_max > 0)
		ev_timer_start(p->sv->loop, &p->res.poll);
}

void resources_stop(struct process *p)
{
	ev_timer_stop(p->sv->loop, &p->res.poll);
}
