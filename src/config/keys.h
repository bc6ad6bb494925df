/*
 * The key tables: every section pidvisor knows and every key of it, with its type, default,
 * range and where its value lands. They are the single source of key names: the model loads
 * through them (config.c), keytypes.c says what each type parses into, and pidvisor-image checks
 * stack files against them.
 */
#ifndef PIDVISOR_KEYS_H
#define PIDVISOR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ktype {
	K_STR,	    /* string, kept as is ("" allowed) */
	K_STR_NULL, /* string, "" means unset (NULL) */
	K_BOOL,
	K_INT,
	K_SIZE,
	K_SIGNAL,
	K_OCTAL,
	K_UMASK, /* octal, unset = -1 */
	K_EXITCODES,
	K_AUTORESTART,
	K_LOGFILE,
	K_ENV,
	K_LOGLEVEL,
	K_USER,
	K_SIGSET,
	K_LOGFORMAT,
	K_ENVFILES,	/* comma list of env files, read at load: KEY=VALUE strings */
	K_SHUTDOWN_ON,	/* never, fatal, unexpected, exit */
	K_HEALTHCHECK,	/* cmd:ARGV, http://HOST:PORT/PATH, tcp:HOST:PORT */
	K_DURATION,	/* seconds: 10, 10s, 1.5s, 500ms, 2m, 1h (min/max in ms) */
	K_ON_UNHEALTHY, /* none, restart, shutdown */
	K_DEPENDS,	/* name[:condition], ...; group:* for a whole group */
	K_BACKOFF,	/* linear, exponential */
	K_EVENTS,	/* comma list of event type names (eventtypes.h) */
	K_SCHEDULE,	/* a cron expression, @daily..., @every DURATION */
	K_OVERLAP,	/* skip, queue, kill */
	K_TIMEZONE,	/* an IANA zone name under /usr/share/zoneinfo; "" means local time */
	K_MISSED,	/* skip, run_once */
	K_FCGI_SOCKET,	/* unix:///abs/path or tcp://host:port */
	K_READY,	/* notify, fd:N, log:REGEX */
	K_CPUS,		/* a number of CPUs: 0.5, 2, 50% (thousandths in a long long) */
	K_NTYPES,
};

enum {
	KF_PROC =
	    1 << 0, /* read per process: process_num, numprocs and the own environment's ENV_ */
	KF_REQUIRED = 1 << 1, /* no default */
	KF_EXT = 1 << 3,      /* pidvisor extension */
	KF_TWICE =
	    1 << 4, /* expanded twice, as supervisord does ([supervisord] environment, logfiles) */
	KF_NOEXPAND = 1 << 5,
	KF_EARLY =
	    1 << 6, /* read before the rest of its section (numprocs: process_num needs it) */
};

struct keydef {
	const char *name;
	enum ktype type;
	const char *dflt; /* NULL: no default (unset) */
	size_t off;	  /* where the value lands in the section's struct */
	long long min, max;
	unsigned flags;
};

enum sec_kind {
	SEC_SUPERVISORD,
	SEC_PROGRAM,
	SEC_GROUP,
	SEC_INCLUDE,
	SEC_UNIX,
	SEC_INET,
	SEC_CTL,
	SEC_RPC,
	SEC_EVENTLISTENER,
	SEC_FCGI,
	SEC_CTLPLUGIN,
	SEC_DEFAULT,
};

/* A section and its keys: its own, then a table it shares with other sections. No key table
 * accepts any key (passed through, as supervisord does). */
struct section_def {
	const char *prefix; /* "program:" matches "program:x" */
	enum sec_kind kind;
	const struct keydef *keys;
	size_t nkeys;
	const struct keydef *shared;
	size_t nshared;
	const char *skipped; /* non-NULL: not supported yet; says what is skipped */
};

/* The section a name ("program:web", "supervisord") is of, NULL for an unknown one. */
const struct section_def *section_of(const char *name);
const struct section_def *section_by_kind(enum sec_kind kind);
size_t section_nkeys(const struct section_def *def);
const struct keydef *section_key(const struct section_def *def, size_t i);
const struct keydef *section_find_key(const struct section_def *def, const char *name);

/* The places of [group:x] and [include] values, read through the tables like any section. */
struct group_section {
	char *programs;
	long long priority;
};
struct include_section {
	char *files;
};

#endif
