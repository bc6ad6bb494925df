/* The one log-file module: whole lines, rotation at maxbytes with backups, reopen, removal. */
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

#include "logfile.h"

static char dir[] = "/tmp/pidvisor-logfile-XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Two buffers, so that rename(path_of(a), path_of(b)) works. */
static char *path_of(const char *name)
{
	static char p[2][256];
	static int k;
	k = !k;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static long long size_of(const char *name)
{
	struct stat st;
	return stat(path_of(name), &st) == 0 ? (long long)st.st_size : -1;
}

static char *slurp(const char *name)
{
	static char buf[65536];
	FILE *f = fopen(path_of(name), "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static struct logfile make(const char *name, long long maxbytes, long long backups)
{
	struct logfile lf = {.fd = -1, .maxbytes = maxbytes, .backups = backups};
	lf.path = strdup(path_of(name));
	assert_int_equal(logfile_open(&lf), 0);
	return lf;
}

static void done(struct logfile *lf)
{
	logfile_close(lf);
	free(lf->path);
}

/* 10-byte lines, 25-byte limit: two lines a file, the third starts the next file. */
static void rotates_before_a_line_would_pass_maxbytes(void **state)
{
	(void)state;
	struct logfile lf = make("a.log", 25, 2);
	for (int i = 0; i < 5; i++) {
		char line[32];
		snprintf(line, sizeof(line), "line %04d\n", i);
		logfile_write(&lf, line, 10);
		assert_true(size_of("a.log") <= 25);
	}
	assert_string_equal(slurp("a.log"), "line 0004\n");
	assert_string_equal(slurp("a.log.1"), "line 0002\nline 0003\n");
	assert_string_equal(slurp("a.log.2"), "line 0000\nline 0001\n");
	assert_int_equal(size_of("a.log.3"), -1); /* backups=2 keeps two */
	done(&lf);
}

/* A batch of many lines in one write is split at line ends across rotations. */
static void a_batch_of_lines_is_split_at_line_ends(void **state)
{
	(void)state;
	struct logfile lf = make("b.log", 25, 5);
	const char *batch = "aaaaaaaaa\nbbbbbbbbb\nccccccccc\nddddddddd\neeeeeeeee\n";
	logfile_write(&lf, batch, strlen(batch));
	assert_string_equal(slurp("b.log.2"), "aaaaaaaaa\nbbbbbbbbb\n");
	assert_string_equal(slurp("b.log.1"), "ccccccccc\nddddddddd\n");
	assert_string_equal(slurp("b.log"), "eeeeeeeee\n");
	done(&lf);
}

static void no_backups_truncates(void **state)
{
	(void)state;
	struct logfile lf = make("c.log", 25, 0);
	for (int i = 0; i < 3; i++)
		logfile_write(&lf, "123456789\n", 10);
	assert_string_equal(slurp("c.log"), "123456789\n");
	assert_int_equal(size_of("c.log.1"), -1);
	done(&lf);
}

/* Only a single line longer than maxbytes makes a larger file, and it stays whole. */
static void a_line_longer_than_maxbytes_stays_whole(void **state)
{
	(void)state;
	struct logfile lf = make("d.log", 8, 1);
	logfile_write(&lf, "ab\n", 3);
	logfile_write(&lf, "0123456789abcdef\n", 17);
	assert_string_equal(slurp("d.log"), "0123456789abcdef\n");
	assert_string_equal(slurp("d.log.1"), "ab\n");
	done(&lf);
}

/* An existing file's size counts toward maxbytes. */
static void appends_and_counts_what_is_there(void **state)
{
	(void)state;
	FILE *f = fopen(path_of("e.log"), "w");
	fputs("old line\n", f);
	fclose(f);
	struct logfile lf = make("e.log", 12, 1);
	logfile_write(&lf, "new\n", 4);
	assert_string_equal(slurp("e.log"), "new\n");
	assert_string_equal(slurp("e.log.1"), "old line\n");
	done(&lf);
}

/* SIGUSR2 after logrotate moved the file: the next lines go to a new file at the path. */
static void reopen_follows_the_path(void **state)
{
	(void)state;
	struct logfile lf = make("f.log", 0, 0);
	logfile_write(&lf, "before\n", 7);
	assert_int_equal(rename(path_of("f.log"), path_of("f.log.moved")), 0);
	logfile_write(&lf, "still old\n", 10);
	assert_int_equal(logfile_reopen(&lf), 0);
	logfile_write(&lf, "after\n", 6);
	assert_string_equal(slurp("f.log.moved"), "before\nstill old\n");
	assert_string_equal(slurp("f.log"), "after\n");
	done(&lf);
}

/* A file removed under it is noticed at the next check and opened anew; while it cannot be
 * opened, lines are counted as dropped. */
static void a_removed_file_is_opened_anew(void **state)
{
	(void)state;
	struct logfile lf = make("g.log", 0, 0);
	logfile_write(&lf, "one\n", 4);
	assert_int_equal(unlink(path_of("g.log")), 0);
	lf.next_check = 0; /* the once-a-second check is due */
	logfile_write(&lf, "two\n", 4);
	assert_string_equal(slurp("g.log"), "two\n");
	done(&lf);

	struct logfile gone = {.fd = -1, .path = strdup(path_of("nodir/h.log"))};
	assert_int_equal(logfile_start(&gone), -1);
	assert_true(gone.failing);
	logfile_write(&gone, "lost\n", 5);
	assert_int_equal(gone.lost, 5);
	char sub[256];
	snprintf(sub, sizeof(sub), "%s/nodir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	gone.next_check = 0;
	logfile_write(&gone, "back\n", 5);
	assert_string_equal(slurp("nodir/h.log"), "back\n");
	done(&gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rotates_before_a_line_would_pass_maxbytes),
	    cmocka_unit_test(a_batch_of_lines_is_split_at_line_ends),
	    cmocka_unit_test(no_backups_truncates),
	    cmocka_unit_test(a_line_longer_than_maxbytes_stays_whole),
	    cmocka_unit_test(appends_and_counts_what_is_there),
	    cmocka_unit_test(reopen_follows_the_path),
	    cmocka_unit_test(a_removed_file_is_opened_anew),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
