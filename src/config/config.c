#include "config.h"

#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expand.h"
#include "passwd.h"
#include "signals.h"

extern char **environ;

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
	K_IGNORED, /* known and accepted, not stored */
};

enum {
	KF_PROC = 1 << 0,	 /* expanded once per process, with process_num and numprocs */
	KF_REQUIRED = 1 << 1,	 /* no default */
	KF_UNSUPPORTED = 1 << 2, /* accepted; a non-default value gets a warning */
	KF_EXT = 1 << 3,	 /* pidvisor extension */
	KF_TWICE = 1 << 4, /* expanded twice, as supervisord does for [supervisord] environment */
	KF_NOEXPAND = 1 << 5,
};

#define NOFF SIZE_MAX

struct keydef {
	const char *name;
	enum ktype type;
	const char *dflt; /* NULL: no default (unset) */
	size_t off;
	long long min, max;
	unsigned flags;
};

#define P(field) offsetof(struct proc_conf, field)
#define S(field) offsetof(struct supervisord_conf, field)
#define H(field) offsetof(struct http_server_conf, field)
#define C(field) offsetof(struct ctl_conf, field)
#define BIG	 (1LL << 40)

static const struct keydef program_keys[] = {
    {"command", K_STR, NULL, P(command), 0, 0, KF_PROC | KF_REQUIRED},
    {"process_name", K_STR, "%(program_name)s", P(name), 0, 0, KF_PROC},
    {"numprocs", K_INT, "1", NOFF, 1, 100000, 0},
    {"numprocs_start", K_INT, "0", NOFF, 0, BIG, 0},
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
    {"stdout_logfile", K_LOGFILE, "AUTO", P(out.logfile), 0, 0, KF_PROC},
    {"stdout_logfile_maxbytes", K_SIZE, "50MB", P(out.maxbytes), 0, 0, 0},
    {"stdout_logfile_backups", K_INT, "10", P(out.backups), 0, 100000, 0},
    {"stdout_capture_maxbytes", K_SIZE, "0", P(out.capture_maxbytes), 0, 0, KF_UNSUPPORTED},
    {"stdout_events_enabled", K_BOOL, "false", P(out.events_enabled), 0, 0, KF_UNSUPPORTED},
    {"stdout_syslog", K_BOOL, "false", P(out.syslog), 0, 0, 0},
    {"stderr_logfile", K_LOGFILE, "AUTO", P(err.logfile), 0, 0, KF_PROC},
    {"stderr_logfile_maxbytes", K_SIZE, "50MB", P(err.maxbytes), 0, 0, 0},
    {"stderr_logfile_backups", K_INT, "10", P(err.backups), 0, 100000, 0},
    {"stderr_capture_maxbytes", K_SIZE, "0", P(err.capture_maxbytes), 0, 0, KF_UNSUPPORTED},
    {"stderr_events_enabled", K_BOOL, "false", P(err.events_enabled), 0, 0, KF_UNSUPPORTED},
    {"stderr_syslog", K_BOOL, "false", P(err.syslog), 0, 0, 0},
    {"environment", K_ENV, "", P(environment), 0, 0, KF_PROC},
    {"directory", K_STR_NULL, NULL, P(directory), 0, 0, KF_PROC},
    {"umask", K_UMASK, NULL, P(umask), 0, 0, 0},
    {"serverurl", K_STR, "AUTO", P(serverurl), 0, 0, 0},
    {"forward_signals", K_SIGSET, "", P(forward_signals), 0, 0, KF_EXT},
    {"log_format", K_LOGFORMAT, NULL, P(log_format), 0, 0, KF_EXT},
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
};

static const struct keydef unix_server_keys[] = {
    {"file", K_STR, NULL, H(file), 0, 0, KF_REQUIRED},
    {"chmod", K_OCTAL, "0700", H(chmod), 0, 0, 0},
    {"chown", K_STR_NULL, NULL, H(chown), 0, 0, 0},
    {"username", K_STR_NULL, NULL, H(username), 0, 0, 0},
    {"password", K_STR_NULL, NULL, H(password), 0, 0, 0},
    {"max_connections", K_INT, "1024", H(max_connections), 2, 65536, KF_EXT},
    {"header_timeout", K_INT, "10", H(header_timeout), 1, 86400, KF_EXT},
    {"idle_timeout", K_INT, "300", H(idle_timeout), 1, 86400, KF_EXT},
    {"max_request_bytes", K_SIZE, "2MB", H(max_request_bytes), 0, 0, KF_EXT},
    {"max_header_bytes", K_SIZE, "64KB", H(max_header_bytes), 0, 0, KF_EXT},
    {"max_queued_bytes", K_SIZE, "1MB", H(max_queued_bytes), 0, 0, KF_EXT},
    {"multicall_max_calls", K_INT, "1000", H(multicall_max_calls), 1, 1000000, KF_EXT},
    {"multicall_max_bytes", K_SIZE, "64MB", H(multicall_max_bytes), 0, 0, KF_EXT},
};

