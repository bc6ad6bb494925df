/* The config model (config.c, loader.c, include.c): files in, struct config out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* --- the config model, from files --- */

static char dir[] = "/tmp/pidvisor-unit-XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static struct config *load_conf(const char *text, struct diag *d)
{
	char *path = write_file("main.conf", text);
	struct config *c = config_load(path, NULL, d);
	free(path);
	return c;
}

static bool has_diag(const struct diag *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->items[i].text, needle))
			return true;
	return false;
}

static void test_program_defaults(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n[program:web]\ncommand=sleep 1\n", &d);
	assert_non_null(c);
	assert_int_equal(c->ngroups, 1);
	struct proc_conf *p = c->groups[0]->procs[0];
	assert_string_equal(p->name, "web");
	assert_string_equal(p->group, "web");
	assert_int_equal(p->priority, 999);
	assert_true(p->autostart);
	assert_int_equal(p->autorestart, AUTORESTART_UNEXPECTED);
	assert_true(exitcodes_has(&p->exitcodes, 0));
	assert_false(exitcodes_has(&p->exitcodes, 1));
	assert_int_equal(p->startsecs, 1);
	assert_int_equal(p->startretries, 3);
	assert_int_equal(p->stopsignal, 15);
	assert_int_equal(p->stopwaitsecs, 10);
	assert_false(p->stopasgroup || p->killasgroup || p->redirect_stderr);
	assert_null(p->user);
	assert_string_equal(p->out.logfile, "AUTO");
	assert_int_equal(p->out.maxbytes, 50LL * 1024 * 1024);
	assert_int_equal(p->out.backups, 10);
	assert_int_equal(p->umask, -1);
	assert_null(p->directory);
	assert_string_equal(p->serverurl, "AUTO");
	assert_int_equal(p->argv.n, 2);
	assert_int_equal(c->sd.loglevel, LOG_LEVEL_INFO);
	assert_int_equal(c->sd.logfile_maxbytes, 50LL * 1024 * 1024);
	assert_int_equal(c->sd.minfds, 1024);
	assert_int_equal(c->sd.minprocs, 200);
	assert_int_equal(c->sd.umask, 022);
	assert_string_equal(c->sd.identifier, "supervisor");
	assert_string_equal(c->sd.logfile, "supervisord.log");
	assert_false(c->unix_server.enabled);
	assert_string_equal(c->ctl.serverurl, "http://localhost:9001");
	config_free(c);
	diag_free(&d);
}

static void test_numprocs_groups_priorities(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n"
		      "[program:w]\ncommand=sleep %(process_num)d\nnumprocs=3\n"
		      "numprocs_start=8\nprocess_name=%(program_name)s_%(process_num)02d\n"
		      "priority=5\n"
		      "[program:a]\ncommand=x\npriority=50\n"
		      "[program:b]\ncommand=y\npriority=10\n"
		      "[group:both]\nprograms=a,b\npriority=1\n",
		      &d);
	assert_non_null(c);
	assert_int_equal(c->ngroups, 2); /* a and b are not groups of their own any more */
	assert_string_equal(c->groups[0]->name, "both");
	assert_string_equal(c->groups[0]->procs[0]->name, "b"); /* sorted by priority */
	assert_string_equal(c->groups[0]->procs[0]->group, "both");
	struct group_conf *w = c->groups[1];
	assert_string_equal(w->name, "w");
	assert_int_equal(w->priority, 5);
	assert_int_equal(w->nprocs, 3);
	assert_string_equal(w->procs[0]->name, "w_08");
	assert_string_equal(w->procs[2]->name, "w_10");
	assert_string_equal(w->procs[2]->command, "sleep 10");
	config_free(c);
	diag_free(&d);
}

