/* supervisord's config dialect, value parsers and the config model (expansion: test_expand.c). */
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
#include "inifile.h"
#include "signals.h"
#include "values.h"

static const char *get(struct ini_doc *doc, const char *sec, const char *key)
{
	return ini_get(doc, sec, key);
}

static int load(struct ini_doc *doc, struct diag *d, const char *text)
{
	return ini_load_string(doc, "t.conf", text, strlen(text), d);
}

static void test_comments_and_delimiters(void **state)
{
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(load(&doc, &d,
			      "; full comment\n# another\n  ; indented comment\n[a]\n"
			      "k1 = v1 ;inline\nk2=v2;not a comment\nk3=v3 # hash inline\n"
			      "k4: colon\nK5 = Upper Key\nempty=\nurl=http://x:9001/a;b\n"),
			 0);
	assert_string_equal(get(&doc, "a", "k1"), "v1");
	assert_string_equal(get(&doc, "a", "k2"), "v2;not a comment");
	assert_string_equal(get(&doc, "a", "k3"), "v3");
	assert_string_equal(get(&doc, "a", "k4"), "colon");
	assert_string_equal(get(&doc, "a", "k5"), "Upper Key"); /* keys lowercased */
	assert_string_equal(get(&doc, "a", "empty"), "");
	assert_string_equal(get(&doc, "a", "url"), "http://x:9001/a;b");
	assert_int_equal(d.n, 0);
	ini_free(&doc);
	diag_free(&d);
}

static void test_sections_case_duplicates_default(void **state)
{
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(load(&doc, &d,
			      "[DEFAULT]\nshared=yes\n[Program:x]\na=1\n[program:x]\na=2\nb=1\n"
			      "[program:x]\nb=3\n[empty]\n"),
			 0);
	assert_non_null(ini_find_section(&doc, "Program:x")); /* case-sensitive names */
	assert_string_equal(get(&doc, "program:x", "a"), "2");
	assert_string_equal(get(&doc, "program:x", "b"), "3"); /* merged, last wins */
	assert_string_equal(get(&doc, "program:x", "shared"), "yes");
	assert_non_null(ini_find_section(&doc, "empty"));
	ini_free(&doc);
	diag_free(&d);
}

static void test_continuation_lines_and_line_numbers(void **state)
{
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(load(&doc, &d,
			      "[a]\nfiles = one\n    two ; c\n\n    three\nnext=1\n[b]\nx=\n"
			      "  y\r\nafter=2\r\n"),
			 0);
	assert_string_equal(get(&doc, "a", "files"), "one\ntwo\n\nthree");
	const struct ini_section *a = ini_find_section(&doc, "a");
	const struct ini_entry *next = ini_find(&doc, a, "next");
	assert_int_equal(next->line, 6);
	assert_string_equal(get(&doc, "b", "x"), "\ny");
	const struct ini_entry *after = ini_find(&doc, ini_find_section(&doc, "b"), "after");
	assert_int_equal(after->line, 10);
	assert_string_equal(after->value, "2");
	ini_free(&doc);
	diag_free(&d);
}

static void test_long_lines_parse_exactly(void **state)
{
	size_t n = 65536;
	char *text = malloc(n + 64);
	char *value = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		value[i] = (char)('a' + i % 26);
	value[n] = '\0';
	int len = sprintf(text, "[program:x]\ncommand=%s\nafter=1\n", value);
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(ini_load_string(&doc, "t.conf", text, (size_t)len, &d), 0);
	assert_string_equal(get(&doc, "program:x", "command"), value);
	assert_string_equal(get(&doc, "program:x", "after"), "1");
	ini_free(&doc);
	diag_free(&d);
	free(text);
	free(value);
}

static void test_malformed_lines_are_errors_with_lines(void **state)
{
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(load(&doc, &d, "orphan=1\n[a]\nno delimiter here\n[b\n"), -1);
	assert_int_equal(d.errors, 3);
	assert_non_null(strstr(d.items[0].text, "t.conf:1:"));
	assert_non_null(strstr(d.items[0].text, "before any [section]"));
	assert_non_null(strstr(d.items[1].text, "t.conf:3: [a] not a 'key = value' line"));
	assert_non_null(strstr(d.items[2].text, "t.conf:4:"));
	ini_free(&doc);
	diag_free(&d);
}

