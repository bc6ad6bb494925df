/* The passwd/group reader (passwd.c), on files of the test's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "passwd.h"

static char dir[] = "/tmp/pidvisor-passwd-XXXXXX";
static char passwd[64], group[64];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	write_text(passwd, "root:x:0:0:root:/root:/bin/bash\n"
			   "# not a record\n"
			   "short:x:5\n"
			   "badnum:x:12a:7:bad:/:/bin/sh\n"
			   "www:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
			   "app:x:1000:1000:App,,,:/home/app:/bin/sh\n"
			   "dup:x:1001:1001::/first:/bin/sh\n"
			   "dup:x:1002:1002::/second:/bin/sh");
	write_text(group, "root:x:0:\n"
			  "app:x:1000:app\n" /* the primary group is not listed twice */
			  "adm:x:4:www,app\n"
			  "audio:x:29:other\n"
			  "garbage line\n"
			  "video:x:44:other,app,more\n");
	return 0;
}

static int teardown(void **state)
{
	unlink(passwd);
	unlink(group);
	return rmdir(dir);
}

static void test_by_name(void **state)
{
	struct user_info u;
	assert_int_equal(user_lookup_in(passwd, group, "app", &u), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.name, "app");
	assert_string_equal(u.home, "/home/app");
	assert_int_equal(u.ngroups, 3);
	assert_int_equal(u.groups[0], 1000);
	assert_int_equal(u.groups[1], 4);
	assert_int_equal(u.groups[2], 44);

	assert_int_equal(user_lookup_in(passwd, group, "www", &u), 0);
	assert_int_equal(u.uid, 33);
	assert_int_equal(u.ngroups, 2);
	assert_int_equal(u.groups[1], 4);

	assert_int_equal(user_lookup_in(passwd, group, "dup", &u), 0);
	assert_string_equal(u.home, "/first"); /* the first entry wins, as getpwnam */
	assert_int_equal(user_lookup_in(passwd, group, "nobody-here", &u), -1);
	assert_int_equal(user_lookup_in(passwd, group, "short", &u), -1);
	assert_int_equal(user_lookup_in(passwd, group, "badnum", &u), -1);
	assert_int_equal(user_lookup_in(passwd, group, "", &u), -1);
}

static void test_by_uid(void **state)
{
	struct user_info u;
	assert_int_equal(user_lookup_in(passwd, group, "33", &u), 0);
	assert_string_equal(u.name, "www");
	assert_int_equal(u.gid, 33);
	/* a uid with no entry is used as is, with gid = uid */
	assert_int_equal(user_lookup_in(passwd, group, "4242", &u), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 4242);
	assert_string_equal(u.name, "4242");
	assert_int_equal(u.ngroups, 1);
	/* and so with no passwd file at all (scratch images); a name is unknown there */
	assert_int_equal(user_lookup_in("/nonexistent/passwd", group, "77", &u), 0);
	assert_int_equal(u.uid, 77);
	assert_int_equal(user_lookup_in("/nonexistent/passwd", group, "app", &u), -1);
}

/* 2^32 would wrap to 0, root; (uid_t)-1 means "unchanged" to setuid; signs and spaces are not
 * digits */
static void test_uids_out_of_range_are_not_uids(void **state)
{
	static const char *const bad[] = {
	    "4294967296", "4294967295", "18446744073709551616", "-1", "+5", " 5", "5 ", "0x10"};
	struct user_info u;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (user_lookup_in(passwd, group, bad[i], &u) != -1)
			fail_msg("'%s' was taken as uid %u", bad[i], (unsigned)u.uid);
	assert_int_equal(user_lookup_in(passwd, group, "4294967294", &u), 0);
	assert_int_equal(u.uid, 4294967294u);
	gid_t g;
	assert_int_equal(group_lookup_in(group, "4294967296", &g), -1);
}

static void test_long_group_lines_keep_every_member(void **state)
{
	char path[80];
	snprintf(path, sizeof(path), "%s/biggroup", dir);
	size_t n = 20000;
	char *text = malloc(n * 12 + 64);
	char *p = text + sprintf(text, "big:x:500:");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "user%zu,", i);
	strcpy(p, "app\nsmall:x:501:app\n");
	write_text(path, text);
	free(text);
	struct user_info u;
	assert_int_equal(user_lookup_in(passwd, path, "app", &u), 0);
	assert_int_equal(u.ngroups, 3);
	assert_int_equal(u.groups[1], 500);
	assert_int_equal(u.groups[2], 501);
	unlink(path);
}

static void test_group_lookup(void **state)
{
	gid_t g = 0;
	assert_int_equal(group_lookup_in(group, "video", &g), 0);
	assert_int_equal(g, 44);
	assert_int_equal(group_lookup_in(group, "123", &g), 0);
	assert_int_equal(g, 123);
	assert_int_equal(group_lookup_in(group, "nosuch", &g), -1);
	assert_int_equal(group_lookup_in(group, "garbage line", &g), -1);
	assert_int_equal(group_lookup_in("/nonexistent/group", "video", &g), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_by_name),
	    cmocka_unit_test(test_by_uid),
	    cmocka_unit_test(test_uids_out_of_range_are_not_uids),
	    cmocka_unit_test(test_long_group_lines_keep_every_member),
	    cmocka_unit_test(test_group_lookup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
