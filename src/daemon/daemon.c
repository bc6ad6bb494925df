#include "daemon.h"
#include "deps.h"
#include "failfast.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "events.h"
#include "mainlog.h"
#include "passwd.h"
#include "process.h"
#include "schedule.h"
#include "stdout_sink.h"
#include "supervisor.h"

extern char **environ;

/* prog looked up as a start would (c's environment gives PATH): the spawn check's stat, from the
 * supervisor's working directory or in PATH; from dir when dir is set, as exec sees it after
 * the child's chdir. An error names the path; NULL when it is there and executable. */
static char *find_as_spawned(const struct proc_conf *c, const char *prog, const char *dir)
{
	struct proc_conf at = *c;
	char *joined = dir ? xasprintf("%s/%s", dir, prog) : xstrdup(prog);
	char *v[] = {joined, NULL};
	char *err = NULL;
	at.argv = (struct strvec){v, 1, 1};
	free(process_find_command(&at, environ, &err));
	free(joined);
	return err;
}

/* --check-config: every program's command and healthcheck command must be there and
 * executable, as spawning will need (image builds run this last, so a missing package fails
 * the build). A relative command with a '/' is run from the program's directory (the child
 * chdirs before exec), but supervisord and pidvisor first look it up from their own working
 * directory, where it must be too. */
static void check_commands(const struct config *cfg, struct diag *d)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t i = 0; i < cfg->groups[g]->nprocs; i++) {
			const struct proc_conf *c = cfg->groups[g]->procs[i];
			const char *prog = c->argv.v[0];
			bool from_dir = c->directory && prog[0] != '/' && strchr(prog, '/');
			char *err = find_as_spawned(c, prog, from_dir ? c->directory : NULL);
			if (err)
				diag_add(d, DIAG_ERROR, c->file, c->line, c->section, "command",
					 "%s", err);
			else if (from_dir && access(prog, F_OK) < 0)
				diag_add(d, DIAG_WARNING, c->file, c->line, c->section, "command",
					 "'%s' is run from directory %s, but a start looks it up "
					 "from the supervisor's working directory first (here %s, "
					 "where it is missing: \"can't find command\"); make it "
					 "absolute",
					 prog, c->directory, cwd);
			free(err);
			if (c->health.kind != HEALTH_CMD)
				continue;
			/* the check runs from the supervisor's directory, with its PATH */
			struct proc_conf bare = {0};
			err = find_as_spawned(&bare, c->health.argv.v[0], NULL);
			if (err)
				diag_add(d, DIAG_ERROR, c->file, c->line, c->section, "healthcheck",
					 "%s", err);
			free(err);
		}
}

/* --check-config: a program's user= that this pidvisor cannot switch to (a non-root user, or
 * root without CAP_SETUID) fails every spawn of it; a warning, as the image may run as root. */
static void check_users(const struct config *cfg, struct diag *d)
{
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t i = 0; i < cfg->groups[g]->nprocs; i++) {
			const struct proc_conf *c = cfg->groups[g]->procs[i];
			struct user_info ui;
			char why[128];
			if (!c->user || user_lookup(c->user, &ui) < 0 ||
			    !user_switch_refused(&ui, why, sizeof(why)))
				continue;
			diag_add(d, DIAG_WARNING, c->file, c->line, c->section, "user",
				 "'%s' (uid %u) cannot be honoured: %s; the program will not start",
				 c->user, (unsigned)ui.uid, why);
		}
}

/* Why who cannot create a file in path's directory, or NULL when it can. who is NULL for the
 * checking user itself (root passes the permission bits, not a read-only mount). */
