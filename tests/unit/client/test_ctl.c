/* `pidvisor ctl`'s pure parts: the command line (Python's getopt as supervisorctl uses it),
 * words and namespecs, tail's modifier, and what it prints (the status table's padding, the
 * JSON form, help's columns). The process tests compare whole runs with supervisorctl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_internal.h"

/* Parses a space-separated command line (argv[0] included). */
static enum ctl_cmdline_result parse(const char *line, struct ctl_cmdline *cl, struct buf *err)
{
	static char copy[512];
	static char *argv[32];
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && argc < 31;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	buf_init(err, 0);
	return ctl_parse_cmdline(argc, argv, cl, err);
}

static void test_cmdline_options(void **state)
{
	struct ctl_cmdline cl;
	struct buf err;

	assert_int_equal(parse("ctl -c a.conf -i -s unix:///s -u me -p pw status x", &cl, &err),
			 CL_OK);
	assert_string_equal(cl.configfile, "a.conf");
	assert_true(cl.interactive);
	assert_string_equal(cl.serverurl, "unix:///s");
	assert_string_equal(cl.username, "me");
	assert_string_equal(cl.password, "pw");
	assert_int_equal(cl.nargs, 2);
	assert_string_equal(cl.args[0], "status");
	ctl_cmdline_free(&cl);

	/* long options by a unique prefix, with = or a separate value; -pVALUE in a cluster */
	assert_int_equal(parse("ctl --conf=b.conf --serv http://h:1 --user=u -ipx", &cl, &err),
			 CL_OK);
	assert_string_equal(cl.configfile, "b.conf");
	assert_string_equal(cl.serverurl, "http://h:1");
	assert_string_equal(cl.username, "u");
	assert_true(cl.interactive);
	assert_string_equal(cl.password, "x");
	assert_int_equal(cl.nargs, 0);
	ctl_cmdline_free(&cl);
	buf_free(&err);
}

static void test_cmdline_stops_at_the_first_action_word(void **state)
{
	struct ctl_cmdline cl;
	struct buf err;
	assert_int_equal(parse("ctl status -c x", &cl, &err), CL_OK);
	assert_null(cl.configfile);
	assert_int_equal(cl.nargs, 3);
	assert_string_equal(cl.args[1], "-c");
	ctl_cmdline_free(&cl);
	assert_int_equal(parse("ctl -u a -- -c x", &cl, &err), CL_OK);
	assert_null(cl.configfile);
	assert_int_equal(cl.nargs, 2);
	assert_string_equal(cl.args[0], "-c");
	ctl_cmdline_free(&cl);
	assert_int_equal(parse("ctl", &cl, &err), CL_OK);
	assert_int_equal(cl.nargs, 0);
	assert_false(cl.interactive);
	ctl_cmdline_free(&cl);
	buf_free(&err);
}