static const struct keydef inet_server_keys[] = {
    {"port", K_STR, NULL, H(port), 0, 0, KF_REQUIRED | KF_NOEXPAND},
    {"username", K_STR_NULL, NULL, H(username), 0, 0, 0},
    {"password", K_STR_NULL, NULL, H(password), 0, 0, 0},
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
    {"programs", K_STR, NULL, NOFF, 0, 0, KF_REQUIRED},
    {"priority", K_INT, "999", NOFF, -BIG, BIG, 0},
};

static const struct keydef include_keys[] = {
    {"files", K_STR, NULL, NOFF, 0, 0, KF_REQUIRED},
};

/* Sections pidvisor knows. A NULL key table accepts any key (passed through, as supervisord does).
 */
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
	SEC_UNKNOWN,
};

static const struct section_def {
	const char *prefix; /* "program:" matches "program:x" */
	enum sec_kind kind;
	const struct keydef *keys;
	size_t nkeys;
	const char *skipped; /* non-NULL: not supported yet; says what is skipped */
} sections[] = {
    {"supervisord", SEC_SUPERVISORD, supervisord_keys, ARRAY_SIZE(supervisord_keys), NULL},
    {"program:", SEC_PROGRAM, program_keys, ARRAY_SIZE(program_keys), NULL},
    {"group:", SEC_GROUP, group_keys, ARRAY_SIZE(group_keys), NULL},
    {"include", SEC_INCLUDE, include_keys, ARRAY_SIZE(include_keys), NULL},
    {"unix_http_server", SEC_UNIX, unix_server_keys, ARRAY_SIZE(unix_server_keys), NULL},
    {"inet_http_server", SEC_INET, inet_server_keys, ARRAY_SIZE(inet_server_keys), NULL},
    {"supervisorctl", SEC_CTL, ctl_keys, ARRAY_SIZE(ctl_keys), NULL},
    {"rpcinterface:", SEC_RPC, NULL, 0, NULL},
    {"eventlistener:", SEC_EVENTLISTENER, NULL, 0,
     "event listeners are not supported yet; this listener is not started"},
    {"fcgi-program:", SEC_FCGI, NULL, 0,
     "FastCGI programs are not supported yet; this program is not started"},
    {"ctlplugin:", SEC_CTLPLUGIN, NULL, 0, "supervisorctl plugins are not supported; skipped"},
    {"DEFAULT", SEC_DEFAULT, NULL, 0, NULL},
};

static const struct keydef *find_key(const struct keydef *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static const struct section_def *section_kind(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		const char *p = sections[i].prefix;
		size_t n = strlen(p);
		if (p[n - 1] == ':' ? strncmp(name, p, n) == 0 && name[n] : strcmp(name, p) == 0)
			return &sections[i];
	}
	return NULL;
}

struct loader {
	struct config *c;
	struct ini_doc doc;
	struct diag *d;
	char hostname[256];
	struct strvec env; /* start-up environment + [supervisord] environment */
};

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));
	free(copy);
	char abs[PATH_MAX];
	if (realpath(dir, abs)) {
		free(dir);
		return xstrdup(abs);
	}
	return dir;
}

/* A "did you mean" for a word among candidates, or NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t dd = edit_distance(word, cands[i]);
		if (dd < best_d) {
			best_d = dd;
			best = cands[i];
		}
	}
	size_t len = strlen(word);
	return best && best_d <= (len < 6 ? 1 : len / 3 + 1) ? best : NULL;
}

static const char *suggest_key(const char *key, const struct keydef *keys, size_t n)
{
	const char *cands[64];
	size_t m = 0;
	for (size_t i = 0; i < n && m < ARRAY_SIZE(cands); i++)
		cands[m++] = keys[i].name;
	return suggest(key, cands, m);
}

/* The value behind one key: command-line override, the section's entry, [DEFAULT], or default. */
struct raw {
	const char *value;
	const char *file;
	int line;
	bool from_file;
};

static bool raw_get(struct loader *L, const struct ini_section *sec, const char *key,
		    const char *dflt, struct raw *r)
{
	const struct ini_entry *e = sec ? ini_find(&L->doc, sec, key) : NULL;
	if (e) {
		*r = (struct raw){e->value, e->file, e->line, true};
		return true;
	}
	*r = (struct raw){dflt, sec ? sec->file : L->c->path, sec ? sec->line : 0, false};
	return dflt != NULL;
}