static const char *dir_refuses(const char *path, const struct user_info *who, char *dir,
			       size_t dirsize)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, dirsize, ".");
	else
		snprintf(dir, dirsize, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	struct stat st;
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? "does not exist" : strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "is not a directory";
	struct statvfs vfs;
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		return "is on a read-only file system";
	if (!who)
		return access(dir, W_OK | X_OK) == 0 ? NULL : "is not writable";
	if (who->uid == 0)
		return NULL;
	mode_t bits = S_IWOTH | S_IXOTH;
	if (st.st_uid == who->uid) {
		bits = S_IWUSR | S_IXUSR;
	} else {
		for (size_t i = 0; i < who->ngroups; i++)
			if (who->groups[i] == st.st_gid)
				bits = S_IWGRP | S_IXGRP;
		if (who->gid == st.st_gid)
			bits = S_IWGRP | S_IXGRP;
	}
	return (st.st_mode & bits) == bits ? NULL : "is not writable by the user";
}

/* --check-config: the files pidvisor creates at start-up must be creatable there, or start-up
 * fails (exit 2) where the image runs. The socket and the pidfile are made after the switch
 * to [supervisord] user; the main log before it. */
static void check_paths(const struct config *cfg, struct diag *d)
{
	struct user_info ui, *as = NULL;
	if (cfg->sd.user && user_lookup(cfg->sd.user, &ui) == 0)
		as = &ui;
	const struct {
		const char *section, *key, *path;
		bool as_user;
		enum diag_level level; /* a pidfile not written is logged, and start-up goes on */
	} paths[] = {
	    {"unix_http_server", "file", cfg->unix_server.enabled ? cfg->unix_server.file : NULL,
	     true, DIAG_ERROR},
	    {"supervisord", "pidfile", cfg->sd.pidfile, true, DIAG_WARNING},
	    {"supervisord", "logfile", cfg->sd.logfile, false, DIAG_ERROR},
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *path = paths[i].path;
		if (!path || !strcmp(path, "syslog") || !strncmp(path, "/dev/", 5))
			continue;
		char dir[PATH_MAX];
		const char *why = dir_refuses(path, paths[i].as_user ? as : NULL, dir, sizeof(dir));
		if (!why)
			continue;
		if (paths[i].as_user && as)
			diag_add(d, paths[i].level, cfg->path, 0, paths[i].section, paths[i].key,
				 "'%s': its directory %s %s %s", path, dir, why, as->name);
		else
			diag_add(d, paths[i].level, cfg->path, 0, paths[i].section, paths[i].key,
				 "'%s': its directory %s %s", path, dir, why);
	}
}

struct daemon_opts {
	const char *config;
	bool check_config;
	struct config_overrides ov;
	const char *prog;
};

enum opt_kind {
	OPT_CONFIG, /* -c: the config file */
	OPT_SET,    /* sets its [supervisord] key to the argument */
	OPT_FLAG,   /* sets its [supervisord] key to true */
	OPT_HELP,
	OPT_VERSION,
	OPT_CHECK,  /* --check-config */
	OPT_IGNORE, /* accepted for compatibility */
};

/* supervisord's options, then pidvisor's: the one source of --help, getopt_long's tables and
 * the [supervisord] overrides. A help text's '\n' continues under the text. supervisord's
 * lines are its own, spacing included (-k's two spaces, --minprocs' "NUM "), so that its
 * usage reads the same; only --profile_options says what pidvisor does with it. */