static void test_cmdline_errors_are_getopts(void **state)
{
	const struct {
		const char *line, *err;
	} cases[] = {
	    {"ctl -x", "option -x not recognized"},
	    {"ctl --foo", "option --foo not recognized"},
	    {"ctl --h", "option --h not a unique prefix"}, /* help, history_file */
	    {"ctl -s", "option -s requires argument"},
	    {"ctl --serverurl", "option --serverurl requires argument"},
	    {"ctl --interactive=1", "option --interactive must not have an argument"},
	    {"ctl -ii", "conflicting command line option '-i'"},
	    {"ctl -c a -c b", "conflicting command line option '-c'"},
	    {"ctl -c a --configuration b", "conflicting command line option '--configuration'"},
	    {"ctl -s foo status", "invalid value for -s 'foo': value 'foo' is not a URL"},
	    {"ctl --serverurl=fo'o", "invalid value for --serverurl \"fo'o\": value \"fo'o\" is "
				     "not a URL"},
	    {"ctl -s :9001", "invalid value for -s ':9001': value ':9001' is not a URL"},
	    {"ctl -s unix:", "invalid value for -s 'unix:': value 'unix:' is not a URL"},
	    /* getopt's errors come first, then the first problem in order */
	    {"ctl -ii -x", "option -x not recognized"},
	    {"ctl -h -s", "option -s requires argument"},
	    {"ctl -s bad -i -i", "invalid value for -s 'bad': value 'bad' is not a URL"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_cmdline cl;
		struct buf err;
		assert_int_equal(parse(cases[i].line, &cl, &err), CL_ERROR);
		assert_non_null(err.data);
		assert_string_equal(err.data, cases[i].err);
		ctl_cmdline_free(&cl);
		buf_free(&err);
	}
	/* URLs supervisor's datatypes.url accepts */
	const char *good[] = {"unix:///x", "http://127.0.0.1:9001", "localhost:9001", "x+y.z-1:p"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ctl_cmdline cl;
		struct buf err;
		char line[128];
		snprintf(line, sizeof(line), "ctl -s %s", good[i]);
		assert_int_equal(parse(line, &cl, &err), CL_OK);
		assert_string_equal(cl.serverurl, good[i]);
		ctl_cmdline_free(&cl);
		buf_free(&err);
	}
}

static void test_cmdline_help(void **state)
{
	const char *lines[] = {"ctl -h", "ctl --help",	      "ctl --he",
			       "ctl -?", "ctl -c a -h -i -i", "ctl -ih"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ctl_cmdline cl;
		struct buf err;
		assert_int_equal(parse(lines[i], &cl, &err), CL_HELP);
		assert_null(err.data);
		ctl_cmdline_free(&cl);
	}
}

static void test_words_and_namespecs(void **state)
{
	struct ctl_words w;
	ctl_split_words("  start\t a:b \n\f c  ", &w);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.v[0], "start");
	assert_string_equal(w.v[1], "a:b");
	assert_string_equal(w.v[2], "c");
	assert_true(ctl_words_has(&w, "c"));
	assert_false(ctl_words_has(&w, "a"));
	ctl_words_free(&w);
	ctl_split_words("", &w);
	assert_int_equal(w.n, 0);
	ctl_words_free(&w);

	const struct {
		const char *spec, *group, *process; /* process NULL: the whole group */
	} specs[] = {
	    {"web", "web", "web"}, {"g:web", "g", "web"}, {"g:*", "g", NULL},
	    {"g:", "g", NULL},	   {":x", "", "x"},
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		char group[64], pbuf[64];
		const char *process;
		ctl_split_namespec(specs[i].spec, group, sizeof(group), &process, pbuf,
				   sizeof(pbuf));
		assert_string_equal(group, specs[i].group);
		if (specs[i].process)
			assert_string_equal(process, specs[i].process);
		else
			assert_null(process);
	}
	char spec[64];
	ctl_make_namespec(spec, sizeof(spec), "web", "web");
	assert_string_equal(spec, "web");
	ctl_make_namespec(spec, sizeof(spec), "g", "web");
	assert_string_equal(spec, "g:web");
}

static void test_tail_modifier(void **state)
{
	long long bytes = 1600;
	bool follow = false;
	assert_true(ctl_parse_tail_modifier("-f", &bytes, &follow));
	assert_true(follow);
	assert_true(ctl_parse_tail_modifier("-100", &bytes, &follow));
	assert_false(follow);
	assert_int_equal(bytes, 100);
	/* int() takes a sign: "--5" asks for -5 bytes, as in supervisorctl */
	assert_true(ctl_parse_tail_modifier("--5", &bytes, &follow));
	assert_int_equal(bytes, -5);
	bytes = 7;
	assert_false(ctl_parse_tail_modifier("-x", &bytes, &follow));
	assert_false(ctl_parse_tail_modifier("-", &bytes, &follow));
	assert_false(ctl_parse_tail_modifier("-10k", &bytes, &follow));
	assert_false(ctl_parse_tail_modifier("-99999999999999999999", &bytes, &follow));
	assert_int_equal(bytes, 7);
}

static struct xr_value *info(const char *group, const char *name, const char *statename,
			     const char *desc)
{
	struct xr_value *st = xr_struct();
	assert_true(xr_struct_set(st, "group", xr_string(group)));
	assert_true(xr_struct_set(st, "name", xr_string(name)));
	assert_true(xr_struct_set(st, "statename", xr_string(statename)));
	assert_true(xr_struct_set(st, "description", xr_string(desc)));
	return st;
}

/* What fn printed, as a malloc'd string. */
#define CAPTURE(out, call)                                                                         \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *f = open_memstream(&(out), &len_);                                           \
		assert_non_null(f);                                                                \
		call;                                                                              \
		fclose(f);                                                                         \
	} while (0)

