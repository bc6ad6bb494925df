/*
 * What a program uses, across its process tree (its pid and every descendant, found by the
 * parent pid in /proc/<pid>/stat: this kernel may lack /proc/<pid>/task/<tid>/children): CPU
 * seconds, RSS and PSS, open fds, threads. Read on demand and kept for a second, so a reader
 * that asks often (a scrape, the page) costs at most one /proc pass a second for all programs
 * and one read of each tree's processes (still there, their memory and fds: a process that has
 * left the tree since the pass is not counted), and nobody asking costs nothing. A program with
 * memory_max is polled once a second while it runs; past the limit, its on_memory says what
 * follows (failfast.c). Where pidvisor owns a writable cgroup (cgroup.h), the kernel enforces
 * memory_max (unless on_memory=none, which only logs: polled) and cpu_max in the program's own
 * cgroup instead, and a child killed there by the OOM killer is reported with on_memory applied.
 */
#ifndef PIDVISOR_RESOURCES_H
#define PIDVISOR_RESOURCES_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

struct process;
struct cg_join;

struct res_usage {
	double cpu_seconds;  /* utime + stime of every process in the tree, and cutime + cstime (its
				descendants that ended and were waited for), so the sum does not drop
				when one ends */
	long long rss_bytes; /* summed: pages shared between them count in each */
	long long pss_bytes; /* summed; -1 when a process's smaps_rollup cannot be read */
	int fds;	     /* open descriptors; those of a process whose fd/ cannot be read
				are not counted */
	int threads;
	int procs; /* processes in the tree */
};

/* A process's resource state, inside struct process. */
struct res_cache {
	struct res_usage usage;
	pid_t pid;	     /* whose tree usage is; 0: nothing read yet */
	double read_at;	     /* CLOCK_MONOTONIC seconds */
	ev_timer poll;	     /* memory_max: the once-a-second check */
	bool over;	     /* past memory_max at the last check (on_memory=none logs once) */
	bool kernel_memory;  /* this run's memory_max is its cgroup's: not polled */
	bool cgroup_made;    /* it has had cgroups, removed with it */
	long long oom_kills; /* its memory cgroup's OOM kills at the spawn; -1: unknown */
};

/* The pure part, for the unit tests. */
struct res_stat {
	pid_t ppid;
	unsigned long long ticks;	/* utime + stime, in clock ticks */
	unsigned long long child_ticks; /* cutime + cstime: its children that ended, waited for */
	int threads;
};
/* /proc/<pid>/stat's text: 0, or -1 when it does not parse. */
int res_parse_stat(const char *text, struct res_stat *out);
/* The "Key:  N kB" line of a /proc/<pid>/status or smaps_rollup text, in bytes; -1 when the
 * key is absent or malformed. */
long long res_parse_kb(const char *text, const char *key);

/* p's usage, at most a second old; NULL when p has no running child or /proc cannot tell. */
const struct res_usage *resources_of(struct process *p);
/* p's usage where it is shown (getProcessInfo, the page, /metrics): for a program with
 * memory_max, whose tree is read anyway, or for every one with [supervisord]
 * process_resources=true (off by default: a read costs about 0.1 ms a process, too much to pay
 * on every scrape of 1,000 programs unasked). NULL otherwise. */
const struct res_usage *resources_shown(struct process *p);
/* p was spawned / its child is gone: memory_max polling starts / stops (no-op without one). */
void resources_start(struct process *p);
void resources_stop(struct process *p);

/* Just before p's spawn: its cgroups made (or reused) with its limits, their cgroup.procs open
 * in j for the child (nothing open when the kernel enforces none of its limits; a failure is
 * logged and its memory_max polled). */
void resources_enter(struct process *p, struct cg_join *j);
/* Just after it (pid < 0: it failed): pid put there too, a failure logged, j closed. */
void resources_entered(struct process *p, struct cg_join *j, pid_t pid);
/* p's child has exited, before its state changes (a restart reads the count anew): true when
 * the OOM killer killed it in p's cgroup, said in the log (failfast.c). */
bool resources_exited(struct process *p);
/* p was added (start-up, reload): says once how each of its limits is enforced. */
void resources_added(struct process *p);
/* p is being removed (reload, pidvisor's exit): its cgroups go with it. */
void resources_removed(struct process *p);

#endif