static void test_value_parsers(void **state)
{
	bool b;
	long long n;
	int i;
	assert_int_equal(parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(parse_bool("maybe", &b), -1);
	assert_int_equal(parse_size("50MB", &n), 0);
	assert_int_equal(n, 50LL * 1024 * 1024);
	assert_int_equal(parse_size("1kb", &n), 0);
	assert_int_equal(n, 1024);
	assert_int_equal(parse_size("2GB", &n), 0);
	assert_int_equal(n, 2LL << 30);
	assert_int_equal(parse_size("7", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(parse_size("ten", &n), -1);
	assert_int_equal(parse_octal("0700", &i), 0);
	assert_int_equal(i, 0700);
	assert_int_equal(parse_octal("9", &i), -1);
	assert_int_equal(parse_signal("TERM", &i), 0);
	assert_int_equal(i, 15);
	assert_int_equal(parse_signal("sigusr2", &i), 0);
	assert_int_equal(i, 12);
	assert_int_equal(parse_signal("9", &i), 0);
	assert_int_equal(i, 9);
	assert_int_equal(parse_signal("SIGFOO", &i), -1);
	assert_string_equal(signal_name(1), "HUP");
	struct exitcodes ec;
	assert_int_equal(parse_exitcodes("0, 2,255", &ec), 0);
	assert_true(exitcodes_has(&ec, 0) && exitcodes_has(&ec, 2) && exitcodes_has(&ec, 255));
	assert_false(exitcodes_has(&ec, 1) || exitcodes_has(&ec, -1));
	assert_int_equal(parse_exitcodes("0,256", &ec), -1);
	assert_int_equal(parse_int("12", 0, 10, &n), -1);
}

static void test_environment_and_command(void **state)
{
	struct strvec sv = {0};
	char *why = NULL;
	assert_int_equal(parse_environment("A=1,B=\"two words\",C='x,y', D=/p:q,E=", &sv, &why), 0);
	assert_int_equal(sv.n, 5);
	assert_string_equal(sv.v[0], "A=1");
	assert_string_equal(sv.v[1], "B=two words");
	assert_string_equal(sv.v[2], "C=x,y");
	assert_string_equal(sv.v[3], "D=/p:q");
	assert_string_equal(sv.v[4], "E=");
	sv_free(&sv);
	assert_int_equal(parse_environment("X=a=b", &sv, &why), -1);
	assert_non_null(strstr(why, "quote"));
	free(why);
	assert_int_equal(parse_environment("X=\"open", &sv, &why), -1);
	free(why);

	assert_int_equal(split_command("sh -c 'echo \"hi there\"' a\\ b \"q\\\"x\"", &sv, &why), 0);
	assert_int_equal(sv.n, 5);
	assert_string_equal(sv.v[2], "echo \"hi there\"");
	assert_string_equal(sv.v[3], "a b");
	assert_string_equal(sv.v[4], "q\"x");
	sv_free(&sv);
	assert_int_equal(split_command("echo 'unterminated", &sv, &why), -1);
	assert_string_equal(why, "no closing quotation");
	free(why);
	assert_true(valid_name("web_01"));
	assert_false(valid_name("a b") || valid_name("a:b") || valid_name("a/b") || valid_name(""));
}

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

static void test_unknown_and_unsupported_are_warnings(void **state)
{
	struct diag d = {0};
	struct config *c = load_conf("[supervisord]\n[program:web]\ncommand=x\nstartsecz=3\n"
				     "[programx:y]\ncommand=x\n[eventlistener:ev]\ncommand=x\n"
				     "events=TICK_5\n[fcgi-program:f]\ncommand=x\n",
				     &d);
	assert_non_null(c);
	assert_int_equal(d.errors, 0);
	assert_true(has_diag(&d, "main.conf:4: warning: [program:web] startsecz: unknown key, "
				 "ignored (did you mean 'startsecs'?)"));
	assert_true(has_diag(&d, "main.conf:5: warning: [programx:y] unknown section, ignored "
				 "(did you mean [program:y]?"));
	assert_true(has_diag(&d, "main.conf:7: warning: [eventlistener:ev] event listeners are "
				 "not supported yet"));
	assert_true(has_diag(&d, "main.conf:10: warning: [fcgi-program:f]"));
	assert_int_equal(c->ngroups, 1);
	config_free(c);
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

	c = load_conf("[supervisord]\n[include]\nfiles=/nonexistent/x.conf\n", &d);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comments_and_delimiters),
	    cmocka_unit_test(test_sections_case_duplicates_default),
	    cmocka_unit_test(test_continuation_lines_and_line_numbers),
	    cmocka_unit_test(test_long_lines_parse_exactly),
	    cmocka_unit_test(test_malformed_lines_are_errors_with_lines),
	    cmocka_unit_test(test_value_parsers),
	    cmocka_unit_test(test_environment_and_command),
	    cmocka_unit_test(test_program_defaults),
	    cmocka_unit_test(test_numprocs_groups_priorities),
	    cmocka_unit_test(test_config_errors_name_file_line_section_key),
	    cmocka_unit_test(test_unknown_and_unsupported_are_warnings),
	    cmocka_unit_test(test_includes),
	    cmocka_unit_test(test_supervisord_environment_is_expanded_twice),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
