/*
 * The config model: supervisord's sections and keys, typed, with supervisord's defaults.
 * config_load() reads a file (plus its [include]s), expands %(name)s, checks every value and
 * builds process groups. The key tables in keys.c are the single source of key names,
 * defaults and types.
 */
#ifndef PIDVISOR_CONFIG_H
#define PIDVISOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "diag.h"
#include "eventtypes.h"
#include "inifile.h"
#include "ready_spec.h"
#include "schedule_expr.h"
#include "util.h"
#include "values.h"

enum autorestart { AUTORESTART_FALSE, AUTORESTART_TRUE, AUTORESTART_UNEXPECTED };

/* pidvisor's health checks: what `healthcheck` names */
enum health_kind { HEALTH_NONE, HEALTH_CMD, HEALTH_HTTP, HEALTH_TCP };

struct health_spec {
	enum health_kind kind;
	char *text;		      /* as written, for messages and the reload comparison */
	struct strvec argv;	      /* cmd: */
	char *host;		      /* http: the Host header */
	char *path;		      /* http: */
	struct sockaddr_storage addr; /* http:, tcp: an address literal's, set at load */
	socklen_t addrlen;
	char *name; /* http:, tcp: a host name instead, looked up at each check (off the loop) */
	char *port; /* with name */
};

enum on_unhealthy { UNHEALTHY_NONE, UNHEALTHY_RESTART, UNHEALTHY_SHUTDOWN };
/* schedule_overlap: a run due while the previous one goes on */
enum sched_overlap { OVERLAP_SKIP, OVERLAP_QUEUE, OVERLAP_KILL };
/* schedule_missed: due times that passed while pidvisor was stopped or the clock jumped */
enum sched_missed { MISSED_SKIP, MISSED_RUN_ONCE };

enum restart_backoff { BACKOFF_LINEAR, BACKOFF_EXPONENTIAL };

/* depends_on: what a program waits for before it starts */
enum dep_cond { DEP_STARTED, DEP_RUNNING, DEP_HEALTHY, DEP_COMPLETED, DEP_READY };

struct dep {
	char *name; /* a [program:x] name, or a group as "group:*" */
	bool group; /* name is a group's */
	enum dep_cond cond;
};

struct dep_list {
	struct dep *v;
	size_t n;
};

const char *dep_cond_name(enum dep_cond c);

/* pidvisor's fail-fast: which exits of a program end pidvisor (and so the container) */
enum shutdown_on { SHUTDOWN_NEVER, SHUTDOWN_FATAL, SHUTDOWN_UNEXPECTED, SHUTDOWN_EXIT };

enum loglevel {
	LOG_LEVEL_CRIT,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
	LOG_LEVEL_BLATHER,
};

/* How lines that go to pidvisor's own stdout/stderr look (pidvisor extension keys). */
enum log_format { LOG_FORMAT_PLAIN, LOG_FORMAT_PREFIX, LOG_FORMAT_JSON };

struct log_conf {
	char *logfile; /* NULL = none, "AUTO" = in childlogdir, else a path */
	long long maxbytes;
	long long backups;
	long long capture_maxbytes;
	bool events_enabled;
	bool syslog;
};

/* The result handlers an [eventlistener:x] may name: supervisord's, and supervisor-stdout's
 * (built in: pidvisor runs no Python) */
#define RESULT_HANDLER_DEFAULT "supervisor.dispatchers:default_handler"
#define RESULT_HANDLER_STDOUT  "supervisor_stdout:event_handler"

/* What section a process comes from: they share every program key. */
enum proc_kind { KIND_PROGRAM, KIND_EVENTLISTENER, KIND_FCGI };

/* [fcgi-program:x] socket, parsed at load */
struct fcgi_socket {
	char *url; /* as written, expanded: "unix:///run/app.sock", "tcp://127.0.0.1:9000" */
	bool is_unix;
	char *path;		      /* unix: */
	struct sockaddr_storage addr; /* tcp: resolved */
	socklen_t addrlen;
};

