#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "health.h"
#include "resources.h"
#include "schedule.h"
#include "states.h"
#include "supervisor.h"

/* A label value: backslash, double quote and newline escaped. */
static void label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels(struct buf *b, const char *metric, const struct process *p)
{
	buf_printf(b, "%s{name=\"", metric);
	label(b, p->conf->name);
	buf_puts(b, "\",group=\"");
	label(b, p->conf->group);
	buf_putc(b, '"');
}

typedef void (*per_process_fn)(struct buf *b, const char *metric, const struct process *p);

static void each_process(struct supervisor *sv, struct buf *b, const char *metric,
			 per_process_fn fn)
{
	for (size_t g = 0; g < sv->ngroups; g++)
		for (size_t i = 0; i < sv->groups[g]->nprocs; i++)
			fn(b, metric, sv->groups[g]->procs[i]);
}

static void m_state(struct buf *b, const char *metric, const struct process *p)
{
	labels(b, metric, p);
	buf_printf(b, ",state=\"%s\"} 1\n", proc_state_name(p->fsm.state));
}

static void m_state_code(struct buf *b, const char *metric, const struct process *p)
{
	labels(b, metric, p);
	buf_printf(b, "} %d\n", (int)p->fsm.state);
}

static void m_start(struct buf *b, const char *metric, const struct process *p)
{
	labels(b, metric, p);
	buf_printf(b, "} %lld\n", (long long)p->start_wall);
}

static void m_spawns(struct buf *b, const char *metric, const struct process *p)
{
	labels(b, metric, p);
	buf_printf(b, "} %llu\n", p->spawns);
}

/* What the last run's waitpid said, not the RPC's exitstatus: supervisord's is 0 for a run that
 * ended within startsecs, whatever its code, and a dashboard must see the 1. */
static void m_exit(struct buf *b, const char *metric, const struct process *p)
{
	int st = p->wait_status, code = 0;
	if (p->exited)
		code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	labels(b, metric, p);
	buf_printf(b, "} %d\n", code);
}

/* Only programs with a healthcheck that are running have a health. */
static void m_health(struct buf *b, const char *metric, const struct process *p)
{
	const char *h = health_of(p);
	if (!h)
		return;
	labels(b, metric, p);
	buf_printf(b, ",status=\"%s\"} 1\n", h);
}

/* Only scheduled programs have these. */
static void m_sched_next(struct buf *b, const char *metric, const struct process *p)
{
	if (!p->sched)
		return;
	labels(b, metric, p);
	buf_printf(b, "} %.0f\n", schedule_next_run(p));
}

static void m_sched_runs(struct buf *b, const char *metric, const struct process *p)
{
	if (!p->sched)
		return;
	labels(b, metric, p);
	buf_printf(b, ",outcome=\"started\"} %llu\n", p->sched->runs);
	labels(b, metric, p);
	buf_printf(b, ",outcome=\"skipped\"} %llu\n", p->sched->skipped);
	labels(b, metric, p);
	buf_printf(b, ",outcome=\"missed\"} %llu\n", p->sched->missed);
}

static void m_pid(struct buf *b, const char *metric, const struct process *p)
{
	labels(b, metric, p);
	buf_printf(b, "} %d\n", (int)p->pid);
}

static void log_counter(struct buf *b, const char *metric, const struct process *p,
			const unsigned long long v[2])
{
	for (int i = 0; i < 2; i++) {
		labels(b, metric, p);
		buf_printf(b, ",stream=\"%s\"} %llu\n", i ? "stderr" : "stdout", v[i]);
	}
}

static void m_log_bytes(struct buf *b, const char *metric, const struct process *p)
{
	log_counter(b, metric, p, p->log_bytes);
}

static void m_log_lines(struct buf *b, const char *metric, const struct process *p)
{
	log_counter(b, metric, p, p->log_lines);
}

/* A running process's tree (resources.h), read at most once a second whoever asks: one
 * family per member, the getter choosing it. */
typedef double (*usage_fn)(const struct res_usage *u);

static double cpu_of(const struct res_usage *u)
{
	return u->cpu_seconds;
}

static double rss_of(const struct res_usage *u)
{
	return (double)u->rss_bytes;
}

static double fds_of(const struct res_usage *u)
{
	return u->fds;
}

static double threads_of(const struct res_usage *u)
{
	return u->threads;
}

static void each_usage(struct supervisor *sv, struct buf *b, const char *metric, usage_fn get)
{
	for (size_t g = 0; g < sv->ngroups; g++)
		for (size_t i = 0; i < sv->groups[g]->nprocs; i++) {
			struct process *p = sv->groups[g]->procs[i];
			const struct res_usage *u = resources_shown(p);
			if (!u)
				continue;
			labels(b, metric, p);
			buf_printf(b, "} %.15g\n", get(u));
		}
}