static void report(struct loader *L, enum diag_level lvl, const struct raw *r, const char *section,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void report(struct loader *L, enum diag_level lvl, const struct raw *r, const char *section,
		   const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(L->d, lvl, r->file, r->line, section, key, fmt, ap);
	va_end(ap);
}

static int do_expand(struct loader *L, const struct raw *r, const char *section, const char *key,
		     struct expand_ctx *ex, unsigned flags, char **out)
{
	char *err = NULL;
	char *here = NULL;

	if (flags & KF_NOEXPAND) {
		*out = xstrdup(r->value);
		return 0;
	}
	if (r->from_file) {
		here = dir_of(r->file);
		ex->here = here;
	}
	int rc = expand(r->value, ex, out, &err);
	if (rc == 0 && (flags & KF_TWICE)) {
		char *again = NULL;
		rc = expand(*out, ex, &again, &err);
		free(*out);
		*out = again;
	}
	if (rc < 0) {
		report(L, DIAG_ERROR, r, section, key, "%s", err);
		free(err);
	}
	free(here);
	return rc;
}

static int parse_sigset(const char *s, uint64_t *out, char **bad)
{
	char *copy = xstrdup(s), *save = NULL;
	*out = 0;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		int sig = signal_parse(tok);
		if (sig <= 0 || sig >= 64) {
			*bad = xstrdup(tok);
			free(copy);
			return -1;
		}
		*out |= 1ULL << sig;
	}
	free(copy);
	return 0;
}

static int parse_log_format(const char *s)
{
	static const char *const names[] = {"plain", "prefix", "json"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (str_eq_nocase(s, names[i]))
			return (int)i;
	return -1;
}

/* Parses one expanded value into base+k->off. Errors name the file, line, section and key. */
static int store(struct loader *L, const struct keydef *k, const struct raw *r, const char *section,
		 const char *v, void *base)
{
	void *dst = (char *)base + k->off;
	long long n;
	char *why = NULL;

	switch (k->type) {
	case K_STR:
		*(char **)dst = xstrdup(v);
		return 0;
	case K_STR_NULL:
		*(char **)dst = *v ? xstrdup(v) : NULL;
		return 0;
	case K_BOOL:
		if (parse_bool(v, dst) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name, "'%s' is not a boolean (true/false)", v);
		return -1;
	case K_INT:
		if (parse_int(v, k->min, k->max, &n) == 0) {
			*(long long *)dst = n;
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name,
		       "'%s' is not an integer from %lld to %lld", v, k->min, k->max);
		return -1;
	case K_SIZE:
		if (parse_size(v, &n) == 0) {
			*(long long *)dst = n;
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name,
		       "'%s' is not a size (a number, optionally followed by KB, MB or GB)", v);
		return -1;
	case K_SIGNAL:
		if (parse_signal(v, dst) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name, "'%s' is not a signal name or number",
		       v);
		return -1;
	case K_OCTAL:
	case K_UMASK:
		if (k->type == K_UMASK && !*v) {
			*(int *)dst = -1;
			return 0;
		}
		if (parse_octal(v, dst) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name, "'%s' is not an octal number", v);
		return -1;
	case K_EXITCODES:
		if (parse_exitcodes(v, dst) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name,
		       "'%s' is not a comma-separated list of exit codes (0-255)", v);
		return -1;
	case K_AUTORESTART: {
		bool b;
		if (str_eq_nocase(v, "unexpected")) {
			*(enum autorestart *)dst = AUTORESTART_UNEXPECTED;
			return 0;
		}
		if (parse_bool(v, &b) == 0) {
			*(enum autorestart *)dst = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name,
		       "'%s' is not one of true, false, unexpected", v);
		return -1;
	}
	case K_LOGFILE:
		if (!*v || str_eq_nocase(v, "NONE") || str_eq_nocase(v, "OFF")) {
			*(char **)dst = NULL;
			return 0;
		}
		if (str_eq_nocase(v, "AUTO")) {
			*(char **)dst = xstrdup("AUTO");
			return 0;
		}
		if (str_eq_nocase(v, "syslog")) {
			*(char **)dst = xstrdup("syslog");
			return 0;
		}
		{
			char *dir = dir_of(v);
			struct stat st;
			int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
			if (!ok)
				report(L, DIAG_ERROR, r, section, k->name,
				       "the directory of '%s' does not exist", v);
			free(dir);
			if (!ok)
				return -1;
		}
		*(char **)dst = xstrdup(v);
		return 0;
	case K_ENV:
		if (parse_environment(v, dst, &why) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name, "%s", why);
		free(why);
		return -1;
	case K_LOGLEVEL: {
		int lvl = loglevel_parse(v);
		if (lvl >= 0) {
			*(int *)dst = lvl;
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name,
		       "'%s' is not a log level (critical, error, warn, info, debug, trace, "
		       "blather)",
		       v);
		return -1;
	}
	case K_USER: {
		struct user_info ui;
		if (!*v) {
			*(char **)dst = NULL;
			return 0;
		}
		if (user_lookup(v, &ui) == 0) {
			*(char **)dst = xstrdup(v);
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name, "no such user '%s' in /etc/passwd", v);
		return -1;
	}
	case K_SIGSET:
		if (parse_sigset(v, dst, &why) == 0)
			return 0;
		report(L, DIAG_ERROR, r, section, k->name, "'%s' is not a signal name or number",
		       why);
		free(why);
		return -1;
	case K_LOGFORMAT: {
		int f = parse_log_format(v);
		if (f >= 0) {
			*(int *)dst = f;
			return 0;
		}
		report(L, DIAG_ERROR, r, section, k->name, "'%s' is not one of plain, prefix, json",
		       v);
		return -1;
	}
	case K_IGNORED:
		return 0;
	}
	return -1;
}

/* Reads, expands and stores one key. Returns -1 on error. */
static int load_key(struct loader *L, const struct keydef *k, const struct ini_section *sec,
		    const char *section, struct expand_ctx *ex, const char *override, void *base)
{
	struct raw r;
	char *v = NULL;
	int rc;

	if (override) {
		r = (struct raw){override, "command line", 0, false};
		return store(L, k, &r, section, override, base);
	}
	if (!raw_get(L, sec, k->name, k->dflt, &r)) {
		if (k->flags & KF_REQUIRED) {
			report(L, DIAG_ERROR, &r, section, k->name, "required, but missing");
			return -1;
		}
		/* unset: leave the zeroed field, except umask-like fields that mean "unset" */
		if (k->type == K_UMASK || k->type == K_LOGFORMAT)
			*(int *)((char *)base + k->off) = -1;
		return 0;
	}
	if (do_expand(L, &r, section, k->name, ex, k->flags, &v) < 0)
		return -1;
	rc = store(L, k, &r, section, v, base);
	if (rc == 0 && (k->flags & KF_UNSUPPORTED) && r.from_file && k->dflt &&
	    strcmp(v, k->dflt) != 0)
		report(L, DIAG_WARNING, &r, section, k->name,
		       "not supported by pidvisor (no event support); ignored");
	free(v);
	return rc;
}

static void base_expansions(struct loader *L, struct expand_ctx *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->host_node_name = L->hostname;
	ex->env = L->env.v;
}

static const char *override_for(const struct config_overrides *ov, const char *key)
{
	if (!ov)
		return NULL;
	const char *found = NULL;
	for (size_t i = 0; i < ov->n; i++)
		if (strcmp(ov->keys[i], key) == 0)
			found = ov->values[i];
	return found;
}

static int load_table(struct loader *L, const struct keydef *keys, size_t n,
		      const struct ini_section *sec, const char *section, struct expand_ctx *ex,
		      const struct config_overrides *ov, void *base)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (keys[i].off == NOFF)
			continue;
		if (load_key(L, &keys[i], sec, section, ex, override_for(ov, keys[i].name), base) <
		    0)
			rc = -1;
	}
	return rc;
}

