/*
 * What each key type parses into, and how such a value is freed and compared: one row per type,
 * so loading, freeing and the reload comparison never switch over types.
 */
#include "keytypes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config.h"
#include "depends.h"
#include "eventtypes.h"
#include "inifile.h"
#include "loader.h"
#include "net.h"
#include "passwd.h"
#include "signals.h"
#include "util.h"

static int bad(char **why, const char *fmt, const char *v)
{
	*why = xasprintf(fmt, v);
	return -1;
}

static int parse_str(const struct keydef *k, const char *v, void *dst, char **why)
{
	*(char **)dst = xstrdup(v);
	return 0;
}

static int parse_str_null(const struct keydef *k, const char *v, void *dst, char **why)
{
	*(char **)dst = *v ? xstrdup(v) : NULL;
	return 0;
}

static int parse_bool_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	return parse_bool(v, dst) == 0 ? 0 : bad(why, "'%s' is not a boolean (true/false)", v);
}

static int parse_int_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (parse_int(v, k->min, k->max, dst) == 0)
		return 0;
	*why = xasprintf("'%s' is not an integer from %lld to %lld", v, k->min, k->max);
	return -1;
}

static int parse_size_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (parse_size(v, dst) == 0)
		return 0;
	return bad(why, "'%s' is not a size (a number, optionally followed by KB, MB or GB)", v);
}

static int parse_signal_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	return parse_signal(v, dst) == 0 ? 0 : bad(why, "'%s' is not a signal name or number", v);
}

static int parse_octal_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	return parse_octal(v, dst) == 0 ? 0 : bad(why, "'%s' is not an octal number", v);
}

static int parse_umask(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (*v)
		return parse_octal_key(k, v, dst, why);
	*(int *)dst = -1;
	return 0;
}

static int parse_exitcodes_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (parse_exitcodes(v, dst) == 0)
		return 0;
	return bad(why, "'%s' is not a comma-separated list of exit codes (0-255)", v);
}

static int parse_autorestart(const struct keydef *k, const char *v, void *dst, char **why)
{
	bool b;
	if (str_eq_nocase(v, "unexpected")) {
		*(enum autorestart *)dst = AUTORESTART_UNEXPECTED;
		return 0;
	}
	if (parse_bool(v, &b) == 0) {
		*(enum autorestart *)dst = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
		return 0;
	}
	return bad(why, "'%s' is not one of true, false, unexpected", v);
}

static int parse_logfile(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const words[] = {"AUTO", "syslog"};
	if (!*v || str_eq_nocase(v, "NONE") || str_eq_nocase(v, "OFF")) {
		*(char **)dst = NULL;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (str_eq_nocase(v, words[i])) {
			*(char **)dst = xstrdup(words[i]);
			return 0;
		}
	char *dir = path_dir(v);
	struct stat st;
	bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	free(dir);
	if (!ok)
		return bad(why, "the directory of '%s' does not exist", v);
	*(char **)dst = xstrdup(v);
	return 0;
}

static int parse_env(const struct keydef *k, const char *v, void *dst, char **why)
{
	return parse_environment(v, dst, why);
}

static int parse_loglevel(const struct keydef *k, const char *v, void *dst, char **why)
{
	int lvl = loglevel_parse(v);
	if (lvl >= 0) {
		*(int *)dst = lvl;
		return 0;
	}
	return bad(
	    why, "'%s' is not a log level (critical, error, warn, info, debug, trace, blather)", v);
}

static int parse_user(const struct keydef *k, const char *v, void *dst, char **why)
{
	struct user_info ui;
	if (*v && user_lookup(v, &ui) < 0)
		return bad(why, "no such user '%s' in /etc/passwd", v);
	*(char **)dst = *v ? xstrdup(v) : NULL;
	return 0;
}

static int parse_sigset(const struct keydef *k, const char *v, void *dst, char **why)
{
	char *copy = xstrdup(v), *save = NULL;
	uint64_t set = 0;
	int rc = 0;
	for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ", \t", &save)) {
		int sig = signal_parse(tok);
		if (sig <= 0 || sig >= 64)
			rc = bad(why, "'%s' is not a signal name or number", tok);
		else
			set |= 1ULL << sig;
	}
	free(copy);
	if (rc == 0)
		*(uint64_t *)dst = set;
	return rc;
}