static void test_status_table_padding(void **state)
{
	struct xr_value *v[3] = {info("web", "web", "RUNNING", "pid 7, uptime 0:00:05"),
				 info("g", "x", "STOPPED", "Not started"),
				 info("g", "x", "FATAL", "")};
	const struct xr_value *const *infos = (const struct xr_value *const *)v;
	char *out;
	/* the name column is 30 wide plus 3, the state column 10 */
	CAPTURE(out, ctl_status_table(f, infos, 2));
	assert_string_equal(out,
			    "web                              RUNNING   pid 7, uptime 0:00:05\n"
			    "g:x                              STOPPED   Not started\n");
	free(out);
	/* a longer name widens the column for every row */
	xr_free(v[2]);
	v[2] =
	    info("a-group-with-a-long-name", "and-a-long-process", "BACKOFF", "Exited too quickly");
	CAPTURE(out, ctl_status_table(f, infos, 3));
	assert_string_equal(
	    out, "web                                           RUNNING   pid 7, uptime 0:00:05\n"
		 "g:x                                           STOPPED   Not started\n"
		 "a-group-with-a-long-name:and-a-long-process   BACKOFF   Exited too quickly\n");
	free(out);
	CAPTURE(out, ctl_status_table(f, infos, 0));
	assert_string_equal(out, "");
	free(out);
	for (int i = 0; i < 3; i++)
		xr_free(v[i]);
}

static void test_status_json(void **state)
{
	struct xr_value *v[2] = {info("g", "x\"y", "RUNNING", "a\nb"),
				 info("w", "w", "EXITED", "")};
	assert_true(xr_struct_set(v[0], "pid", xr_int(42)));
	assert_true(xr_struct_set(v[0], "spawnerr", xr_bool(false)));
	assert_true(xr_struct_set(v[0], "cpu_seconds", xr_double(1.5)));
	assert_true(xr_struct_set(v[0], "odd", xr_array()));
	const struct xr_value *const *infos = (const struct xr_value *const *)v;
	char *out;
	CAPTURE(out, ctl_status_json(f, infos, 2));
	assert_string_equal(out,
			    "[\n {\"namespec\": \"g:x\\\"y\", \"group\": \"g\", \"name\": "
			    "\"x\\\"y\", \"statename\": \"RUNNING\", \"description\": "
			    "\"a\\nb\", \"pid\": 42, \"spawnerr\": false, \"cpu_seconds\": 1.5, "
			    "\"odd\": null},\n"
			    " {\"namespec\": \"w\", \"group\": \"w\", \"name\": \"w\", "
			    "\"statename\": \"EXITED\", \"description\": \"\"}\n]\n");
	free(out);
	CAPTURE(out, ctl_status_json(f, infos, 0));
	assert_string_equal(out, "[]\n");
	free(out);
	xr_free(v[0]);
	xr_free(v[1]);
}

static void test_columnize(void **state)
{
	/* cmd.Cmd.columnize(list, 79) of supervisorctl's help topics, as Python prints them */
	const char *names[ctl_nactions];
	size_t n = 0;
	for (size_t i = 0; i < ctl_nactions; i++)
		if (ctl_actions[i].help)
			names[n++] = ctl_actions[i].name;
	char *out;
	CAPTURE(out, ctl_columnize(f, names, n, 79));
	assert_string_equal(out, "add    exit      open  reload  restart   start   tail   \n"
				 "avail  fg        pid   remove  shutdown  status  update \n"
				 "clear  maintail  quit  reread  signal    stop    version\n");
	free(out);
	const char *few[] = {"a", "bb", "c"};
	CAPTURE(out, ctl_columnize(f, few, 3, 79));
	assert_string_equal(out, "a  bb  c\n");
	free(out);
	/* too wide for one row: the fewest rows that fit */
	CAPTURE(out, ctl_columnize(f, few, 3, 5));
	assert_string_equal(out, "a   c\nbb\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmdline_options),
	    cmocka_unit_test(test_cmdline_stops_at_the_first_action_word),
	    cmocka_unit_test(test_cmdline_errors_are_getopts),
	    cmocka_unit_test(test_cmdline_help),
	    cmocka_unit_test(test_words_and_namespecs),
	    cmocka_unit_test(test_tail_modifier),
	    cmocka_unit_test(test_status_table_padding),
	    cmocka_unit_test(test_status_json),
	    cmocka_unit_test(test_columnize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