static void free_strings_in(const struct keydef *keys, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].off == NOFF)
			continue;
		void *p = (char *)base + keys[i].off;
		switch (keys[i].type) {
		case K_STR:
		case K_STR_NULL:
		case K_LOGFILE:
		case K_USER:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case K_ENV:
			sv_free(p);
			break;
		default:
			break;
		}
	}
}

static void proc_conf_free(struct proc_conf *p)
{
	if (!p)
		return;
	free_strings_in(program_keys, ARRAY_SIZE(program_keys), p);
	free(p->program);
	free(p->group);
	free(p->file);
	sv_free(&p->argv);
	free(p);
}

void group_conf_ref(struct group_conf *g)
{
	g->refs++;
}

void group_conf_unref(struct group_conf *g)
{
	if (!g || --g->refs > 0)
		return;
	for (size_t i = 0; i < g->nprocs; i++)
		proc_conf_free(g->procs[i]);
	free(g->procs);
	free(g->name);
	free(g->file);
	free(g);
}

/* ENV_ names inside a program: the start-up env, [supervisord] environment, the program's own. */
static void program_env(struct loader *L, const struct ini_section *sec, struct strvec *env)
{
	for (size_t i = 0; i < L->env.n; i++)
		sv_push(env, xstrdup(L->env.v[i]));
	const struct ini_entry *e = ini_find(&L->doc, sec, "environment");
	struct strvec own = {0};
	char *why = NULL;
	if (e && parse_environment(e->value, &own, &why) == 0) {
		for (size_t i = 0; i < own.n; i++)
			sv_push(env, xstrdup(own.v[i]));
	}
	free(why);
	sv_free(&own);
}

static int finish_proc(struct loader *L, struct proc_conf *p, const struct ini_section *sec,
		       const char *section)
{
	struct raw r;
	char *why = NULL;
	int rc = 0;

	if (!raw_get(L, sec, "killasgroup", NULL, &r))
		p->killasgroup = p->stopasgroup;
	else if (p->stopasgroup && !p->killasgroup) {
		report(L, DIAG_ERROR, &r, section, "killasgroup",
		       "cannot be false when stopasgroup is true");
		rc = -1;
	}
	raw_get(L, sec, "command", NULL, &r);
	if (p->command && split_command(p->command, &p->argv, &why) < 0) {
		report(L, DIAG_ERROR, &r, section, "command", "%s", why);
		free(why);
		rc = -1;
	} else if (p->command && p->argv.n == 0) {
		report(L, DIAG_ERROR, &r, section, "command", "is empty");
		rc = -1;
	}
	raw_get(L, sec, "process_name", NULL, &r);
	if (p->name && !valid_name(p->name)) {
		report(L, DIAG_ERROR, &r, section, "process_name",
		       "'%s' is not a valid name (no whitespace, ':' or '/')", p->name);
		rc = -1;
	}
	if (p->redirect_stderr && raw_get(L, sec, "stderr_logfile", NULL, &r))
		report(L, DIAG_WARNING, &r, section, "stderr_logfile",
		       "ignored because redirect_stderr is true");
	return rc;
}