struct proc_conf {
	enum proc_kind kind;
	char *name;    /* process_name, expanded */
	char *program; /* the [program:x] name */
	char *group;   /* the group it belongs to */
	int process_num;
	long long numprocs, numprocs_start; /* of its [program:x] */
	char *command;
	struct strvec argv;
	long long priority;
	bool autostart;
	enum autorestart autorestart;
	struct exitcodes exitcodes;
	long long startsecs;
	long long startretries;
	int stopsignal;
	long long stopwaitsecs;
	bool stopasgroup;
	bool killasgroup;
	char *user; /* NULL = don't switch */
	bool redirect_stderr;
	struct log_conf out, err;
	struct strvec environment; /* the program's own KEY=VALUE entries */
	char *directory;
	int umask; /* -1 = inherit */
	char *serverurl;
	/* pidvisor extensions */
	uint64_t forward_signals; /* bit n: forward signal n received by pidvisor */
	int log_format;		  /* -1 = as [supervisord] */
	struct strvec envfiles;	  /* KEY=VALUE from the envfiles, under environment */
	enum shutdown_on shutdown_on;
	long long shutdown_exitcode; /* -1: the program's own status */
	struct health_spec health;
	double health_interval, health_timeout, health_start_period; /* seconds */
	long long health_retries;
	enum on_unhealthy on_unhealthy;
	struct dep_list depends_on;
	enum restart_backoff restart_backoff;
	double restart_backoff_max; /* seconds */
	bool retry_forever;
	struct schedule_expr schedule; /* .set: a one-shot run at each due time (schedule.h) */
	enum sched_overlap schedule_overlap;
	char *schedule_timezone; /* NULL: local time (TZ or /etc/localtime) */
	double schedule_jitter;	 /* seconds: each run waits a random 0..jitter more */
	enum sched_missed schedule_missed;
	bool schedule_run_on_start;  /* one run at start-up (or when added), then the schedule */
	struct ready_spec ready;     /* READY_NONE: RUNNING after startsecs, as in supervisord */
	double ready_timeout;	     /* seconds; 0: waits for ever */
	double watchdog_sec;	     /* ready=notify: WATCHDOG=1 at least this often (0: off) */
	long long memory_max;	     /* bytes of the process tree's RSS; 0: no limit */
	enum on_unhealthy on_memory; /* past memory_max: none (log), restart, shutdown */
	long long cpu_max;	     /* thousandths of a CPU (its cgroup's quota); 0: none */
	/* [eventlistener:x] */
	event_mask events;     /* the types it subscribes to */
	long long buffer_size; /* events queued for the pool before the oldest is dropped */
	char *result_handler;  /* supervisord's dotted name; only the default is supported */
	/* [fcgi-program:x] */
	struct fcgi_socket socket;
	long long socket_backlog; /* 0: SOMAXCONN */
	char *socket_owner;	  /* "user[:group]", NULL: pidvisor's, or user='s when set */
	int socket_mode;	  /* -1: 0700 for a unix socket */
	/* where its section is, and its name ("program:x", "eventlistener:x", "fcgi-program:x") */
	char *section;
	char *file;
	int line;
};

struct group_conf {
	int refs;	     /* the config holds one; each running group another */
	enum proc_kind kind; /* KIND_PROGRAM for a [group:x], even with fcgi-programs in it, as in
				supervisord: they get no socket there */
	char *name;
	long long priority;
	struct proc_conf **procs; /* sorted by priority, then name */
	size_t nprocs;
	char *file; /* where the section is */
	int line;
};

struct http_server_conf {
	bool enabled;
	char *file; /* unix: socket path */
	int chmod;
	char *chown;
	char *port; /* inet: as written */
	char *username;
	char *password;
	/* pidvisor extensions: the connection limits, documented in docs/limits.md */
	long long max_connections;     /* open connections at once */
	long long header_timeout;      /* seconds to send a whole request head */
	long long idle_timeout;	       /* seconds a kept-alive connection may stay idle */
	long long max_request_bytes;   /* one request's body */
	long long max_header_bytes;    /* one request's head */
	long long max_queued_bytes;    /* answers queued for one connection */
	long long multicall_max_calls; /* calls in one system.multicall */
	long long multicall_max_bytes; /* answer bytes of one system.multicall */
};

struct supervisord_conf {
	char *logfile;
	long long logfile_maxbytes;
	long long logfile_backups;
	int loglevel;
	char *pidfile;
	int umask;
	bool nodaemon;
	bool silent;
	long long minfds;
	long long minprocs;
	bool nocleanup;
	char *childlogdir;
	char *user;
	char *directory;
	bool strip_ansi;
	struct strvec environment;
	struct strvec envfiles; /* KEY=VALUE from the envfiles, under environment */
	char *identifier;
	int log_format; /* enum log_format */
	bool log_color;
	bool log_timestamp;
	bool process_resources; /* every running process's resources in getProcessInfo */
};

struct ctl_conf {
	char *serverurl;
	char *username;
	char *password;
	char *prompt;
	char *history_file;
};

struct config {
	char *path; /* the main file, as given */
	char *here; /* its directory */
	struct supervisord_conf sd;
	struct http_server_conf unix_server, inet_server;
	struct ctl_conf ctl;
	bool has_ctl_section;
	struct group_conf **groups; /* sorted by priority, then name */
	size_t ngroups;
};

/*
 * Reads path and its includes. Every problem is added to d (warnings too: unknown keys and
 * sections, unsupported sections). Returns NULL if there was any error. The options struct
 * carries command-line overrides applied over the [supervisord] section.
 */
struct config_override {
	const char *key; /* a [supervisord] key */
	const char *value;
};
struct config_overrides {
	struct config_override *v;
	size_t n;
	bool strict; /* --check-config: what supervisord would tolerate is an error */
};
/* Adds one (start-up only: it allocates with xrealloc); the last one of a key wins. */
void config_override(struct config_overrides *ov, const char *key, const char *value);
void config_overrides_free(struct config_overrides *ov);
struct config *config_load(const char *path, const struct config_overrides *ov, struct diag *d);
void config_free(struct config *c);

void group_conf_ref(struct group_conf *g);
void group_conf_unref(struct group_conf *g);

/* The i-th key name of a section kind ("program:x", "supervisord", ...) from the key tables, NULL
 * past the end; pidvisor-image checks stack files against them. */
const char *config_key_name(const char *section, size_t i);
/* The closest of cands to word when it is close enough for a "did you mean", else NULL. */
const char *config_suggest(const char *word, const char *const *cands, size_t n);

/* Convenience for lookups by namespec parts. */
struct group_conf *config_find_group(const struct config *c, const char *name);

/* Whether two process configs would run the same thing (used by reread/update). */
bool proc_conf_equal(const struct proc_conf *a, const struct proc_conf *b);
bool group_conf_equal(const struct group_conf *a, const struct group_conf *b);

const char *loglevel_name(int level);
int loglevel_parse(const char *s);

/* The config file search when -c is missing: first existing of supervisord's list. */
char *config_search(const char *argv0);

#endif