/* v's index in names, case-insensitive; -1 when none */
static int name_index(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (str_eq_nocase(v, names[i]))
			return (int)i;
	return -1;
}

static int parse_log_format(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const names[] = {"plain", "prefix", "json"};
	int i = name_index(v, names, ARRAY_SIZE(names));
	if (i >= 0) {
		*(int *)dst = (int)i;
		return 0;
	}
	return bad(why, "'%s' is not one of plain, prefix, json", v);
}

/* An env file that is missing or malformed is a config error: a program must not start with
 * half its settings. */
static int parse_envfiles(const struct keydef *k, const char *v, void *dst, char **why)
{
	struct strvec *out = dst;
	char *copy = xstrdup(v), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *path = str_strip(tok);
		if (!*path)
			continue;
		struct buf text = {0};
		int line = 0;
		char *err = NULL;
		bool not_opened;
		const char *refused = ini_read_file(path, &text, &not_opened);
		if (refused)
			rc = (*why = xasprintf("cannot read %s: %s", path, refused), -1);
		else if (parse_envfile(text.data ? text.data : "", text.len, out, &line, &err) < 0)
			rc = (*why = xasprintf("%s:%d: %s", path, line, err), -1);
		free(err);
		buf_free(&text);
	}
	free(copy);
	return rc;
}

static int parse_shutdown_on(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const names[] = {"never", "fatal", "unexpected", "exit"};
	int i = name_index(v, names, ARRAY_SIZE(names));
	if (i >= 0) {
		*(enum shutdown_on *)dst = (enum shutdown_on)i;
		return 0;
	}
	return bad(why, "'%s' is not one of never, fatal, unexpected, exit", v);
}

static bool str_equal(const void *a, const void *b);

static int parse_on_unhealthy(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const names[] = {"none", "restart", "shutdown"};
	int i = name_index(v, names, ARRAY_SIZE(names));
	if (i >= 0) {
		*(enum on_unhealthy *)dst = (enum on_unhealthy)i;
		return 0;
	}
	return bad(why, "'%s' is not one of none, restart, shutdown", v);
}

/* Seconds as Docker writes them: a number (seconds), or with ms, s, m or h. */
static int parse_duration(const struct keydef *k, const char *v, void *dst, char **why)
{
	char *end;
	double n = strtod(v, &end);
	double scale = !*end || !strcmp(end, "s") ? 1
		       : !strcmp(end, "ms")	  ? 0.001
		       : !strcmp(end, "m")	  ? 60
		       : !strcmp(end, "h")	  ? 3600
						  : -1;
	double ms = n * scale * 1000;
	if (end == v || scale < 0 || !(ms >= (double)k->min && ms <= (double)k->max)) {
		*why = xasprintf("'%s' is not a duration from %gs to %gs (a number of seconds, or "
				 "with ms, s, m or h)",
				 v, (double)k->min / 1000, (double)k->max / 1000);
		return -1;
	}
	*(double *)dst = n * scale;
	return 0;
}

/* A number of CPUs as Docker's --cpus takes it (0.5, 2), or a percentage of one (50%), in
 * thousandths; 0 is no limit. Plain decimals only: no sign, exponent, hex or inf. */
static int parse_cpus(const struct keydef *k, const char *v, void *dst, char **why)
{
	size_t digits = strspn(v, "0123456789."), len = strlen(v);
	bool percent = len > 0 && v[len - 1] == '%';
	const char *dot = strchr(v, '.');
	char *end;
	double n = strtod(v, &end);
	double milli = n * (percent ? 10 : 1000);
	if (digits == 0 || digits != len - percent || (dot && strchr(dot + 1, '.')) ||
	    end != v + digits ||
	    !(milli == 0 || (milli >= (double)k->min - 1e-6 && milli <= (double)k->max + 1e-6))) {
		*why =
		    xasprintf("'%s' is not a number of CPUs from %g to %g (such as 0.5 or 2, or a "
			      "percentage of one CPU such as 50%%; 0: no limit)",
			      v, (double)k->min / 1000, (double)k->max / 1000);
		return -1;
	}
	*(long long *)dst = (long long)(milli + 0.5);
	return 0;
}