static int load_program(struct loader *L, const struct ini_section *sec, const char *group_name,
			struct group_conf *g)
{
	const char *program = sec->name + strlen("program:");
	struct expand_ctx ex;
	struct strvec env = {0};
	long long numprocs = 1, start = 0;
	struct raw r;
	int rc = 0;

	if (!valid_name(program)) {
		diag_add(L->d, DIAG_ERROR, sec->file, sec->line, sec->name, NULL,
			 "'%s' is not a valid program name (no whitespace, ':' or '/')", program);
		return -1;
	}
	program_env(L, sec, &env);
	base_expansions(L, &ex);
	ex.env = env.v;
	ex.program_name = program;
	ex.group_name = group_name;

	/* numprocs and numprocs_start, read before process_num exists */
	long long *targets[2] = {&numprocs, &start};
	const struct keydef *ks[2] = {
	    find_key(program_keys, ARRAY_SIZE(program_keys), "numprocs"),
	    find_key(program_keys, ARRAY_SIZE(program_keys), "numprocs_start")};
	for (int i = 0; i < 2; i++) {
		char *v = NULL;
		raw_get(L, sec, ks[i]->name, ks[i]->dflt, &r);
		if (do_expand(L, &r, sec->name, ks[i]->name, &ex, 0, &v) < 0 ||
		    parse_int(v, ks[i]->min, ks[i]->max, targets[i]) < 0) {
			if (v)
				report(L, DIAG_ERROR, &r, sec->name, ks[i]->name,
				       "'%s' is not an integer from %lld to %lld", v, ks[i]->min,
				       ks[i]->max);
			rc = -1;
		}
		free(v);
	}
	if (rc < 0)
		goto out;
	if (numprocs > 1) {
		raw_get(L, sec, "process_name", "%(program_name)s", &r);
		if (!strstr(r.value, "%(process_num)")) {
			report(L, DIAG_ERROR, &r, sec->name, "process_name",
			       "must contain %%(process_num) when numprocs > 1");
			rc = -1;
			goto out;
		}
	}
	for (long long i = 0; i < numprocs; i++) {
		struct proc_conf *p = xcalloc(1, sizeof(*p));
		p->program = xstrdup(program);
		p->group = xstrdup(group_name);
		p->process_num = (int)(start + i);
		p->file = xstrdup(sec->file);
		p->line = sec->line;
		ex.has_process_num = true;
		ex.process_num = p->process_num;
		ex.numprocs = (int)numprocs;
		int prc = load_table(L, program_keys, ARRAY_SIZE(program_keys), sec, sec->name, &ex,
				     NULL, p);
		if (prc == 0)
			prc = finish_proc(L, p, sec, sec->name);
		g->procs = xrealloc(g->procs, (g->nprocs + 1) * sizeof(*g->procs));
		g->procs[g->nprocs++] = p;
		if (prc < 0) {
			rc = -1;
			break; /* the same mistake would repeat for every process */
		}
	}
out:
	sv_free(&env);
	return rc;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_conf *x = *(struct proc_conf *const *)a,
			       *y = *(struct proc_conf *const *)b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b)
{
	const struct group_conf *x = *(struct group_conf *const *)a,
				*y = *(struct group_conf *const *)b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct group_conf *new_group(struct loader *L, const char *name, const char *file, int line)
{
	struct group_conf *g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	g->name = xstrdup(name);
	g->file = xstrdup(file);
	g->line = line;
	L->c->groups = xrealloc(L->c->groups, (L->c->ngroups + 1) * sizeof(*L->c->groups));
	L->c->groups[L->c->ngroups++] = g;
	return g;
}

static int load_groups(struct loader *L)
{
	struct strvec grouped = {0};
	int rc = 0;

	/* [group:x] first: its programs stop being groups of their own. */
	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		if (strncmp(sec->name, "group:", 6) != 0 || !sec->name[6])
			continue;
		const char *gname = sec->name + 6;
		struct raw r;
		char *programs = NULL, *prio = NULL;
		struct expand_ctx ex;
		base_expansions(L, &ex);
		if (!valid_name(gname)) {
			diag_add(L->d, DIAG_ERROR, sec->file, sec->line, sec->name, NULL,
				 "'%s' is not a valid group name", gname);
			rc = -1;
			continue;
		}
		if (!raw_get(L, sec, "programs", NULL, &r)) {
			report(L, DIAG_ERROR, &r, sec->name, "programs", "required, but missing");
			rc = -1;
			continue;
		}
		if (do_expand(L, &r, sec->name, "programs", &ex, 0, &programs) < 0) {
			rc = -1;
			continue;
		}
		struct group_conf *g = new_group(L, gname, sec->file, sec->line);
		raw_get(L, sec, "priority", "999", &r);
		if (do_expand(L, &r, sec->name, "priority", &ex, 0, &prio) < 0 ||
		    parse_int(prio, -BIG, BIG, &g->priority) < 0) {
			if (prio)
				report(L, DIAG_ERROR, &r, sec->name, "priority",
				       "'%s' is not an integer", prio);
			rc = -1;
		}
		free(prio);
		char *save = NULL;
		raw_get(L, sec, "programs", NULL, &r);
		for (char *p = strtok_r(programs, ", \t\n", &save); p;
		     p = strtok_r(NULL, ", \t\n", &save)) {
			char secname[512];
			snprintf(secname, sizeof(secname), "program:%s", p);
			const struct ini_section *ps = ini_find_section(&L->doc, secname);
			if (!ps) {
				report(L, DIAG_ERROR, &r, sec->name, "programs",
				       "no [program:%s] section", p);
				rc = -1;
				continue;
			}
			if (load_program(L, ps, gname, g) < 0)
				rc = -1;
			sv_push(&grouped, xstrdup(p));
		}
		free(programs);
	}
	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		if (strncmp(sec->name, "program:", 8) != 0 || !sec->name[8])
			continue;
		bool taken = false;
		for (size_t j = 0; j < grouped.n; j++)
			if (strcmp(grouped.v[j], sec->name + 8) == 0)
				taken = true;
		if (taken)
			continue;
		struct group_conf *g = new_group(L, sec->name + 8, sec->file, sec->line);
		if (load_program(L, sec, g->name, g) < 0)
			rc = -1;
		else if (g->nprocs)
			g->priority = g->procs[0]->priority;
	}
	sv_free(&grouped);
	if (rc < 0)
		return rc;

	/* Names must be unique: groups, and processes within a group. */
	struct config *c = L->c;
	for (size_t i = 0; i < c->ngroups; i++) {
		struct group_conf *g = c->groups[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->groups[j]->name, g->name) == 0) {
				diag_add(L->d, DIAG_ERROR, g->file, g->line, NULL, NULL,
					 "duplicate group name '%s' (also defined at %s:%d)",
					 g->name, c->groups[j]->file, c->groups[j]->line);
				rc = -1;
			}
		for (size_t a = 0; a < g->nprocs; a++)
			for (size_t b = 0; b < a; b++)
				if (strcmp(g->procs[a]->name, g->procs[b]->name) == 0) {
					diag_add(L->d, DIAG_ERROR, g->procs[a]->file,
						 g->procs[a]->line, NULL, "process_name",
						 "duplicate process name '%s' in group '%s'",
						 g->procs[a]->name, g->name);
					rc = -1;
				}
		qsort(g->procs, g->nprocs, sizeof(*g->procs), cmp_proc);
	}
	qsort(c->groups, c->ngroups, sizeof(*c->groups), cmp_group);
	return rc;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int load_includes(struct loader *L)
{
	const struct ini_section *inc = ini_find_section(&L->doc, "include");
	struct raw r;
	char *files = NULL;
	struct expand_ctx ex;
	int rc = 0;

	if (!inc || !raw_get(L, inc, "files", NULL, &r))
		return 0;
	base_expansions(L, &ex);
	if (do_expand(L, &r, "include", "files", &ex, 0, &files) < 0)
		return -1;
	struct raw where = r;
	char *save = NULL;
	struct strvec matches = {0};
	for (char *pat = strtok_r(files, " \t\n", &save); pat;
	     pat = strtok_r(NULL, " \t\n", &save)) {
		char *full = pat[0] == '/' ? xstrdup(pat) : xasprintf("%s/%s", L->c->here, pat);
		glob_t gl;
		int g = glob(full, 0, NULL, &gl);
		if (g == 0) {
			for (size_t i = 0; i < gl.gl_pathc; i++)
				sv_push(&matches, xstrdup(gl.gl_pathv[i]));
		} else if (has_glob(pat)) {
			report(L, DIAG_WARNING, &where, "include", "files", "no file matches '%s'",
			       full);
		} else {
			report(L, DIAG_ERROR, &where, "include", "files",
			       "included file '%s' does not exist", full);
			rc = -1;
		}
		globfree(&gl);
		free(full);
	}
	free(files);
	const char *main_file = r.file;
	for (size_t i = 0; i < matches.n; i++)
		if (ini_load(&L->doc, matches.v[i], L->d) < 0)
			rc = -1;
	sv_free(&matches);
	/* supervisord reads [include] from the main file only. */
	const struct ini_entry *e =
	    ini_find(&L->doc, ini_find_section(&L->doc, "include"), "files");
	if (e && e->file != main_file && strcmp(e->file, main_file) != 0)
		diag_add(L->d, DIAG_WARNING, e->file, e->line, "include", "files",
			 "[include] in an included file is ignored, as supervisord does");
	return rc;
}

