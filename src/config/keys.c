#include "keys.h"

#include <string.h>

#include "config.h"

#define P(field) offsetof(struct proc_conf, field)
#define S(field) offsetof(struct supervisord_conf, field)
#define H(field) offsetof(struct http_server_conf, field)
#define C(field) offsetof(struct ctl_conf, field)
#define G(field) offsetof(struct group_section, field)
#define I(field) offsetof(struct include_section, field)
#define BIG	 (1LL << 40)

/* supervisord expands the log file names twice (options.py: get(), then expand()), as it does
 * [supervisord] environment: a literal % is %%%% there. */
static const struct keydef program_keys[] = {
    {"command", K_STR, NULL, P(command), 0, 0, KF_PROC | KF_REQUIRED},
    {"process_name", K_STR, "%(program_name)s", P(name), 0, 0, KF_PROC},
    {"numprocs", K_INT, "1", P(numprocs), 1, 100000, KF_EARLY},
    {"numprocs_start", K_INT, "0", P(numprocs_start), 0, BIG, KF_EARLY},
    {"priority", K_INT, "999", P(priority), -BIG, BIG, 0},
    {"autostart", K_BOOL, "true", P(autostart), 0, 0, 0},
    {"autorestart", K_AUTORESTART, "unexpected", P(autorestart), 0, 0, 0},
    {"exitcodes", K_EXITCODES, "0", P(exitcodes), 0, 0, 0},
    {"startsecs", K_INT, "1", P(startsecs), 0, BIG, 0},
    {"startretries", K_INT, "3", P(startretries), 0, BIG, 0},
    {"stopsignal", K_SIGNAL, "TERM", P(stopsignal), 0, 0, 0},
    {"stopwaitsecs", K_INT, "10", P(stopwaitsecs), 0, BIG, 0},
    {"stopasgroup", K_BOOL, "false", P(stopasgroup), 0, 0, 0},
    {"killasgroup", K_BOOL, NULL, P(killasgroup), 0, 0, 0},
    {"user", K_USER, NULL, P(user), 0, 0, 0},
    {"redirect_stderr", K_BOOL, "false", P(redirect_stderr), 0, 0, 0},
    {"stdout_logfile", K_LOGFILE, "AUTO", P(out.logfile), 0, 0, KF_PROC | KF_TWICE},
    {"stdout_logfile_maxbytes", K_SIZE, "50MB", P(out.maxbytes), 0, 0, KF_PROC},
    {"stdout_logfile_backups", K_INT, "10", P(out.backups), 0, 100000, KF_PROC},
    {"stdout_capture_maxbytes", K_SIZE, "0", P(out.capture_maxbytes), 0, 0, 0},
    {"stdout_events_enabled", K_BOOL, "false", P(out.events_enabled), 0, 0, 0},
    {"stdout_syslog", K_BOOL, "false", P(out.syslog), 0, 0, KF_PROC},
    {"stderr_logfile", K_LOGFILE, "AUTO", P(err.logfile), 0, 0, KF_PROC | KF_TWICE},
    {"stderr_logfile_maxbytes", K_SIZE, "50MB", P(err.maxbytes), 0, 0, KF_PROC},
    {"stderr_logfile_backups", K_INT, "10", P(err.backups), 0, 100000, KF_PROC},
    {"stderr_capture_maxbytes", K_SIZE, "0", P(err.capture_maxbytes), 0, 0, 0},
    {"stderr_events_enabled", K_BOOL, "false", P(err.events_enabled), 0, 0, 0},
    {"stderr_syslog", K_BOOL, "false", P(err.syslog), 0, 0, KF_PROC},
    {"environment", K_ENV, "", P(environment), 0, 0, KF_PROC},
    {"directory", K_STR_NULL, NULL, P(directory), 0, 0, KF_PROC},
    {"umask", K_UMASK, NULL, P(umask), 0, 0, 0},
    {"serverurl", K_STR, "AUTO", P(serverurl), 0, 0, 0},
    {"forward_signals", K_SIGSET, "", P(forward_signals), 0, 0, KF_EXT},
    {"log_format", K_LOGFORMAT, NULL, P(log_format), 0, 0, KF_EXT},
    {"envfiles", K_ENVFILES, "", P(envfiles), 0, 0, KF_EXT},
    {"shutdown_on", K_SHUTDOWN_ON, "never", P(shutdown_on), 0, 0, KF_EXT},
    {"shutdown_exitcode", K_INT, "-1", P(shutdown_exitcode), -1, 255, KF_EXT},
    {"healthcheck", K_HEALTHCHECK, "", P(health), 0, 0, KF_EXT | KF_PROC},
    {"healthcheck_interval", K_DURATION, "10", P(health_interval), 100, 86400000, KF_EXT},
    {"healthcheck_timeout", K_DURATION, "5", P(health_timeout), 10, 3600000, KF_EXT},
    {"healthcheck_retries", K_INT, "3", P(health_retries), 1, 1000, KF_EXT},
    {"healthcheck_start_period", K_DURATION, "0", P(health_start_period), 0, 86400000, KF_EXT},
    {"on_unhealthy", K_ON_UNHEALTHY, "none", P(on_unhealthy), 0, 0, KF_EXT},
    {"depends_on", K_DEPENDS, "", P(depends_on), 0, 0, KF_EXT},
    {"restart_backoff", K_BACKOFF, "linear", P(restart_backoff), 0, 0, KF_EXT},
    {"restart_backoff_max", K_DURATION, "60", P(restart_backoff_max), 1000, 86400000, KF_EXT},
    {"retry_forever", K_BOOL, "false", P(retry_forever), 0, 0, KF_EXT},
    {"schedule", K_SCHEDULE, "", P(schedule), 0, 0, KF_EXT},
    {"schedule_overlap", K_OVERLAP, "skip", P(schedule_overlap), 0, 0, KF_EXT},
    {"schedule_timezone", K_TIMEZONE, "", P(schedule_timezone), 0, 0, KF_EXT},
    {"schedule_jitter", K_DURATION, "0", P(schedule_jitter), 0, 86400000, KF_EXT},
    {"schedule_missed", K_MISSED, "skip", P(schedule_missed), 0, 0, KF_EXT},
    {"schedule_run_on_start", K_BOOL, "false", P(schedule_run_on_start), 0, 0, KF_EXT},
    {"ready", K_READY, "", P(ready), 0, 0, KF_EXT},
    {"ready_timeout", K_DURATION, "60", P(ready_timeout), 0, 86400000, KF_EXT},
    {"watchdog_sec", K_DURATION, "0", P(watchdog_sec), 0, 86400000, KF_EXT},
    {"memory_max", K_SIZE, "0", P(memory_max), 0, 0, KF_EXT},
    {"on_memory", K_ON_UNHEALTHY, "restart", P(on_memory), 0, 0, KF_EXT},
    /* not expanded, so that 50% is written as such */
    {"cpu_max", K_CPUS, "0", P(cpu_max), 10, 1000000, KF_EXT | KF_NOEXPAND},
};