static int parse_schedule(const struct keydef *k, const char *v, void *dst, char **why)
{
	const char *phrase;
	if (schedule_parse(v, dst, &phrase) < 0) {
		*why = xasprintf("'%s' %s", v, phrase);
		return -1;
	}
	return 0;
}

static int parse_overlap(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const names[] = {"skip", "queue", "kill"};
	int i = name_index(v, names, ARRAY_SIZE(names));
	if (i >= 0) {
		*(enum sched_overlap *)dst = (enum sched_overlap)i;
		return 0;
	}
	return bad(why, "'%s' is not one of skip, queue, kill", v);
}

static int parse_timezone(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (*v && schedule_zone_check(v) < 0)
		return bad(why,
			   "'%s' is not a time zone in /usr/share/zoneinfo (an IANA name such as "
			   "Europe/Paris)",
			   v);
	*(char **)dst = *v ? xstrdup(v) : NULL;
	return 0;
}

static int parse_missed(const struct keydef *k, const char *v, void *dst, char **why)
{
	static const char *const names[] = {"skip", "run_once"};
	int i = name_index(v, names, ARRAY_SIZE(names));
	if (i >= 0) {
		*(enum sched_missed *)dst = (enum sched_missed)i;
		return 0;
	}
	return bad(why, "'%s' is not one of skip, run_once", v);
}

static int health_address(struct health_spec *h, const char *host, const char *port, char **why)
{
	const char *err;
	/* a name is not looked up here: a resolver that never answers would hold the load */
	int rc = net_literal(host, port, false, &h->addr, &h->addrlen, &err);
	if (rc == 1) {
		h->name = xstrdup(host);
		h->port = xstrdup(port);
	}
	if (rc >= 0)
		return 0;
	*why = xasprintf("'%s': %s:%s: %s", h->text, host, port, err);
	return -1;
}

/* "host:port" with an optional [v6] host; port defaults to dflt (NULL: required). */
static int split_hostport(const char *s, size_t n, char *host, size_t hn, char *port, size_t pn,
			  const char *dflt)
{
	const char *colon = NULL;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		colon = close + 1 < s + n && close[1] == ':' ? close + 1 : NULL;
	} else {
		for (size_t i = n; i > 0; i--)
			if (s[i - 1] == ':') {
				colon = s + i - 1;
				break;
			}
	}
	size_t hl = colon ? (size_t)(colon - s) : n;
	if (!hl || hl >= hn || (!colon && !dflt))
		return -1;
	snprintf(host, hn, "%.*s", (int)hl, s);
	snprintf(port, pn, "%.*s", colon ? (int)(s + n - colon - 1) : (int)strlen(dflt),
		 colon ? colon + 1 : dflt);
	return *port ? 0 : -1;
}

static int parse_healthcheck(const struct keydef *k, const char *v, void *dst, char **why)
{
	struct health_spec *h = dst;
	memset(h, 0, sizeof(*h));
	if (!*v)
		return 0;
	h->text = xstrdup(v);
	char host[256], port[16];
	if (!strncmp(v, "cmd:", 4)) {
		h->kind = HEALTH_CMD;
		char *err = NULL;
		if (split_command(v + 4, &h->argv, &err) < 0 || !h->argv.n) {
			*why = xasprintf("'%s': %s", v, err ? err : "no command after cmd:");
			free(err);
			return -1;
		}
		return 0;
	}
	if (!strncmp(v, "http://", 7)) {
		h->kind = HEALTH_HTTP;
		const char *hp = v + 7, *slash = strchr(hp, '/');
		size_t n = slash ? (size_t)(slash - hp) : strlen(hp);
		if (split_hostport(hp, n, host, sizeof(host), port, sizeof(port), "80") < 0)
			return bad(why, "'%s' is not http://HOST[:PORT][/PATH]", v);
		h->host = xasprintf("%.*s", (int)n, hp);
		h->path = xstrdup(slash ? slash : "/");
		return health_address(h, host, port, why);
	}
	if (!strncmp(v, "tcp:", 4)) {
		h->kind = HEALTH_TCP;
		if (split_hostport(v + 4, strlen(v + 4), host, sizeof(host), port, sizeof(port),
				   NULL) < 0)
			return bad(why, "'%s' is not tcp:HOST:PORT", v);
		return health_address(h, host, port, why);
	}
	return bad(why, "'%s' is not cmd:COMMAND, http://HOST:PORT/PATH or tcp:HOST:PORT", v);
}