static void test_config_errors_name_file_line_section_key(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n[program:web]\ncommand=sleep 1\n"
		      "startsecs=ten\nautorestart=sometimes\nstopsignal=NOPE\n"
		      "[program:two]\nnumprocs=2\ncommand=x\n"
		      "[program:three]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n"
		      "[program:four]\npriority=1\n",
		      &d);
	assert_null(c);
	assert_true(has_diag(&d, "main.conf:4: [program:web] startsecs: 'ten' is not an integer"));
	assert_true(has_diag(&d, "main.conf:5: [program:web] autorestart: 'sometimes' is not one "
				 "of true, false, unexpected"));
	assert_true(has_diag(&d, "main.conf:6: [program:web] stopsignal: 'NOPE'"));
	assert_true(has_diag(&d, "[program:two] process_name: must contain %(process_num)"));
	assert_true(has_diag(&d, "main.conf:13: [program:three] killasgroup: cannot be false"));
	assert_true(has_diag(&d, "main.conf:14: [program:four] command: required, but missing"));
	diag_free(&d);
}

static void test_unknown_keys_and_sections_are_warnings(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n[program:web]\ncommand=x\nstartsecz=3\n"
				     "[programx:y]\ncommand=x\n[eventlistener:ev]\ncommand=x\n"
				     "events=TICK_5\nsocket=unix:///x\n[ctlplugin:p]\nx=1\n",
				     &d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	assert_true(has_diag(&d, "main.conf:4: warning: [program:web] startsecz: unknown key, "
				 "ignored (did you mean 'startsecs'?)"));
	assert_true(has_diag(&d, "main.conf:5: warning: [programx:y] unknown section, ignored "
				 "(did you mean [program:y]?"));
	/* socket is an fcgi-program key, not a listener's */
	assert_true(has_diag(&d, "main.conf:10: warning: [eventlistener:ev] socket: unknown key"));
	assert_true(has_diag(&d, "main.conf:11: warning: [ctlplugin:p] supervisorctl plugins"));
	assert_int_equal(c->ngroups, 2);
	config_free(c);
	diag_free(&d);
}

/* [eventlistener:x]: a pool of its own, every program key, events/buffer_size/result_handler,
 * priority -1 by default */
static void test_eventlistener_sections(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n[program:web]\ncommand=x\n"
		      "[eventlistener:ev]\ncommand=/bin/listen\n"
		      "events=process_state_fatal, TICK_5,PROCESS_LOG\nbuffer_size=3\n"
		      "numprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n",
		      &d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	assert_int_equal(c->ngroups, 2);
	const struct group_conf *g = c->groups[0]; /* priority -1 sorts first */
	assert_string_equal(g->name, "ev");
	assert_int_equal(g->kind, KIND_EVENTLISTENER);
	assert_int_equal(g->priority, -1);
	assert_int_equal(g->procs[0]->priority, 999); /* the processes', as supervisord's */
	assert_int_equal(g->nprocs, 2);
	assert_string_equal(g->procs[1]->name, "ev_1");
	const struct proc_conf *p = g->procs[0];
	assert_int_equal(p->kind, KIND_EVENTLISTENER);
	assert_int_equal(p->buffer_size, 3);
	assert_true(event_type_matches(p->events, EV_PROCESS_STATE_FATAL));
	assert_true(event_type_matches(p->events, EV_TICK_5));
	assert_true(
	    event_type_matches(p->events, EV_PROCESS_LOG_STDERR)); /* a kind of PROCESS_LOG */
	assert_false(event_type_matches(p->events, EV_PROCESS_STATE_EXITED));
	assert_false(event_type_matches(p->events, EV_TICK_60));
	assert_int_equal(c->groups[1]->kind, KIND_PROGRAM);
	config_free(c);
	diag_free(&d);
}

static void test_eventlistener_errors(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n"
		      "[eventlistener:a]\ncommand=x\n"
		      "[eventlistener:b]\ncommand=x\nevents=PROCESS_STATE_BOGUS\n"
		      "[eventlistener:c]\ncommand=x\nevents=TICK_5\nredirect_stderr=true\n"
		      "[eventlistener:e]\ncommand=x\nevents=TICK_5\nbuffer_size=0\n"
		      "[eventlistener:f]\ncommand=x\nevents=TICK_5\n"
		      "result_handler=superlance.x:y\n",
		      &d);
	assert_null(c);
	assert_true(has_diag(&d, "main.conf:2: [eventlistener:a] events: required, but missing"));
	assert_true(has_diag(&d, "main.conf:6: [eventlistener:b] events: unknown event type "
				 "'PROCESS_STATE_BOGUS'"));
	assert_true(
	    has_diag(&d, "main.conf:10: [eventlistener:c] redirect_stderr: cannot be true"));
	assert_true(has_diag(&d, "main.conf:14: [eventlistener:e] buffer_size:"));
	assert_true(has_diag(&d, "main.conf:18: [eventlistener:f] result_handler: "
				 "'superlance.x:y' cannot be resolved"));
	diag_free(&d);
}