/* [eventlistener:x] has every program key and these; its priority defaults to -1 (config.c) */
static const struct keydef listener_keys[] = {
    {"events", K_EVENTS, NULL, P(events), 0, 0, KF_REQUIRED},
    {"buffer_size", K_INT, "10", P(buffer_size), 1, 1000000, 0},
    {"result_handler", K_STR, RESULT_HANDLER_DEFAULT, P(result_handler), 0, 0, 0},
};

/* [fcgi-program:x] has every program key and these */
static const struct keydef fcgi_keys[] = {
    {"socket", K_FCGI_SOCKET, NULL, P(socket), 0, 0, KF_REQUIRED},
    {"socket_backlog", K_INT, NULL, P(socket_backlog), 1, 65535, 0},
    {"socket_owner", K_STR_NULL, NULL, P(socket_owner), 0, 0, 0},
    {"socket_mode", K_UMASK, NULL, P(socket_mode), 0, 0, 0},
};

static const struct keydef supervisord_keys[] = {
    {"logfile", K_LOGFILE, "supervisord.log", S(logfile), 0, 0, 0},
    {"logfile_maxbytes", K_SIZE, "50MB", S(logfile_maxbytes), 0, 0, 0},
    {"logfile_backups", K_INT, "10", S(logfile_backups), 0, 100000, 0},
    {"loglevel", K_LOGLEVEL, "info", S(loglevel), 0, 0, 0},
    {"pidfile", K_STR_NULL, "supervisord.pid", S(pidfile), 0, 0, 0},
    {"umask", K_OCTAL, "022", S(umask), 0, 0, 0},
    {"nodaemon", K_BOOL, "false", S(nodaemon), 0, 0, 0},
    {"silent", K_BOOL, "false", S(silent), 0, 0, 0},
    {"minfds", K_INT, "1024", S(minfds), 0, BIG, 0},
    {"minprocs", K_INT, "200", S(minprocs), 0, BIG, 0},
    {"nocleanup", K_BOOL, "false", S(nocleanup), 0, 0, 0},
    {"childlogdir", K_STR, NULL, S(childlogdir), 0, 0, 0},
    {"user", K_USER, NULL, S(user), 0, 0, 0},
    {"directory", K_STR_NULL, NULL, S(directory), 0, 0, 0},
    {"strip_ansi", K_BOOL, "false", S(strip_ansi), 0, 0, 0},
    {"environment", K_ENV, "", S(environment), 0, 0, KF_TWICE},
    {"identifier", K_STR, "supervisor", S(identifier), 0, 0, 0},
    {"log_format", K_LOGFORMAT, "plain", S(log_format), 0, 0, KF_EXT},
    {"log_color", K_BOOL, "true", S(log_color), 0, 0, KF_EXT},
    {"log_timestamp", K_BOOL, "false", S(log_timestamp), 0, 0, KF_EXT},
    {"envfiles", K_ENVFILES, "", S(envfiles), 0, 0, KF_EXT},
    {"process_resources", K_BOOL, "false", S(process_resources), 0, 0, KF_EXT},
};