static const struct daemon_option {
	char letter; /* 0: long only */
	const char *name;
	const char *arg; /* the argument's name in --help; NULL: takes none */
	enum opt_kind kind;
	const char *key; /* OPT_SET and OPT_FLAG */
	const char *help;
	bool pidvisor; /* listed under "pidvisor additions" */
} options[] = {
    {'c', "configuration", "FILENAME", OPT_CONFIG, NULL,
     "configuration file path (searches if not given)", false},
    {'n', "nodaemon", NULL, OPT_FLAG, "nodaemon",
     "run in the foreground (same as 'nodaemon=true' in config file)", false},
    {'s', "silent", NULL, OPT_FLAG, "silent",
     "no logs to stdout (maps to 'silent=true' in config file)", false},
    {'h', "help", NULL, OPT_HELP, NULL, "print this usage message and exit", false},
    {'v', "version", NULL, OPT_VERSION, NULL, "print supervisord version number and exit", false},
    {'u', "user", "USER", OPT_SET, "user", "run supervisord as this user (or numeric uid)", false},
    {'m', "umask", "UMASK", OPT_SET, "umask",
     "use this umask for daemon subprocess (default is 022)", false},
    {'d', "directory", "DIRECTORY", OPT_SET, "directory", "directory to chdir to when daemonized",
     false},
    {'l', "logfile", "FILENAME", OPT_SET, "logfile", "use FILENAME as logfile path", false},
    {'y', "logfile_maxbytes", "BYTES", OPT_SET, "logfile_maxbytes",
     "use BYTES to limit the max size of logfile", false},
    {'z', "logfile_backups", "NUM", OPT_SET, "logfile_backups",
     "number of backups to keep when max bytes reached", false},
    {'e', "loglevel", "LEVEL", OPT_SET, "loglevel",
     "use LEVEL as log level (debug,info,warn,error,critical)", false},
    {'j', "pidfile", "FILENAME", OPT_SET, "pidfile",
     "write a pid file for the daemon process to FILENAME", false},
    {'i', "identifier", "STR", OPT_SET, "identifier",
     "identifier used for this instance of supervisord", false},
    {'q', "childlogdir", "DIRECTORY", OPT_SET, "childlogdir",
     "the log directory for child process logs", false},
    {'k', "nocleanup", NULL, OPT_FLAG, "nocleanup",
     " prevent the process from performing cleanup (removal of\n old automatic child log "
     "files) at startup.",
     false},
    {'a', "minfds", "NUM", OPT_SET, "minfds",
     "the minimum number of file descriptors for start success", false},
    {'t', "strip_ansi", NULL, OPT_FLAG, "strip_ansi", "strip ansi escape codes from process output",
     false},
    {0, "minprocs", "NUM ", OPT_SET, "minprocs",
     "the minimum number of processes available for start success", false},
    {0, "profile_options", "OPTIONS", OPT_IGNORE, NULL, "accepted for compatibility; ignored",
     false},
    {0, "check-config", NULL, OPT_CHECK, NULL,
     "read the configuration strictly (unknown keys and sections\nare problems too, and "
     "commands that cannot be found or run),\nprint every problem, start nothing; exit 0 when "
     "clean,\n1 on warnings only, 2 on errors",
     true},
};

/* getopt_long's value for an option: its letter, or past every char for long-only ones. */
#define LONG_ONLY 256

static int option_val(size_t i)
{
	return options[i].letter ? options[i].letter : LONG_ONLY + (int)i;
}

static void print_options(FILE *f, bool pidvisor)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct daemon_option *o = &options[i];
		if (o->pidvisor != pidvisor)
			continue;
		int w = o->letter ? fprintf(f, "-%c/", o->letter) : 0;
		w += fprintf(f, "--%s%s%s -- ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		for (const char *h = o->help, *nl; h; h = nl ? nl + 1 : NULL) {
			nl = strchr(h, '\n');
			fprintf(f, "%*s%.*s\n", h == o->help ? 0 : w, "",
				(int)(nl ? nl - h : (ptrdiff_t)strlen(h)), h);
		}
	}
}

void daemon_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"supervisord -- run a set of applications as daemons.\n"
		"\n"
		"Usage: %s [options]\n"
		"\n"
		"Options:\n",
		prog);
	print_options(f, false);
	fprintf(f, "\npidvisor %s additions:\n", PIDVISOR_VERSION);
	print_options(f, true);
	fprintf(f,
		"\npidvisor also answers as 'pidvisor ctl ...' (or 'supervisorctl') and\n"
		"'pidvisor check' (a health probe). As PID 1 it always stays in the foreground.\n"
		"'pidvisor [-g] [-v] [-t SECONDS] -- CMD [ARGS]' runs one program with no config\n"
		"(as tini does); invoked as 'tini' or 'dumb-init' it takes their command lines.\n");
}