/* [fcgi-program:x]: socket parsed at load; in a [group:x] it is a plain program, as in
 * supervisord */
static void test_fcgi_sections(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n"
		      "[fcgi-program:php]\ncommand=x\nsocket=unix:///run/%(program_name)s.sock\n"
		      "socket_mode=0660\nsocket_owner=root:root\nsocket_backlog=7\n"
		      "[fcgi-program:py]\ncommand=x\nsocket=tcp://127.0.0.1:9000\n"
		      "[fcgi-program:inner]\ncommand=x\nsocket=tcp://127.0.0.1:9001\n"
		      "[group:g]\nprograms=inner\n",
		      &d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	const struct group_conf *php = config_find_group(c, "php");
	assert_int_equal(php->kind, KIND_FCGI);
	assert_true(php->procs[0]->socket.is_unix);
	assert_string_equal(php->procs[0]->socket.path, "/run/php.sock");
	assert_string_equal(php->procs[0]->socket.url, "unix:///run/php.sock");
	assert_int_equal(php->procs[0]->socket_mode, 0660);
	assert_int_equal(php->procs[0]->socket_backlog, 7);
	const struct group_conf *py = config_find_group(c, "py");
	assert_false(py->procs[0]->socket.is_unix);
	assert_int_equal(py->procs[0]->socket.addr.ss_family, AF_INET);
	assert_int_equal(py->procs[0]->socket_mode, -1);
	assert_null(config_find_group(c, "inner"));
	assert_int_equal(config_find_group(c, "g")->kind, KIND_PROGRAM);
	assert_int_equal(config_find_group(c, "g")->procs[0]->kind, KIND_PROGRAM);
	config_free(c);
	diag_free(&d);
}

static void test_fcgi_errors(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n"
				     "[fcgi-program:a]\ncommand=x\n"
				     "[fcgi-program:b]\ncommand=x\nsocket=unix://relative.sock\n"
				     "[fcgi-program:c]\ncommand=x\nsocket=tcp://127.0.0.1:9000\n"
				     "socket_mode=0600\n"
				     "[fcgi-program:e]\ncommand=x\nsocket=udp://x:1\n"
				     "[fcgi-program:f]\ncommand=x\nsocket=unix:///s\n"
				     "socket_owner=nosuchuser\n"
				     "[group:g]\nprograms=nothere\n",
				     &d);
	assert_null(c);
	assert_true(has_diag(&d, "main.conf:2: [fcgi-program:a] socket: required, but missing"));
	assert_true(has_diag(&d, "main.conf:6: [fcgi-program:b] socket: unix socket path "
				 "'relative.sock' is not an absolute path"));
	assert_true(has_diag(&d, "main.conf:10: [fcgi-program:c] socket_mode: only applies"));
	assert_true(has_diag(&d, "main.conf:13: [fcgi-program:e] socket: 'udp://x:1' is neither"));
	assert_true(has_diag(&d, "main.conf:17: [fcgi-program:f] socket_owner: no such user"));
	assert_true(has_diag(&d, "main.conf:19: [group:g] programs: no [program:nothere] or "
				 "[fcgi-program:nothere] section"));
	diag_free(&d);
}