static const struct keydef unix_server_keys[] = {
    {"file", K_STR, NULL, H(file), 0, 0, KF_REQUIRED},
    {"chmod", K_OCTAL, "0700", H(chmod), 0, 0, 0},
    {"chown", K_STR_NULL, NULL, H(chown), 0, 0, 0},
    {"username", K_STR_NULL, NULL, H(username), 0, 0, 0},
    {"password", K_STR_NULL, NULL, H(password), 0, 0, 0},
};

static const struct keydef inet_server_keys[] = {
    {"port", K_STR, NULL, H(port), 0, 0, KF_REQUIRED | KF_NOEXPAND},
    {"username", K_STR_NULL, NULL, H(username), 0, 0, 0},
    {"password", K_STR_NULL, NULL, H(password), 0, 0, 0},
};

/* Both control servers' connection limits (pidvisor extensions, documented in docs/limits.md). */
static const struct keydef server_limit_keys[] = {
    {"max_connections", K_INT, "1024", H(max_connections), 2, 65536, KF_EXT},
    {"header_timeout", K_INT, "10", H(header_timeout), 1, 86400, KF_EXT},
    {"idle_timeout", K_INT, "300", H(idle_timeout), 1, 86400, KF_EXT},
    {"max_request_bytes", K_SIZE, "2MB", H(max_request_bytes), 0, 0, KF_EXT},
    {"max_header_bytes", K_SIZE, "64KB", H(max_header_bytes), 0, 0, KF_EXT},
    {"max_queued_bytes", K_SIZE, "1MB", H(max_queued_bytes), 0, 0, KF_EXT},
    {"multicall_max_calls", K_INT, "1000", H(multicall_max_calls), 1, 1000000, KF_EXT},
    {"multicall_max_bytes", K_SIZE, "64MB", H(multicall_max_bytes), 0, 0, KF_EXT},
};