static void check_sections(struct loader *L)
{
	const char *names[] = {
	    "supervisord",	"program:",	    "group:",	     "include",
	    "unix_http_server", "inet_http_server", "supervisorctl", "rpcinterface:",
	    "eventlistener:",	"fcgi-program:"};
	for (size_t i = 0; i < L->doc.n; i++) {
		const struct ini_section *sec = &L->doc.sections[i];
		const struct section_def *def = section_kind(sec->name);
		if (!def) {
			/* compare the part before ':' so [programx:web] suggests [program:web] */
			char head[128];
			const char *colon = strchr(sec->name, ':');
			size_t hn = colon ? (size_t)(colon - sec->name) + 1 : strlen(sec->name);
			snprintf(head, sizeof(head), "%.*s", (int)(hn < 127 ? hn : 127), sec->name);
			char lower[128];
			snprintf(lower, sizeof(lower), "%s", head);
			str_lower(lower);
			const char *s = suggest(lower, names, ARRAY_SIZE(names));
			if (s)
				diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
					 "unknown section, ignored (did you mean [%s%s]? section "
					 "names are case-sensitive)",
					 s, colon ? colon + 1 : "");
			else
				diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
					 "unknown section, ignored");
			continue;
		}
		if (def->skipped) {
			diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL, "%s",
				 def->skipped);
			continue;
		}
		if (def->kind == SEC_RPC) {
			const struct ini_entry *e =
			    ini_find(&L->doc, sec, "supervisor.rpcinterface_factory");
			if (!e ||
			    strcmp(e->value, "supervisor.rpcinterface:make_main_rpcinterface") != 0)
				diag_add(L->d, DIAG_WARNING, sec->file, sec->line, sec->name, NULL,
					 "only supervisor.rpcinterface:make_main_rpcinterface is "
					 "built in; this interface is skipped");
			continue;
		}
		if (!def->keys)
			continue;
		for (size_t j = 0; j < sec->n; j++) {
			const struct ini_entry *e = &sec->entries[j];
			bool known = false;
			for (size_t k = 0; k < def->nkeys; k++)
				if (strcmp(def->keys[k].name, e->key) == 0)
					known = true;
			if (known)
				continue;
			const char *s = suggest_key(e->key, def->keys, def->nkeys);
			if (s)
				diag_add(L->d, DIAG_WARNING, e->file, e->line, sec->name, e->key,
					 "unknown key, ignored (did you mean '%s'?)", s);
			else
				diag_add(L->d, DIAG_WARNING, e->file, e->line, sec->name, e->key,
					 "unknown key, ignored");
		}
	}
}

