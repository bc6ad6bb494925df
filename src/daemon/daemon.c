#include "daemon.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "mainlog.h"
#include "passwd.h"
#include "process.h"
#include "stdout_sink.h"
#include "supervisor.h"

extern char **environ;

/* --check-config: every program's command must be there and executable, as spawning will need
 * (image builds run this last, so a missing package fails the build). */
static void check_commands(const struct config *cfg, struct diag *d)
{
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t i = 0; i < cfg->groups[g]->nprocs; i++) {
			const struct proc_conf *c = cfg->groups[g]->procs[i];
			char *err = NULL, *path = process_find_command(c, environ, &err);
			if (path) {
				free(path);
				continue;
			}
			char sect[512];
			snprintf(sect, sizeof(sect), "program:%s", c->program);
			diag_add(d, DIAG_ERROR, c->file, c->line, sect, "command", "%s", err);
			free(err);
		}
}

struct daemon_opts {
	const char *config;
	bool check_config;
	struct config_overrides ov;
	const char *prog;
};

void daemon_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"%s -- run a set of applications as daemons (pidvisor %s).\n"
		"\n"
		"Usage: %s [options]\n"
		"\n"
		"Options:\n"
		"-c/--configuration FILENAME -- configuration file path (searches if not given)\n"
		"-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)\n"
		"-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)\n"
		"-h/--help -- print this usage message and exit\n"
		"-v/--version -- print supervisord version number and exit\n"
		"-u/--user USER -- run supervisord as this user (or numeric uid)\n"
		"-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)\n"
		"-d/--directory DIRECTORY -- directory to chdir to when daemonized\n"
		"-l/--logfile FILENAME -- use FILENAME as logfile path\n"
		"-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile\n"
		"-z/--logfile_backups NUM -- number of backups to keep when max bytes reached\n"
		"-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)\n"
		"-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME\n"
		"-i/--identifier STR -- identifier used for this instance of supervisord\n"
		"-q/--childlogdir DIRECTORY -- the log directory for child process logs\n"
		"-k/--nocleanup --  prevent the process from performing cleanup (removal of\n"
		"                   old automatic child log files) at startup.\n"
		"-a/--minfds NUM -- the minimum number of file descriptors for start success\n"
		"-t/--strip_ansi -- strip ansi escape codes from process output\n"
		"--minprocs NUM  -- the minimum number of processes available for start success\n"
		"--profile_options OPTIONS -- accepted for compatibility; ignored\n"
		"\n"
		"pidvisor additions:\n"
		"--check-config -- read the configuration strictly (unknown keys and sections\n"
		"                  are problems too, and commands that cannot be found or run),\n"
		"                  print every problem, start nothing; exit 0 when clean,\n"
		"                  1 on warnings only, 2 on errors\n"
		"\n"
		"pidvisor also answers as 'pidvisor ctl ...' (or 'supervisorctl') and\n"
		"'pidvisor check' (a health probe). As PID 1 it always stays in the foreground.\n",
		prog, PIDVISOR_VERSION, prog);
}

static int usage_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "Error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nFor help, use %s -h\n", prog);
	return 2;
}

static void override(struct daemon_opts *o, const char *key, const char *value)
{
	if (o->ov.n < ARRAY_SIZE(o->ov.keys)) {
		o->ov.keys[o->ov.n] = key;
		o->ov.values[o->ov.n] = value;
		o->ov.n++;
	}
}

enum { OPT_MINPROCS = 1000, OPT_PROFILE, OPT_CHECK };

