/* The value parsers of values.c. */
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

#include "signals.h"
#include "values.h"

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

/* supervisord refuses an empty item; one trailing comma is fine */
static void test_environment_empty_items(void **state)
{
	static const char *const bad[] = {"A=1,,B=2", ",A=1", "A=1, ,B=2", ",", "A=1,,"};
	struct strvec sv = {0};
	char *why = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_environment(bad[i], &sv, &why), -1);
		assert_non_null(strstr(why, "empty item"));
		assert_int_equal(sv.n, 0);
		free(why);
	}
	assert_int_equal(parse_environment("A=1,B=2,", &sv, &why), 0);
	assert_int_equal(sv.n, 2);
	sv_free(&sv);
	assert_int_equal(parse_environment(" A=1 , B=2 ", &sv, &why), 0);
	assert_int_equal(sv.n, 2);
	assert_string_equal(sv.v[1], "B=2");
	sv_free(&sv);
	assert_int_equal(parse_environment("", &sv, &why), 0);
	assert_int_equal(sv.n, 0);
}

/* An unquoted # is a comment to the end of the line, as for supervisord's shlex: accepted with a
 * warning naming what was dropped; inside a word the word goes on after the newline. */
static void test_environment_hash_comment(void **state)
{
	static const struct {
		const char *in;
		const char *first, *last; /* NULL first: refused */
		size_t n;
	} cases[] = {
	    {"A=1#c", "A=1", "A=1", 1},
	    {"COLOR=red#fff,GONE=1\n,KEPT=2", "COLOR=red", "KEPT=2", 2},
	    {"A=1,#B=2\nC=3", "A=1", "C=3", 2},
	    {"A='x#y'", "A=x#y", "A=x#y", 1},
	    {"COLOR=red#fff,GONE=1\nKEPT=2", NULL, NULL, 0}, /* the word goes on: redKEPT */
	    {"A=\"x\"#c\nB=1", NULL, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strvec sv = {0};
		char *why = NULL;
		int rc = parse_environment(cases[i].in, &sv, &why);
		if (!cases[i].first) {
			assert_int_equal(rc, -1);
			free(why);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(sv.n, cases[i].n);
		assert_string_equal(sv.v[0], cases[i].first);
		assert_string_equal(sv.v[sv.n - 1], cases[i].last);
		if (strchr(cases[i].first, '#'))
			assert_null(why);
		else
			assert_non_null(strstr(why, "is dropped"));
		free(why);
		sv_free(&sv);
	}
}

static void envfile_ok(const char *text, const char *const *want, size_t n)
{
	struct strvec out = {0};
	int line = 0;
	char *why = NULL;
	assert_int_equal(parse_envfile(text, strlen(text), &out, &line, &why), 0);
	assert_null(why);
	assert_int_equal(out.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out.v[i], want[i]);
	sv_free(&out);
}

static void test_envfile(void **state)
{
	static const char *const want[] = {"A=1", "B=two words", "C=x=y", "D=", "E=it's", "F.G=h"};
	envfile_ok("# a comment\nA=1\n\n  export B=\"two words\"  \nC=x=y\nD=\nE=it's\nF.G='h'",
		   want, 6);
	envfile_ok("", NULL, 0);
	static const char *const one[] = {"K=v"};
	envfile_ok("\r\n  # only\nK=v\r\n", one, 1);

	static const struct {
		const char *text;
		int line;
	} bad[] = {{"A=1\nnot an assignment\n", 2},
		   {"=v\n", 1},
		   {"1A=v\n", 1},
		   {"A=1\nB=2\nexport\n", 3},
		   {"A B=1\n", 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strvec out = {0};
		int line = 0;
		char *why = NULL;
		assert_int_equal(parse_envfile(bad[i].text, strlen(bad[i].text), &out, &line, &why),
				 -1);
		assert_int_equal(line, bad[i].line);
		assert_non_null(strstr(why, "expected KEY=value"));
		free(why);
		sv_free(&out);
	}
	const char nul[] = "A=x\0y\n";
	struct strvec out = {0};
	int line = 0;
	char *why = NULL;
	assert_int_equal(parse_envfile(nul, sizeof(nul) - 1, &out, &line, &why), -1);
	assert_non_null(strstr(why, "NUL"));
	free(why);
	sv_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_parsers),
	    cmocka_unit_test(test_environment_and_command),
	    cmocka_unit_test(test_environment_empty_items),
	    cmocka_unit_test(test_environment_hash_comment),
	    cmocka_unit_test(test_envfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