static void test_includes(void **state)
{
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	mkdir(sub, 0755);
	free(write_file("conf.d/b.conf", "[program:b]\ncommand=%(here)s/run\n"));
	free(write_file("conf.d/a.conf", "[program:a]\ncommand=x\n[include]\nfiles=nested\n"));
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n[include]\nfiles = conf.d/*.conf none/*.conf\n", &d);
	assert_non_null(c);
	assert_int_equal(c->ngroups, 2);
	struct group_conf *b = config_find_group(c, "b");
	char want[700];
	char real[600];
	assert_non_null(realpath(sub, real));
	snprintf(want, sizeof(want), "%s/run", real);
	assert_string_equal(b->procs[0]->command, want); /* here = the included file's dir */
	assert_true(has_diag(&d, "no file matches"));
	assert_true(has_diag(&d, "[include] in an included file is ignored"));
	config_free(c);
	diag_free(&d);

	/* a literal path that does not exist: supervisord starts without it, and so do we, with
	 * a warning; --check-config (strict) calls it an error */
	c = load_conf("[supervisord]\n[include]\nfiles=/nonexistent/x.conf\n", &d);
	assert_non_null(c);
	assert_true(has_diag(&d, "main.conf:3: warning: [include] files: included file "
				 "'/nonexistent/x.conf' does not exist; starting without it"));
	config_free(c);
	diag_free(&d);
	struct config_overrides strict = {.strict = true};
	char *path =
	    write_file("main.conf", "[supervisord]\n[include]\nfiles=/nonexistent/x.conf\n");
	c = config_load(path, &strict, &d);
	free(path);
	assert_null(c);
	assert_true(has_diag(&d, "main.conf:3: [include] files: included file "
				 "'/nonexistent/x.conf' does not exist"));
	diag_free(&d);
}

static void test_supervisord_environment_is_expanded_twice(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\nenvironment=A=\"100%%%%\",B='x,y'\n"
				     "[program:p]\ncommand=echo %(ENV_B)s\nenvironment=C=\"5%%\"\n",
				     &d);
	assert_non_null(c);
	assert_string_equal(c->sd.environment.v[0], "A=100%");
	assert_string_equal(c->groups[0]->procs[0]->command, "echo x,y");
	assert_string_equal(c->groups[0]->procs[0]->environment.v[0], "C=5%");
	config_free(c);
	diag_free(&d);
}

static int setup_dir(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_group_keys_read_through_the_table(void **state)
{
	struct diag d = {0};
	struct config *c =
	    load_conf("[supervisord]\n[program:a]\ncommand=x\n"
		      "[group:g]\nprograms=a\npriority=high\n[group:h]\npriority=1\n",
		      &d);
	assert_null(c);
	assert_true(has_diag(&d, "main.conf:6: [group:g] priority: 'high' is not an integer"));
	/* supervisord makes a group without programs an empty group */
	assert_true(has_diag(&d, "main.conf:7: warning: [group:h] programs: none: an empty group"));
	diag_free(&d);
	c = load_conf("[supervisord]\n[program:a]\ncommand=x\n[group:g]\nprograms=%(ENV_P)s\n"
		      "priority=-3\n",
		      &d);
	assert_null(c); /* ENV_P is not set: the value is expanded like any other */
	assert_true(has_diag(&d, "main.conf:5: [group:g] programs: unknown name %(ENV_P)"));
	diag_free(&d);
	setenv("P", "a", 1);
	c = load_conf("[supervisord]\n[program:a]\ncommand=x\n[group:g]\nprograms=%(ENV_P)s\n"
		      "priority=-3\n",
		      &d);
	unsetenv("P");
	assert_non_null(c);
	assert_int_equal(c->groups[0]->priority, -3);
	assert_string_equal(c->groups[0]->procs[0]->name, "a");
	config_free(c);
	diag_free(&d);
}

/* a warning about a key read once per process is said once, not numprocs times */
static void test_repeated_warning_said_once(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n[program:w]\ncommand=x\nnumprocs=3\n"
				     "process_name=w%(process_num)d\nenvironment=A=1#c\n",
				     &d);
	assert_non_null(c);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.warnings, 1);
	assert_true(has_diag(&d, "main.conf:6: warning: [program:w] environment: an unquoted #"));
	config_free(c);
	diag_free(&d);
}

