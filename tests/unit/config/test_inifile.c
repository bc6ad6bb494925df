/* supervisord's INI dialect as inifile.c reads it, and the bounds on what it reads. */
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
#include <fcntl.h>

#include "inifile.h"

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

static void test_nul_byte_is_an_error_with_line_and_column(void **state)
{
	static const char text[] = "[a]\nk=v\nbad=x\0y\nafter=1\n";
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(ini_load_string(&doc, "t.conf", text, sizeof(text) - 1, &d), -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].text, "t.conf:3: NUL byte at column 6"));
	assert_null(ini_get(&doc, "a", "bad")); /* nothing of the file is taken */
	ini_free(&doc);
	diag_free(&d);
}

static int load_path(const char *path, struct diag *d)
{
	struct ini_doc doc = {0};
	int rc = ini_load(&doc, path, d);
	ini_free(&doc);
	return rc;
}

static void test_only_regular_files_are_read(void **state)
{
	char dir[] = "/tmp/pidvisor-ini-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct diag d = {0};
	/* returns at once: opening a FIFO for reading would otherwise wait for a writer */
	assert_int_equal(load_path(fifo, &d), -1);
	assert_non_null(strstr(d.items[0].text, "fifo: not a regular file"));
	assert_int_equal(load_path("/dev/zero", &d), -1);
	assert_non_null(strstr(d.items[1].text, "/dev/zero: not a regular file"));
	assert_int_equal(load_path(dir, &d), -1);
	assert_non_null(strstr(d.items[2].text, "not a regular file"));
	assert_int_equal(load_path("/nonexistent/x.conf", &d), -1);
	assert_non_null(strstr(d.items[3].text, "/nonexistent/x.conf: cannot open: No such file"));
	diag_free(&d);
	unlink(fifo);
	rmdir(dir);
}

static void test_file_size_cap(void **state)
{
	char path[] = "/tmp/pidvisor-ini-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char head[] = "[a]\nk=v\n";
	assert_int_equal(write(fd, head, sizeof(head) - 1), sizeof(head) - 1);
	/* comment bytes up to the cap exactly: read whole */
	assert_int_equal(ftruncate(fd, INI_MAX_FILE_BYTES - 1), 0);
	assert_int_equal(pwrite(fd, "\n", 1, INI_MAX_FILE_BYTES - 1), 1);
	for (off_t off = sizeof(head) - 1; off < INI_MAX_FILE_BYTES - 1; off += 1 << 20) {
		size_t n =
		    INI_MAX_FILE_BYTES - 1 - off < 1 << 20 ? INI_MAX_FILE_BYTES - 1 - off : 1 << 20;
		char *semis = malloc(n);
		memset(semis, ';', n);
		assert_int_equal(pwrite(fd, semis, n, off), (ssize_t)n);
		free(semis);
	}
	struct ini_doc doc = {0};
	struct diag d = {0};
	assert_int_equal(ini_load(&doc, path, &d), 0);
	assert_string_equal(ini_get(&doc, "a", "k"), "v");
	ini_free(&doc);
	/* one byte more: refused by its size, before reading */
	assert_int_equal(ftruncate(fd, INI_MAX_FILE_BYTES + 1), 0);
	assert_int_equal(ini_load(&doc, path, &d), -1);
	assert_non_null(strstr(d.items[0].text, "larger than 16 MiB"));
	ini_free(&doc);
	diag_free(&d);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comments_and_delimiters),
	    cmocka_unit_test(test_sections_case_duplicates_default),
	    cmocka_unit_test(test_continuation_lines_and_line_numbers),
	    cmocka_unit_test(test_long_lines_parse_exactly),
	    cmocka_unit_test(test_malformed_lines_are_errors_with_lines),
	    cmocka_unit_test(test_nul_byte_is_an_error_with_line_and_column),
	    cmocka_unit_test(test_only_regular_files_are_read),
	    cmocka_unit_test(test_file_size_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