static const struct keydef ctl_keys[] = {
    {"serverurl", K_STR, "http://localhost:9001", C(serverurl), 0, 0, 0},
    {"username", K_STR_NULL, NULL, C(username), 0, 0, 0},
    {"password", K_STR_NULL, NULL, C(password), 0, 0, 0},
    {"prompt", K_STR, "supervisor", C(prompt), 0, 0, 0},
    {"history_file", K_STR_NULL, NULL, C(history_file), 0, 0, 0},
};

static const struct keydef group_keys[] = {
    {"programs", K_STR, NULL, G(programs), 0, 0, 0},
    {"priority", K_INT, "999", G(priority), -BIG, BIG, 0},
};

static const struct keydef include_keys[] = {
    {"files", K_STR, NULL, I(files), 0, 0, KF_REQUIRED},
};

#define KEYS(t) t, ARRAY_SIZE(t)
static const struct section_def sections[] = {
    {"supervisord", SEC_SUPERVISORD, KEYS(supervisord_keys), NULL, 0, NULL},
    {"program:", SEC_PROGRAM, KEYS(program_keys), NULL, 0, NULL},
    {"group:", SEC_GROUP, KEYS(group_keys), NULL, 0, NULL},
    {"include", SEC_INCLUDE, KEYS(include_keys), NULL, 0, NULL},
    {"unix_http_server", SEC_UNIX, KEYS(unix_server_keys), KEYS(server_limit_keys), NULL},
    {"inet_http_server", SEC_INET, KEYS(inet_server_keys), KEYS(server_limit_keys), NULL},
    {"supervisorctl", SEC_CTL, KEYS(ctl_keys), NULL, 0, NULL},
    {"rpcinterface:", SEC_RPC, NULL, 0, NULL, 0, NULL},
    {"eventlistener:", SEC_EVENTLISTENER, KEYS(program_keys), KEYS(listener_keys), NULL},
    {"fcgi-program:", SEC_FCGI, KEYS(program_keys), KEYS(fcgi_keys), NULL},
    {"ctlplugin:", SEC_CTLPLUGIN, NULL, 0, NULL, 0,
     "supervisorctl plugins are not supported; skipped"},
    {"DEFAULT", SEC_DEFAULT, NULL, 0, NULL, 0, NULL},
};

const struct section_def *section_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		const char *p = sections[i].prefix;
		size_t n = strlen(p);
		if (p[n - 1] == ':' ? strncmp(name, p, n) == 0 && name[n] : strcmp(name, p) == 0)
			return &sections[i];
	}
	return NULL;
}

const struct section_def *section_by_kind(enum sec_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (sections[i].kind == kind)
			return &sections[i];
	return NULL;
}

size_t section_nkeys(const struct section_def *def)
{
	return def->nkeys + def->nshared;
}

const struct keydef *section_key(const struct section_def *def, size_t i)
{
	if (i < def->nkeys)
		return &def->keys[i];
	return i - def->nkeys < def->nshared ? &def->shared[i - def->nkeys] : NULL;
}

const struct keydef *section_find_key(const struct section_def *def, const char *name)
{
	for (size_t i = 0; i < section_nkeys(def); i++)
		if (strcmp(section_key(def, i)->name, name) == 0)
			return section_key(def, i);
	return NULL;
}

const char *config_key_name(const char *section, size_t i)
{
	const struct section_def *def = section_of(section);
	const struct keydef *k = def ? section_key(def, i) : NULL;
	return k ? k->name : NULL;
}