static void test_reload_equality(void **state)
{
	static const char base[] = "[supervisord]\n[program:a]\ncommand=sleep 1\n"
				   "environment=A=1\nnumprocs=2\nprocess_name=a%(process_num)d\n";
	struct diag d = {0};
	struct config *c1 = load_conf(base, &d), *c2 = load_conf(base, &d);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_true(group_conf_equal(c1->groups[0], c2->groups[0]));
	assert_false(proc_conf_equal(c1->groups[0]->procs[0], c1->groups[0]->procs[1]));
	static const char *const changed[] = {
	    "stopsignal=INT\n", "environment=A=2\n",	  "umask=022\n",
	    "exitcodes=0,1\n",	"forward_signals=USR1\n", "stdout_logfile=NONE\n"};
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "%s%s", base, changed[i]);
		struct config *c3 = load_conf(text, &d);
		assert_non_null(c3);
		if (group_conf_equal(c1->groups[0], c3->groups[0]))
			fail_msg("not seen as a change: %s", changed[i]);
		config_free(c3);
	}
	config_free(c1);
	config_free(c2);
	diag_free(&d);
}

static void test_include_of_a_fifo_is_named_at_the_include_line(void **state)
{
	char fifo[600];
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	char text[800];
	snprintf(text, sizeof(text), "[supervisord]\n[include]\nfiles=%s /dev/zero\n", fifo);
	struct diag d = {0};
	assert_null(load_conf(text, &d));
	char want[700];
	snprintf(want, sizeof(want), "main.conf:3: [include] files: '%s' is not a regular file",
		 fifo);
	assert_true(has_diag(&d, want));
	assert_true(
	    has_diag(&d, "main.conf:3: [include] files: '/dev/zero' is not a regular file"));
	diag_free(&d);
	unlink(fifo);
}

static void test_overrides_have_no_limit(void **state)
{
	struct config_overrides ov = {0};
	char values[100][16];
	for (int i = 0; i < 100; i++) {
		snprintf(values[i], sizeof(values[i]), "%d", i + 1);
		config_override(&ov, "logfile_backups", values[i]);
	}
	config_override(&ov, "nodaemon", "true");
	struct diag d = {0};
	char *path = write_file("main.conf", "[supervisord]\nlogfile_backups=3\n");
	struct config *c = config_load(path, &ov, &d);
	free(path);
	assert_non_null(c);
	assert_int_equal(c->sd.logfile_backups, 100); /* the last one wins */
	assert_true(c->sd.nodaemon);
	config_free(c);
	config_overrides_free(&ov);
	assert_int_equal(ov.n, 0);
	diag_free(&d);
}

static void test_server_limits_shared_by_both_servers(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n[unix_http_server]\nfile=/tmp/x.sock\n"
				     "max_connections=7\nidle_timeout=9\n"
				     "[inet_http_server]\nport=127.0.0.1:1\nmax_header_bytes=1KB\n",
				     &d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_int_equal(c->unix_server.max_connections, 7);
	assert_int_equal(c->unix_server.idle_timeout, 9);
	assert_int_equal(c->unix_server.max_header_bytes, 64 * 1024);
	assert_int_equal(c->inet_server.max_connections, 1024);
	assert_int_equal(c->inet_server.max_header_bytes, 1024);
	assert_int_equal(c->inet_server.multicall_max_calls, 1000);
	config_free(c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_program_defaults),
	    cmocka_unit_test(test_numprocs_groups_priorities),
	    cmocka_unit_test(test_config_errors_name_file_line_section_key),
	    cmocka_unit_test(test_unknown_keys_and_sections_are_warnings),
	    cmocka_unit_test(test_eventlistener_sections),
	    cmocka_unit_test(test_eventlistener_errors),
	    cmocka_unit_test(test_fcgi_sections),
	    cmocka_unit_test(test_fcgi_errors),
	    cmocka_unit_test(test_includes),
	    cmocka_unit_test(test_supervisord_environment_is_expanded_twice),
	    cmocka_unit_test(test_group_keys_read_through_the_table),
	    cmocka_unit_test(test_repeated_warning_said_once),
	    cmocka_unit_test(test_reload_equality),
	    cmocka_unit_test(test_include_of_a_fifo_is_named_at_the_include_line),
	    cmocka_unit_test(test_overrides_have_no_limit),
	    cmocka_unit_test(test_server_limits_shared_by_both_servers),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