static void free_health(void *p)
{
	struct health_spec *h = p;
	free(h->text);
	sv_free(&h->argv);
	free(h->host);
	free(h->path);
	free(h->name);
	free(h->port);
	memset(h, 0, sizeof(*h));
}

static bool health_equal(const void *a, const void *b)
{
	const struct health_spec *x = a, *y = b;
	return str_equal(&x->text, &y->text);
}

static int parse_backoff(const struct keydef *k, const char *v, void *dst, char **why)
{
	if (str_eq_nocase(v, "linear") || str_eq_nocase(v, "exponential")) {
		*(enum restart_backoff *)dst =
		    str_eq_nocase(v, "linear") ? BACKOFF_LINEAR : BACKOFF_EXPONENTIAL;
		return 0;
	}
	return bad(why, "'%s' is not one of linear, exponential", v);
}

static int parse_depends_key(const struct keydef *k, const char *v, void *dst, char **why)
{
	return parse_depends(v, dst, why);
}

static void free_depends(void *p)
{
	dep_list_free(p);
}

static bool depends_equal(const void *a, const void *b)
{
	return dep_list_equal(a, b);
}

/* events: supervisord upper-cases the names and refuses an unknown one or an empty list */
static int parse_events(const struct keydef *k, const char *v, void *dst, char **why)
{
	char *copy = xstrdup(v), *save = NULL;
	event_mask mask = 0;
	int rc = 0;
	for (char *tok = strtok_r(copy, ", \t\n", &save); tok && rc == 0;
	     tok = strtok_r(NULL, ", \t\n", &save)) {
		int t = event_type_by_name(tok);
		if (t < 0)
			rc = bad(why, "unknown event type '%s' (see supervisord's event types)",
				 tok);
		else
			mask |= (event_mask)1 << t;
	}
	free(copy);
	if (rc == 0 && mask == 0)
		return bad(why, "%sneeds at least one event type", "");
	if (rc == 0)
		*(event_mask *)dst = mask;
	return rc;
}

/* socket: unix:///absolute/path (the path normalised) or tcp://host:port, host resolved now */
static int parse_fcgi_socket(const struct keydef *k, const char *v, void *dst, char **why)
{
	struct fcgi_socket *s = dst;
	memset(s, 0, sizeof(*s));
	if (strncmp(v, "unix://", 7) == 0) {
		const char *path = v + 7;
		if (path[0] != '/')
			return bad(why, "unix socket path '%s' is not an absolute path", path);
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return bad(why, "unix socket path '%s' is too long", path);
		s->is_unix = true;
		s->path = xstrdup(path);
	} else if (strncmp(v, "tcp://", 6) == 0) {
		const char *hp = v + 6, *colon = strchr(hp, ':');
		const char *err = NULL;
		if (!colon || colon == hp || !colon[1] ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1))
			return bad(why, "'%s' is not tcp://host:port", v);
		long port = strtol(colon + 1, NULL, 10);
		if (port < 1 || port > 65535)
			return bad(why, "port in '%s' is not 1-65535", v);
		char *host = xstrndup(hp, (size_t)(colon - hp));
		int rc = net_resolve(host, colon + 1, true, &s->addr, &s->addrlen, &err);
		free(host);
		if (rc < 0) {
			*why = xasprintf("cannot resolve '%s': %s", v, err);
			return -1;
		}
	} else {
		return bad(why, "'%s' is neither unix:///path nor tcp://host:port", v);
	}
	s->url = xstrdup(v);
	return 0;
}

static void free_fcgi_socket(void *p)
{
	struct fcgi_socket *s = p;
	free(s->url);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static bool fcgi_socket_equal(const void *a, const void *b)
{
	const struct fcgi_socket *x = a, *y = b;
	return str_equal(&x->url, &y->url);
}

static int parse_ready(const struct keydef *k, const char *v, void *dst, char **why)
{
	return ready_spec_parse(v, dst, why);
}

static void free_ready(void *p)
{
	ready_spec_free(p);
}

static bool ready_equal(const void *a, const void *b)
{
	return ready_spec_equal(a, b);
}

static void free_str(void *p)
{
	free(*(char **)p);
	*(char **)p = NULL;
}

static bool str_equal(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static bool strvec_equal(const void *a, const void *b)
{
	const struct strvec *x = a, *y = b;
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i], y->v[i]) != 0)
			return false;
	return true;
}