static int load_supervisord(struct loader *L, const struct config_overrides *ov)
{
	struct config *c = L->c;
	const struct ini_section *sec = ini_find_section(&L->doc, "supervisord");
	struct expand_ctx ex;
	int rc;

	if (!sec) {
		diag_add(L->d, DIAG_ERROR, c->path, 0, NULL, NULL,
			 "no [supervisord] section (it is required, even if empty)");
		return -1;
	}
	base_expansions(L, &ex);
	rc = load_table(L, supervisord_keys, ARRAY_SIZE(supervisord_keys), sec, "supervisord", &ex,
			ov, &c->sd);
	if (!c->sd.childlogdir) {
		const char *tmp = getenv("TMPDIR");
		c->sd.childlogdir = xstrdup(tmp && *tmp ? tmp : "/tmp");
	}
	for (size_t i = 0; i < c->sd.environment.n; i++)
		sv_push(&L->env, xstrdup(c->sd.environment.v[i]));
	return rc;
}

static int load_servers(struct loader *L)
{
	struct config *c = L->c;
	struct expand_ctx ex;
	int rc = 0;
	const struct {
		const char *name;
		const struct keydef *keys;
		size_t n;
		struct http_server_conf *dst;
	} servers[] = {
	    {"unix_http_server", unix_server_keys, ARRAY_SIZE(unix_server_keys), &c->unix_server},
	    {"inet_http_server", inet_server_keys, ARRAY_SIZE(inet_server_keys), &c->inet_server},
	};
	base_expansions(L, &ex);
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++) {
		const struct ini_section *sec = ini_find_section(&L->doc, servers[i].name);
		if (!sec)
			continue;
		servers[i].dst->enabled = true;
		if (load_table(L, servers[i].keys, servers[i].n, sec, servers[i].name, &ex, NULL,
			       servers[i].dst) < 0)
			rc = -1;
	}
	const struct ini_section *ctl = ini_find_section(&L->doc, "supervisorctl");
	c->has_ctl_section = ctl != NULL;
	if (load_table(L, ctl_keys, ARRAY_SIZE(ctl_keys), ctl, "supervisorctl", &ex, NULL,
		       &c->ctl) < 0)
		rc = -1;
	return rc;
}

struct config *config_load(const char *path, const struct config_overrides *ov, struct diag *d)
{
	struct loader L = {.d = d};
	struct config *c = xcalloc(1, sizeof(*c));
	int errors_before = d->errors;

	L.c = c;
	c->path = xstrdup(path);
	c->here = dir_of(path);
	if (gethostname(L.hostname, sizeof(L.hostname) - 1) < 0)
		snprintf(L.hostname, sizeof(L.hostname), "localhost");
	for (char **e = environ; e && *e; e++)
		sv_push(&L.env, xstrdup(*e));