static int usage_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "Error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nFor help, use %s -h\n", prog);
	return 2;
}

/* getopt_long's short option string (with a leading ':' and '?' for help, as supervisord takes
 * -?) and long options, from the table. */
static void build_getopt(char *shortopts, struct option *longopts)
{
	char *p = shortopts;
	*p++ = ':';
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		if (options[i].letter) {
			*p++ = options[i].letter;
			if (options[i].arg)
				*p++ = ':';
		}
		longopts[i] = (struct option){options[i].name,
					      options[i].arg ? required_argument : no_argument,
					      NULL, option_val(i)};
	}
	*p++ = '?';
	*p = '\0';
	longopts[ARRAY_SIZE(options)] = (struct option){0};
}

static const struct daemon_option *option_of(int val)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (option_val(i) == val)
			return &options[i];
	return NULL;
}

static int parse_args(struct daemon_opts *o, int argc, char **argv)
{
	char shortopts[2 * ARRAY_SIZE(options) + 3];
	struct option longopts[ARRAY_SIZE(options) + 1];
	int c;

	build_getopt(shortopts, longopts);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct daemon_option *opt = option_of(c);
		/* supervisord's -? is its -h; glibc reports it with optopt '?' or 0 */
		if (c == '?' && (optopt == '?' ||
				 (optopt == 0 && optind > 1 && !strcmp(argv[optind - 1], "-?")))) {
			daemon_usage(stdout, o->prog);
			exit(0);
		}
		if (c == '?' && optopt == 0)
			return usage_error(o->prog, "option %s not recognized", argv[optind - 1]);
		if (c == '?') {
			char bad[3] = {'-', (char)optopt, 0};
			return usage_error(o->prog, "option %s not recognized", bad);
		}
		if (c == ':')
			return usage_error(o->prog, "option %s requires argument",
					   argv[optind - 1]);
		if (!opt)
			continue;
		switch (opt->kind) {
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_SET:
			config_override(&o->ov, opt->key, optarg);
			break;
		case OPT_FLAG:
			config_override(&o->ov, opt->key, "true");
			break;
		case OPT_HELP:
			daemon_usage(stdout, o->prog);
			exit(0);
		case OPT_VERSION:
			puts(SUPERVISOR_VERSION);
			exit(0);
		case OPT_CHECK:
			o->check_config = true;
			break;
		case OPT_IGNORE:
			break;
		}
	}
	if (optind < argc)
		return usage_error(o->prog, "positional arguments are not supported: %s",
				   argv[optind]);
	return 0;
}