static int parse_args(struct daemon_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"configuration", required_argument, NULL, 'c'},
	    {"nodaemon", no_argument, NULL, 'n'},
	    {"silent", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {"user", required_argument, NULL, 'u'},
	    {"umask", required_argument, NULL, 'm'},
	    {"directory", required_argument, NULL, 'd'},
	    {"logfile", required_argument, NULL, 'l'},
	    {"logfile_maxbytes", required_argument, NULL, 'y'},
	    {"logfile_backups", required_argument, NULL, 'z'},
	    {"loglevel", required_argument, NULL, 'e'},
	    {"pidfile", required_argument, NULL, 'j'},
	    {"identifier", required_argument, NULL, 'i'},
	    {"childlogdir", required_argument, NULL, 'q'},
	    {"nocleanup", no_argument, NULL, 'k'},
	    {"minfds", required_argument, NULL, 'a'},
	    {"strip_ansi", no_argument, NULL, 't'},
	    {"minprocs", required_argument, NULL, OPT_MINPROCS},
	    {"profile_options", required_argument, NULL, OPT_PROFILE},
	    {"check-config", no_argument, NULL, OPT_CHECK},
	    {NULL, 0, NULL, 0},
	};
	/* supervisord's option letter -> [supervisord] key */
	static const struct {
		int opt;
		const char *key;
	} keys[] = {
	    {'u', "user"},
	    {'m', "umask"},
	    {'d', "directory"},
	    {'l', "logfile"},
	    {'y', "logfile_maxbytes"},
	    {'z', "logfile_backups"},
	    {'e', "loglevel"},
	    {'j', "pidfile"},
	    {'i', "identifier"},
	    {'q', "childlogdir"},
	    {'a', "minfds"},
	    {OPT_MINPROCS, "minprocs"},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:nshvu:m:d:l:y:z:e:j:i:q:ka:t?", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			override(o, "nodaemon", "true");
			break;
		case 's':
			override(o, "silent", "true");
			break;
		case 'k':
			override(o, "nocleanup", "true");
			break;
		case 't':
			override(o, "strip_ansi", "true");
			break;
		case 'h':
			daemon_usage(stdout, o->prog);
			exit(0);
		case '?':
			if (optopt == '?' || optopt == 0) {
				if (optopt == '?') {
					daemon_usage(stdout, o->prog);
					exit(0);
				}
				return usage_error(o->prog, "option %s not recognized",
						   argv[optind - 1]);
			}
			{
				char opt[3] = {'-', (char)optopt, 0};
				return usage_error(o->prog, "option %s not recognized", opt);
			}
		case ':':
			return usage_error(o->prog, "option %s requires argument",
					   argv[optind - 1]);
		case 'v':
			puts(SUPERVISOR_VERSION);
			exit(0);
		case OPT_PROFILE:
			break;
		case OPT_CHECK:
			o->check_config = true;
			break;
		default:
			for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
				if (keys[i].opt == c)
					override(o, keys[i].key, optarg);
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

int daemon_main(int argc, char **argv)
{
	struct daemon_opts o = {0};
	struct diag d = {0};
	char *found = NULL;
	char prog[256];

	snprintf(prog, sizeof(prog), "%s", argv[0]);
	o.prog = basename(prog);
	/* started with 0, 1 or 2 closed: fill them, or the next socket or pipe opened would take
	 * that number and receive what is written to stdout or stderr */
	int null_fd;
	while ((null_fd = open("/dev/null", O_RDWR)) >= 0 && null_fd <= 2)
		;
	if (null_fd > 2)
		close(null_fd);
	int rc = parse_args(&o, argc, argv);
	if (rc)
		return rc;
	if (!o.config) {
		found = config_search(argv[0]);
		if (!found) {
			fprintf(
			    stderr,
			    "Error: No config file found at default paths (/etc/supervisord.conf, "
			    "/etc/supervisor/supervisord.conf, ./supervisord.conf, "
			    "./etc/supervisord.conf); use the -c option to specify a config "
			    "file at a different path\nFor help, use %s -h\n",
			    o.prog);
			return 2;
		}
		o.config = found;
	}

	struct config *cfg = config_load(o.config, &o.ov, &d);
	if (o.check_config) {
		if (cfg)
			check_commands(cfg, &d);
		diag_print(&d, stdout);
		int status = d.errors ? 2 : d.warnings ? 1 : 0;
		if (!status)
			printf("%s: OK\n", o.config);
		config_free(cfg);
		diag_free(&d);
		free(found);
		return status;
	}
	diag_print(&d, stderr);
	if (!cfg) {
		fprintf(stderr, "Error: %s has errors; nothing was started\nFor help, use %s -h\n",
			o.config, o.prog);
		diag_free(&d);
		free(found);
		return 2;
	}
	diag_free(&d);

	if (raise_limit(RLIMIT_NOFILE, cfg->sd.minfds, "file descriptors", "minfds") < 0 ||
	    raise_limit(RLIMIT_NPROC, cfg->sd.minprocs, "available processes", "minprocs") < 0) {
		config_free(cfg);
		free(found);
		return 2;
	}
	bool pid1 = getpid() == 1;
	if (!cfg->sd.nodaemon && !pid1 && daemonize(&cfg->sd) < 0)
		return 2;

	char *err = NULL;
	if (log_open(&cfg->sd, (cfg->sd.nodaemon || pid1) && !cfg->sd.silent, &err) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		free(err);
		config_free(cfg);
		free(found);
		return 2;
	}
	if (cfg->sd.user && drop_privileges(cfg->sd.user) < 0)
		return 2;

	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_SIGNALFD | EVFLAG_NOENV);
	if (!loop) {
		log_crit("cannot create the event loop");
		return 2;
	}
	sink_attach(loop);
	struct supervisor sv = {.config_path = o.config, .overrides = &o.ov};
	if (supervisor_init(&sv, loop, cfg) < 0) {
		sink_detach();
		return 2;
	}
	if (control_start(&sv, &err) < 0) {
		log_crit("%s", err);
		fprintf(stderr, "Error: %s\n", err);
		free(err);
		supervisor_free(&sv);
		sink_detach();
		return 2;
	}
	if (cfg->sd.pidfile)
		write_pidfile(cfg->sd.pidfile);
	log_info("pidvisor %s started with pid %d", PIDVISOR_VERSION, (int)getpid());
	int status = supervisor_run(&sv);
	log_info("pidvisor exiting");
	control_stop(&sv);
	if (sv.cfg->sd.pidfile)
		unlink(sv.cfg->sd.pidfile);
	supervisor_free(&sv);
	config_free(sv.cfg);
	sink_detach();
	ev_loop_destroy(loop);
	log_close();
	free(found);
	return status;
}