	if (ini_load(&L.doc, path, d) < 0)
		goto fail;
	if (load_includes(&L) < 0)
		goto fail;
	check_sections(&L);
	if (load_supervisord(&L, ov) < 0)
		goto fail;
	load_servers(&L);
	load_groups(&L);
	if (d->errors > errors_before)
		goto fail;
	ini_free(&L.doc);
	sv_free(&L.env);
	return c;
fail:
	ini_free(&L.doc);
	sv_free(&L.env);
	config_free(c);
	return NULL;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ngroups; i++)
		group_conf_unref(c->groups[i]);
	free(c->groups);
	free_strings_in(supervisord_keys, ARRAY_SIZE(supervisord_keys), &c->sd);
	free_strings_in(unix_server_keys, ARRAY_SIZE(unix_server_keys), &c->unix_server);
	free_strings_in(inet_server_keys, ARRAY_SIZE(inet_server_keys), &c->inet_server);
	free_strings_in(ctl_keys, ARRAY_SIZE(ctl_keys), &c->ctl);
	free(c->path);
	free(c->here);
	free(c);
}

const char *config_key_name(const char *section, size_t i)
{
	const struct section_def *def = section_kind(section);
	return def && def->keys && i < def->nkeys ? def->keys[i].name : NULL;
}

const char *config_suggest(const char *word, const char *const *cands, size_t n)
{
	return suggest(word, cands, n);
}

struct group_conf *config_find_group(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i]->name, name) == 0)
			return c->groups[i];
	return NULL;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool sv_same(const struct strvec *a, const struct strvec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

bool proc_conf_equal(const struct proc_conf *a, const struct proc_conf *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(program_keys); i++) {
		const struct keydef *k = &program_keys[i];
		if (k->off == NOFF)
			continue;
		const void *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
		switch (k->type) {
		case K_STR:
		case K_STR_NULL:
		case K_LOGFILE:
		case K_USER:
			if (!str_same(*(char *const *)pa, *(char *const *)pb))
				return false;
			break;
		case K_ENV:
			if (!sv_same(pa, pb))
				return false;
			break;
		case K_BOOL:
			if (*(const bool *)pa != *(const bool *)pb)
				return false;
			break;
		case K_INT:
		case K_SIZE:
			if (*(const long long *)pa != *(const long long *)pb)
				return false;
			break;
		case K_SIGNAL:
		case K_OCTAL:
		case K_UMASK:
		case K_LOGLEVEL:
		case K_LOGFORMAT:
			if (*(const int *)pa != *(const int *)pb)
				return false;
			break;
		case K_AUTORESTART:
			if (*(const enum autorestart *)pa != *(const enum autorestart *)pb)
				return false;
			break;
		case K_EXITCODES:
			if (memcmp(pa, pb, sizeof(struct exitcodes)) != 0)
				return false;
			break;
		case K_SIGSET:
			if (*(const uint64_t *)pa != *(const uint64_t *)pb)
				return false;
			break;
		case K_IGNORED:
			break;
		}
	}
	return a->process_num == b->process_num && str_same(a->group, b->group);
}

bool group_conf_equal(const struct group_conf *a, const struct group_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || a->priority != b->priority || a->nprocs != b->nprocs)
		return false;
	for (size_t i = 0; i < a->nprocs; i++)
		if (!proc_conf_equal(a->procs[i], b->procs[i]))
			return false;
	return true;
}

static const char *const loglevels[] = {"critical", "error", "warn",   "info",
					"debug",    "trace", "blather"};

const char *loglevel_name(int level)
{
	return level >= 0 && level < (int)ARRAY_SIZE(loglevels) ? loglevels[level] : "info";
}

int loglevel_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(loglevels); i++)
		if (str_eq_nocase(s, loglevels[i]))
			return (int)i;
	if (str_eq_nocase(s, "warning"))
		return LOG_LEVEL_WARN;
	if (str_eq_nocase(s, "crit"))
		return LOG_LEVEL_CRIT;
	return -1;
}

char *config_search(const char *argv0)
{
	char exe[PATH_MAX];
	const char *a0 = argv0;
	/* H = dirname(dirname(argv[0])), as supervisord computes it from sys.argv[0] */
	if (!strchr(argv0, '/')) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			a0 = exe;
		}
	}
	char *d1 = dir_of(a0);
	char *h = dir_of(d1);
	char *cands[] = {
	    xasprintf("%s/etc/supervisord.conf", h),
	    xasprintf("%s/supervisord.conf", h),
	    xstrdup("supervisord.conf"),
	    xstrdup("etc/supervisord.conf"),
	    xstrdup("/etc/supervisord.conf"),
	    xstrdup("/etc/supervisor/supervisord.conf"),
	};
	char *found = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!found && access(cands[i], R_OK) == 0)
			found = xstrdup(cands[i]);
		free(cands[i]);
	}
	free(d1);
	free(h);
	return found;
}
