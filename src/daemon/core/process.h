/* A supervised process at run time: its config, its state machine, its child and its pipes. */
#ifndef PIDVISOR_PROCESS_H
#define PIDVISOR_PROCESS_H

#include <ev.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "fsm.h"
#include "health.h"
#include "resources.h"

struct supervisor;
struct pgroup;
struct outchan;
struct fcgi;
struct proc_events;
struct schedule;
struct readiness;

struct process {
	struct proc_conf *conf;
	struct pgroup *group;
	struct supervisor *sv;
	struct fsm fsm;
	struct fsm_params params;
	pid_t pid;		   /* 0 when no child */
	time_t start_wall;	   /* epoch of the last spawn, 0 = never (RPC 'start') */
	time_t stop_wall;	   /* epoch of the last exit (RPC 'stop') */
	unsigned long long spawns; /* successful spawns, for /metrics */
	unsigned long long log_bytes[2], log_lines[2]; /* stdout, stderr output, for /metrics */
	bool exited;		   /* it has exited at least once: wait_status is set */
	int wait_status;	   /* the last exit's status, as waitpid gave it */
	struct health health;	   /* its healthcheck's state */
	struct res_cache res;	   /* resources.c: its tree's usage, memory_max polling */
	bool restart_when_stopped; /* on_unhealthy=restart: start again once stopped */
	bool start_when_ready;	   /* a start request waits for depends_on */
	size_t deps_id;		   /* its place in deps.c's links, set when they are built */
	ev_timer timer;
	struct outchan *chan[2]; /* stdout, stderr (NULL when stderr is redirected) */
	char *auto_log[2];	 /* AUTO log files named when the process was added, until a
				    channel takes them */
	int stdin_fd;		 /* write end of the child's stdin, -1 if none */
	struct process *pid_next;
	struct proc_events *events; /* events.c: capture mode, a listener's protocol; or NULL */
	struct schedule *sched;	    /* schedule.c: its timer, or NULL without a schedule */
	struct readiness *rd;	    /* ready.c: its notify socket, fd: pipe or regex, or NULL */
};

struct pgroup {
	struct group_conf *conf;
	bool replaced; /* a reload is stopping it to swap in its new config */
	struct process **procs;
	size_t nprocs;
	struct fcgi *fcgi; /* a [fcgi-program:x] group's socket (fcgi.h), else NULL */
};

/* "group:name", or "name" when the group has the process's name. buf >= 512 bytes. */
const char *process_namespec(const struct process *p, char *buf, size_t n);

/* Why a command cannot be run: supervisord's NotFound, and its NotExecutable (a directory, no
 * execute permission), which a start request answers as NO_FILE and NOT_EXECUTABLE. */
enum spawn_err { SPAWN_OK, SPAWN_ERR_NO_FILE, SPAWN_ERR_NOT_EXECUTABLE };

/* supervisord's check before a start request: SPAWN_OK, or why not with *err (malloc'd) saying
 * it. */
enum spawn_err process_check_command(const struct process *p, char **err);

/* supervisord's get_execv_args(): the path of c's command, searched in the program's PATH,
 * else daemon_env's, when argv[0] has no '/'. NULL with *err (malloc'd) when it cannot be found,
 * is a directory or is not executable. */
char *process_find_command(const struct proc_conf *c, char *const *daemon_env, char **err);

/*
 * Forks and execs the child with supervisord's set-up: own process group, default signals and
 * mask, pipes on 0/1/2, no other descriptors, rlimits, umask, directory, user, environment.
 * Returns the pid, or -1 with *err (malloc'd, supervisord's spawnerr text).
 */
pid_t process_spawn(struct process *p, char **err);

#endif