static void free_strvec(void *p)
{
	sv_free(p);
}

#define STRING	 free_str, str_equal, sizeof(char *), false
#define VALUE(t) NULL, NULL, sizeof(t), false
#define UNSET(t) NULL, NULL, sizeof(t), true

static const struct ktype_ops ktypes[K_NTYPES] = {
    [K_STR] = {parse_str, STRING},
    [K_STR_NULL] = {parse_str_null, STRING},
    [K_BOOL] = {parse_bool_key, VALUE(bool)},
    [K_INT] = {parse_int_key, VALUE(long long)},
    [K_SIZE] = {parse_size_key, VALUE(long long)},
    [K_SIGNAL] = {parse_signal_key, VALUE(int)},
    [K_OCTAL] = {parse_octal_key, VALUE(int)},
    [K_UMASK] = {parse_umask, UNSET(int)},
    [K_EXITCODES] = {parse_exitcodes_key, VALUE(struct exitcodes)},
    [K_AUTORESTART] = {parse_autorestart, VALUE(enum autorestart)},
    [K_LOGFILE] = {parse_logfile, STRING},
    [K_ENV] = {parse_env, free_strvec, strvec_equal, sizeof(struct strvec), false},
    [K_LOGLEVEL] = {parse_loglevel, VALUE(int)},
    [K_USER] = {parse_user, STRING},
    [K_SIGSET] = {parse_sigset, VALUE(uint64_t)},
    [K_LOGFORMAT] = {parse_log_format, UNSET(int)},
    [K_ENVFILES] = {parse_envfiles, free_strvec, strvec_equal, sizeof(struct strvec), false},
    [K_SHUTDOWN_ON] = {parse_shutdown_on, VALUE(enum shutdown_on)},
    [K_HEALTHCHECK] = {parse_healthcheck, free_health, health_equal, sizeof(struct health_spec),
		       false},
    [K_DURATION] = {parse_duration, VALUE(double)},
    [K_ON_UNHEALTHY] = {parse_on_unhealthy, VALUE(enum on_unhealthy)},
    [K_BACKOFF] = {parse_backoff, VALUE(enum restart_backoff)},
    [K_DEPENDS] = {parse_depends_key, free_depends, depends_equal, sizeof(struct dep_list), false},
    [K_EVENTS] = {parse_events, VALUE(event_mask)},
    [K_SCHEDULE] = {parse_schedule, VALUE(struct schedule_expr)},
    [K_OVERLAP] = {parse_overlap, VALUE(enum sched_overlap)},
    [K_TIMEZONE] = {parse_timezone, STRING},
    [K_MISSED] = {parse_missed, VALUE(enum sched_missed)},
    [K_FCGI_SOCKET] = {parse_fcgi_socket, free_fcgi_socket, fcgi_socket_equal,
		       sizeof(struct fcgi_socket), false},
    [K_READY] = {parse_ready, free_ready, ready_equal, sizeof(struct ready_spec), false},
    [K_CPUS] = {parse_cpus, VALUE(long long)},
};

const struct ktype_ops *ktype_ops(enum ktype t)
{
	return &ktypes[t];
}

void keys_free(const struct section_def *def, void *base)
{
	for (size_t i = 0; i < section_nkeys(def); i++) {
		const struct keydef *k = section_key(def, i);
		if (ktypes[k->type].free)
			ktypes[k->type].free((char *)base + k->off);
	}
}

bool keys_equal(const struct section_def *def, const void *a, const void *b)
{
	for (size_t i = 0; i < section_nkeys(def); i++) {
		const struct keydef *k = section_key(def, i);
		const struct ktype_ops *t = &ktypes[k->type];
		const void *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
		if (t->equal ? !t->equal(pa, pb) : memcmp(pa, pb, t->size) != 0)
			return false;
	}
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