static int raise_limit(int resource, long long want, const char *what, const char *key)
{
	struct rlimit rl;
	if (want <= 0 || getrlimit(resource, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && (long long)rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	rl.rlim_cur = (rlim_t)want;
	if (rl.rlim_max != RLIM_INFINITY && (long long)rl.rlim_max < want)
		rl.rlim_max = (rlim_t)want;
	if (setrlimit(resource, &rl) == 0)
		return 0;
	fprintf(stderr,
		"Error: The minimum number of %s required to run this process is %lld as per the "
		"\"%s\" command-line argument or config file setting. The current environment will "
		"not allow it (%s).\n",
		what, want, key, strerror(errno));
	return -1;
}

static int daemonize(const struct supervisord_conf *sd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if (sd->directory && chdir(sd->directory) < 0) {
		fprintf(stderr, "Error: can't chdir to %s: %s\n", sd->directory, strerror(errno));
		return -1;
	}
	umask((mode_t)sd->umask);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static int drop_privileges(const char *user)
{
	struct user_info ui;
	if (user_lookup(user, &ui) < 0) {
		log_crit("no such user %s", user);
		return -1;
	}
	if (geteuid() == ui.uid)
		return 0;
	if (geteuid() != 0) {
		log_crit("can't drop privilege as nonroot user");
		return -1;
	}
	char why[128];
	if (user_switch_refused(&ui, why, sizeof(why))) {
		log_crit("cannot switch to user %s: %s", user, why);
		return -1;
	}
	if (setgroups(ui.ngroups, ui.groups) < 0 || setgid(ui.gid) < 0 || setuid(ui.uid) < 0) {
		log_crit("cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

static void write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		log_crit("could not write pidfile %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

/* supervisord's lines for each control server, inet first: pidvisor always has the one RPC
 * interface. */
static void log_servers(const struct config *cfg)
{
	const struct http_server_conf *servers[] = {&cfg->inet_server, &cfg->unix_server};
	const char *sections[] = {"inet_http_server", "unix_http_server"};
	for (size_t i = 0; i < ARRAY_SIZE(servers); i++) {
		if (!servers[i]->enabled)
			continue;
		log_info("RPC interface 'supervisor' initialized");
		if (!servers[i]->username)
			log_crit("Server '%s' running without any HTTP authentication checking",
				 sections[i]);
	}
}

/* What follows a program's state or health: fail-fast, then the programs waiting on it. */
static void state_changed(void *ctx, struct process *p, enum proc_state from, bool expected,
			  pid_t pid)
{
	struct supervisor *sv = ctx;
	(void)expected;
	(void)pid;
	failfast_state_changed(sv, p, from);
	deps_changed(sv, p);
}

static void health_changed(struct process *p, enum health_status from)
{
	failfast_health_changed(p, from);
	deps_changed(p->sv, p);
}

/* started with 0, 1 or 2 closed: fill them, or the next socket or pipe opened would take that
 * number and receive what is written to stdout or stderr */
static void fill_std_fds(void)
{
	int null_fd;
	while ((null_fd = open("/dev/null", O_RDWR)) >= 0 && null_fd <= 2)
		;
	if (null_fd > 2)
		close(null_fd);
}

/* -c, or the first of supervisord's default paths that exists (*found, malloc'd). */
static int find_config(struct daemon_opts *o, const char *argv0, char **found)
{
	if (o->config)
		return 0;
	*found = config_search(argv0);
	if (!*found) {
		fprintf(stderr,
			"Error: No config file found at default paths (/etc/supervisord.conf, "
			"/etc/supervisor/supervisord.conf, ./supervisord.conf, "
			"./etc/supervisord.conf); use the -c option to specify a config file at a "
			"different path\nFor help, use %s -h\n",
			o->prog);
		return 2;
	}
	o->config = *found;
	return 0;
}

/* --check-config: 0 clean, 1 warnings, 2 errors. */
static int check_only(const struct daemon_opts *o, struct config *cfg, struct diag *d)
{
	if (cfg) {
		check_commands(cfg, d);
		check_users(cfg, d);
		check_paths(cfg, d);
		schedule_check(cfg, d);
	}
	diag_print(d, stdout);
	int status = d->errors ? 2 : d->warnings ? 1 : 0;
	if (!status)
		printf("%s: OK\n", o->config);
	return status;
}

/* Everything between a good config and the loop: limits, daemonizing, the main log and the
 * user. 0, or the exit status. */
static int prepare(struct config *cfg, bool *daemonized)
{
	if (raise_limit(RLIMIT_NOFILE, cfg->sd.minfds, "file descriptors", "minfds") < 0 ||
	    raise_limit(RLIMIT_NPROC, cfg->sd.minprocs, "available processes", "minprocs") < 0)
		return 2;
	bool pid1 = getpid() == 1;
	*daemonized = !cfg->sd.nodaemon && !pid1;
	if (*daemonized && daemonize(&cfg->sd) < 0)
		return 2;
	char *err = NULL;
	if (log_open(&cfg->sd, (cfg->sd.nodaemon || pid1) && !cfg->sd.silent, &err) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		free(err);
		return 2;
	}
	if (cfg->sd.user && drop_privileges(cfg->sd.user) < 0)
		return 2;
	if (cfg->sd.user)
		log_info("Set uid to user %d succeeded", (int)getuid());
	else if (getuid() == 0)
		log_crit("Supervisor is running as root.  Privileges were not dropped because no "
			 "user is specified in the config file.  If you intend to run as root, you "
			 "can set user=root in the config file to avoid this message.");
	return 0;
}

/* The supervisor, its event bus and its observers, the control server: then the loop until
 * shutdown. Takes cfg (the supervisor frees the one it ends with). Returns the exit status. */
static int serve(const struct daemon_opts *o, struct config *cfg, bool daemonized)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_SIGNALFD | EVFLAG_NOENV);
	if (!loop) {
		log_crit("cannot create the event loop");
		config_free(cfg);
		return EXIT_PIDVISOR_FAILED;
	}
	sink_attach(loop);
	struct supervisor sv = {.config_path = o->config, .overrides = &o->ov};
	/* observers in the order they hear a change: the event bus, then fail-fast and
	 * dependencies (then the control server's waiting requests, from control_start) */
	events_attach(&sv);
	supervisor_observe(&sv, state_changed, &sv);
	health_init(loop, health_changed);
	int status = 2;
	char *err = NULL;
	if (supervisor_init(&sv, loop, cfg) < 0)
		goto free_sv; /* out of memory at start-up: said */
	if (control_start(&sv, &err) < 0) {
		log_crit("%s", err);
		fprintf(stderr, "Error: %s\n", err);
		free(err);
		goto free_sv;
	}
	log_servers(cfg);
	if (daemonized) { /* done before the log was opened; said where supervisord says it */
		log_info("daemonizing the supervisord process");
		if (cfg->sd.directory)
			log_info("set current directory: '%s'", cfg->sd.directory);
	}
	if (cfg->sd.pidfile)
		write_pidfile(cfg->sd.pidfile);
	/* supervisord's words, which readiness scripts grep for; pidvisor's own on the next line */
	log_info("supervisord started with pid %d", (int)getpid());
	log_info("pidvisor %s (as supervisord %s)", PIDVISOR_VERSION, SUPERVISOR_VERSION);
	status = supervisor_run(&sv);
	log_info("pidvisor exiting");
	control_stop(&sv);
	if (sv.cfg->sd.pidfile)
		unlink(sv.cfg->sd.pidfile);
free_sv:
	supervisor_free(&sv);
	config_free(sv.cfg);
	events_free(&sv);
	sink_detach();
	ev_loop_destroy(loop);
	return status;
}

static int run(struct daemon_opts *o, int argc, char **argv, char **found)
{
	int rc = parse_args(o, argc, argv);
	if (rc)
		return rc;
	if ((rc = find_config(o, argv[0], found)))
		return rc;
	o->ov.strict = o->check_config;
	struct diag d = {0};
	struct config *cfg = config_load(o->config, &o->ov, &d);
	if (o->check_config) {
		rc = check_only(o, cfg, &d);
		config_free(cfg);
		diag_free(&d);
		return rc;
	}
	diag_print(&d, stderr);
	diag_free(&d);
	if (!cfg) {
		fprintf(stderr, "Error: %s has errors; nothing was started\nFor help, use %s -h\n",
			o->config, o->prog);
		return 2;
	}
	bool daemonized = false;
	if ((rc = prepare(cfg, &daemonized))) {
		config_free(cfg);
		return rc;
	}
	rc = serve(o, cfg, daemonized);
	log_close();
	return rc;
}

int daemon_main(int argc, char **argv)
{
	struct daemon_opts o = {0};
	char *found = NULL;
	char prog[256];

	snprintf(prog, sizeof(prog), "%s", argv[0]);
	o.prog = basename(prog);
	fill_std_fds();
	int rc = run(&o, argc, argv, &found);
	free(found);
	config_overrides_free(&o.ov);
	return rc;
}