/* The resource families, after the others: one getter per family (each_usage). */
static void write_usage(struct supervisor *sv, struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
		usage_fn get;
	} per_usage[] = {
	    {"pidvisor_process_cpu_seconds_total", "counter",
	     "CPU time (user and system) of a running process and its descendants, those that "
	     "ended and were waited for included, in seconds.",
	     cpu_of},
	    {"pidvisor_process_resident_bytes", "gauge",
	     "Resident memory (RSS) of a running process and its descendants, summed.", rss_of},
	    {"pidvisor_process_open_fds", "gauge",
	     "Open file descriptors of a running process and its descendants.", fds_of},
	    {"pidvisor_process_threads", "gauge",
	     "Threads of a running process and its descendants.", threads_of},
	};
	for (size_t i = 0; i < sizeof(per_usage) / sizeof(per_usage[0]); i++) {
		head(b, per_usage[i].name, per_usage[i].type, per_usage[i].help);
		each_usage(sv, b, per_usage[i].name, per_usage[i].get);
	}
}

static long long resident_bytes(void)
{
	long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lld %lld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

/* One pass over /proc/self/fd (readdir's getdents64, a few calls per thousand descriptors), not
 * a syscall per slot of the table, which minfds grows to a million. Bounded by the descriptors
 * open (RLIMIT_NOFILE); /proc never blocks. The directory's own descriptor is not counted. */
static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int self = dirfd(dir), n = 0;
	for (const struct dirent *e; (e = readdir(dir));) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		n += end != e->d_name && !*end && fd != self; /* not . and .. */
	}
	closedir(dir);
	return n;
}

void metrics_write(struct supervisor *sv, struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
		per_process_fn fn;
	} per_process[] = {
	    {"pidvisor_process_state", "gauge",
	     "The process's current state, as a label (supervisord's state names).", m_state},
	    {"pidvisor_process_state_code", "gauge",
	     "The process's current state as supervisord's number (20 RUNNING, 200 FATAL...).",
	     m_state_code},
	    {"pidvisor_process_start_time_seconds", "gauge",
	     "When the process was last started, in seconds since the epoch (0: never).", m_start},
	    {"pidvisor_process_spawns_total", "counter",
	     "How many times the process was started (the first start and every restart).",
	     m_spawns},
	    {"pidvisor_process_exit_status", "gauge",
	     "The exit status of the process's last exit, as the kernel gave it (-1 when a "
	     "signal ended it; 0 before the first exit).",
	     m_exit},
	    {"pidvisor_process_health", "gauge",
	     "The health of a running process with a healthcheck, as a label (starting, healthy, "
	     "unhealthy).",
	     m_health},
	    {"pidvisor_schedule_next_run_timestamp_seconds", "gauge",
	     "When a scheduled program's next run is due, in seconds since the epoch.",
	     m_sched_next},
	    {"pidvisor_schedule_runs_total", "counter",
	     "Due times of a scheduled program, by outcome: started, skipped because the "
	     "previous run was still going, or missed while pidvisor was stopped or the clock "
	     "jumped.",
	     m_sched_runs},
	    {"pidvisor_process_pid", "gauge", "The process's pid (0 when not running).", m_pid},
	    {"pidvisor_log_bytes_total", "counter",
	     "Bytes of output the process wrote, per stream (stdout, stderr).", m_log_bytes},
	    {"pidvisor_log_lines_total", "counter",
	     "Whole lines of output the process wrote, per stream.", m_log_lines},
	};
	for (size_t i = 0; i < sizeof(per_process) / sizeof(per_process[0]); i++) {
		head(b, per_process[i].name, per_process[i].type, per_process[i].help);
		each_process(sv, b, per_process[i].name, per_process[i].fn);
	}
	write_usage(sv, b);
	head(b, "pidvisor_control_requests_total", "counter",
	     "HTTP requests taken by the control servers (XML-RPC, page, API, metrics).");
	buf_printf(b, "pidvisor_control_requests_total %llu\n", control_requests(sv));
	head(b, "pidvisor_resident_memory_bytes", "gauge", "pidvisor's own resident memory.");
	buf_printf(b, "pidvisor_resident_memory_bytes %lld\n", resident_bytes());
	head(b, "pidvisor_open_fds", "gauge", "pidvisor's own open file descriptors.");
	buf_printf(b, "pidvisor_open_fds %d\n", open_fds());
	head(b, "pidvisor_start_time_seconds", "gauge",
	     "When pidvisor started, in seconds since the epoch.");
	buf_printf(b, "pidvisor_start_time_seconds %lld\n", (long long)sv->start_wall);
	head(b, "pidvisor_uptime_seconds", "gauge", "Seconds since pidvisor started.");
	buf_printf(b, "pidvisor_uptime_seconds %lld\n", (long long)(time(NULL) - sv->start_wall));
}
