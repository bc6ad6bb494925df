/* cgroup.c against texts as the kernel writes them (/proc/self/cgroup, mountinfo) and a fake
 * cgroup tree in a temp dir: what it finds on a hybrid v1 host and on v2, the files it writes
 * for a program and what they hold, and why it says no. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

/* a hybrid host: memory and cpu on v1, the unified mount with hugetlb only */
static const char hybrid_self[] = "9:name=systemd:/\n"
				  "4:memory:/process_api/c47\n"
				  "2:cpuacct:/\n"
				  "1:cpu,cpuacct:/jobs/7\n"
				  "0::/\n";

static const char hybrid_mounts[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char v2_self[] = "0::/ctr\n";
static const char v2_mounts[] =
    "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "25 1 0:22 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

static char root[64];

static void path_of(char *buf, size_t n, const char *rel)
{
	snprintf(buf, n, "%s%s", root, rel);
}

static void make_dirs(const char *rel)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	path_of(path, sizeof(path), rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* rel's text, trailing newline cut */
static const char *text_of(const char *rel)
{
	static char text[256];
	char path[512];
	path_of(path, sizeof(path), rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	return text;
}

static bool exists(const char *rel)
{
	char path[512];
	struct stat st;
	path_of(path, sizeof(path), rel);
	return stat(path, &st) == 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/pidvisor-cgroup-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_self(void **state)
{
	char path[256];
	(void)state;
	assert_int_equal(cg_parse_self(hybrid_self, "memory", path, sizeof(path)), 0);
	assert_string_equal(path, "/process_api/c47");
	/* "cpu" is a word of "cpu,cpuacct", not a prefix of "cpuacct" */
	assert_int_equal(cg_parse_self(hybrid_self, "cpu", path, sizeof(path)), 0);
	assert_string_equal(path, "/jobs/7");
	assert_int_equal(cg_parse_self(hybrid_self, NULL, path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	assert_int_equal(cg_parse_self(v2_self, NULL, path, sizeof(path)), 0);
	assert_string_equal(path, "/ctr");
	assert_int_equal(cg_parse_self(v2_self, "memory", path, sizeof(path)), -1);
	assert_int_equal(cg_parse_self("4:memory:/a\n", NULL, path, sizeof(path)), -1);
	assert_int_equal(cg_parse_self("", "memory", path, sizeof(path)), -1);
	assert_int_equal(cg_parse_self("garbage\n4:memory\n", "memory", path, sizeof(path)), -1);
	assert_int_equal(cg_parse_self(hybrid_self, "memory", path, 5), -1); /* no room */
}

static void test_parse_mount(void **state)
{
	char dir[256];
	(void)state;
	assert_int_equal(
	    cg_parse_mount(hybrid_mounts, "memory", "/process_api/c47", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/memory/process_api/c47");
	assert_int_equal(cg_parse_mount(hybrid_mounts, "cpu", "/jobs/7", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/cpu,cpuacct/jobs/7");
	assert_int_equal(cg_parse_mount(hybrid_mounts, NULL, "/", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/unified");
	assert_int_equal(cg_parse_mount(hybrid_mounts, "pids", "/", dir, sizeof(dir)), -1);
	assert_int_equal(cg_parse_mount(v2_mounts, NULL, "/ctr", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/cgroup/ctr");
	/* a mount of a subtree (a container's): paths below its root only; escapes undone */
	static const char sub[] =
	    "40 1 0:22 /docker/ab /sys/fs/my\\040cg rw - cgroup2 cgroup2 rw\n";
	assert_int_equal(cg_parse_mount(sub, NULL, "/docker/ab/x", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/my cg/x");
	assert_int_equal(cg_parse_mount(sub, NULL, "/docker/ab", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/sys/fs/my cg");
	assert_int_equal(cg_parse_mount(sub, NULL, "/docker/abc", dir, sizeof(dir)), -1);
	assert_int_equal(cg_parse_mount(sub, NULL, "/other", dir, sizeof(dir)), -1);
	assert_int_equal(cg_parse_mount("no separator here\n", NULL, "/", dir, sizeof(dir)), -1);
}

static void test_v1_program(void **state)
{
	struct cg_host h;
	struct cg_join j;
	char err[512];
	(void)state;
	make_dirs("/sys/fs/cgroup/memory/process_api/c47");
	make_dirs("/sys/fs/cgroup/cpu,cpuacct/jobs/7");
	make_dirs("/sys/fs/cgroup/unified");
	put("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
	cg_detect(&h, root, hybrid_self, hybrid_mounts);
	assert_int_equal(h.ver[CG_MEMORY], CG_V1);
	assert_int_equal(h.ver[CG_CPU], CG_V1);
	assert_string_equal(cg_describe(&h, CG_MEMORY), "cgroup v1 memory");
	assert_string_equal(cg_describe(&h, CG_CPU), "cgroup v1 cpu");
	assert_false(exists("/sys/fs/cgroup/unified/pidvisor")); /* v2 offers neither */

	assert_int_equal(cg_program_enter(&h, "web", 64LL << 20, 500, &j, err, sizeof(err)), 0);
	assert_true(j.fd[CG_MEMORY] >= 0 && j.fd[CG_CPU] >= 0);
	const char *mem = "/sys/fs/cgroup/memory/process_api/c47/program-web";
	const char *cpu = "/sys/fs/cgroup/cpu,cpuacct/jobs/7/program-web";
	char rel[256];
	snprintf(rel, sizeof(rel), "%s/memory.limit_in_bytes", mem);
	assert_string_equal(text_of(rel), "67108864");
	snprintf(rel, sizeof(rel), "%s/cpu.cfs_period_us", cpu);
	assert_string_equal(text_of(rel), "100000");
	snprintf(rel, sizeof(rel), "%s/cpu.cfs_quota_us", cpu);
	assert_string_equal(text_of(rel), "50000");
	assert_int_equal(cg_join_done(&j, 4242), 0);
	assert_int_equal(j.fd[CG_MEMORY], -1);
	snprintf(rel, sizeof(rel), "%s/cgroup.procs", cpu);
	assert_string_equal(text_of(rel), "4242");

	snprintf(rel, sizeof(rel), "%s/memory.oom_control", mem);
	put(rel, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	assert_int_equal(cg_oom_kills(&h, "web"), 3);
	assert_int_equal(cg_oom_kills(&h, "nobody"), -1);

	/* a reused cgroup gets the limit anew; memory only: no cpu cgroup on v1 */
	assert_int_equal(cg_program_enter(&h, "web", 1LL << 30, 0, &j, err, sizeof(err)), 0);
	assert_true(j.fd[CG_MEMORY] >= 0 && j.fd[CG_CPU] == -1);
	cg_join_done(&j, 0);
	snprintf(rel, sizeof(rel), "%s/memory.limit_in_bytes", mem);
	assert_string_equal(text_of(rel), "1073741824");
	assert_int_equal(cg_program_enter(&h, "db", 1LL << 20, 0, &j, err, sizeof(err)), 0);
	cg_join_done(&j, 0);
	assert_false(exists("/sys/fs/cgroup/cpu,cpuacct/jobs/7/program-db"));

	/* removed when empty (the real files are the kernel's: here they go first) */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -f '%s%s'/* '%s%s'/*", root, mem, root, cpu);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(cg_program_remove(&h, "web"), 0);
	assert_false(exists(mem));
	assert_false(exists(cpu));
	assert_int_equal(cg_program_remove(&h, "web"), 0); /* already gone */

	/* not PID 1: this pidvisor's own, beside another's of the same name */
	h.instance = 4242;
	assert_int_equal(cg_program_enter(&h, "web", 64LL << 20, 0, &j, err, sizeof(err)), 0);
	cg_join_done(&j, 0);
	assert_true(exists("/sys/fs/cgroup/memory/process_api/c47/program-web@4242"));
	assert_false(exists(mem));
	assert_true(cg_program_dir(&h, CG_CPU, "web", rel, sizeof(rel)));
	assert_string_equal(rel + strlen(root),
			    "/sys/fs/cgroup/cpu,cpuacct/jobs/7/program-web@4242");
	/* one that stays says why (not the ENOENT of the cpu cgroup it never had) */
	assert_int_equal(cg_program_remove(&h, "web"), -1);
	assert_int_equal(errno, ENOTEMPTY);
}

static void test_v2_program(void **state)
{
	struct cg_host h;
	struct cg_join j;
	char err[512];
	(void)state;
	make_dirs("/sys/fs/cgroup/ctr");
	put("/sys/fs/cgroup/ctr/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	cg_detect(&h, root, v2_self, v2_mounts);
	assert_int_equal(h.ver[CG_MEMORY], CG_V2);
	assert_int_equal(h.ver[CG_CPU], CG_V2);
	assert_string_equal(cg_describe(&h, CG_CPU), "cgroup v2");
	/* pidvisor moved itself into its leaf, then handed the controllers down */
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/pidvisor/cgroup.procs"), "0");
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/cgroup.subtree_control"), "+memory +cpu");

	assert_int_equal(cg_program_enter(&h, "web", 64LL << 20, 250, &j, err, sizeof(err)), 0);
	assert_true(j.fd[CG_MEMORY] >= 0);
	assert_int_equal(j.fd[CG_CPU], -1); /* one cgroup for both */
	cg_join_done(&j, 0);
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/program-web/memory.max"), "67108864");
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/program-web/cpu.max"), "25000 100000");
	assert_int_equal(cg_program_enter(&h, "spin", 0, 2000, &j, err, sizeof(err)), 0);
	cg_join_done(&j, 0);
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/program-spin/memory.max"), "max");
	assert_string_equal(text_of("/sys/fs/cgroup/ctr/program-spin/cpu.max"), "200000 100000");
	put("/sys/fs/cgroup/ctr/program-web/memory.events",
	    "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n");
	assert_int_equal(cg_oom_kills(&h, "web"), 2);
}

static void test_v2_refused(void **state)
{
	struct cg_host h;
	(void)state;
	/* only cpu offered; its subtree_control cannot be written (a directory, here) */
	make_dirs("/sys/fs/cgroup/ctr/cgroup.subtree_control");
	put("/sys/fs/cgroup/ctr/cgroup.controllers", "cpu pids\n");
	cg_detect(&h, root, v2_self, v2_mounts);
	assert_int_equal(h.ver[CG_CPU], CG_NONE);
	assert_non_null(strstr(h.why[CG_CPU], "cannot write '+cpu' to "));
	assert_non_null(strstr(h.why[CG_CPU], "/ctr/cgroup.subtree_control: Is a directory"));
	/* memory, not offered by v2, is looked for on v1: there is none */
	assert_string_equal(h.why[CG_MEMORY], "no cgroup v2 offers memory and /proc/self/cgroup "
					      "names no v1 memory hierarchy");
}

static void test_why_not(void **state)
{
	struct cg_host h;
	struct cg_join j;
	char err[512];
	(void)state;
	/* named, but the directory is not there (nor writable) */
	cg_detect(&h, root, hybrid_self, hybrid_mounts);
	assert_int_equal(h.ver[CG_MEMORY], CG_NONE);
	assert_non_null(strstr(h.why[CG_MEMORY], "/sys/fs/cgroup/memory/process_api/c47 is not "
						 "writable: No such file or directory"));
	assert_string_equal(cg_describe(&h, CG_MEMORY), "no cgroup");
	/* no hierarchy at all */
	cg_detect(&h, root, "0::/\n", "");
	assert_string_equal(
	    h.why[CG_CPU],
	    "no cgroup v2 offers cpu and /proc/self/cgroup names no v1 cpu hierarchy");
	cg_detect(&h, root, "4:memory:/a\n", "");
	assert_string_equal(h.why[CG_MEMORY],
			    "no mount of the cgroup v1 memory hierarchy holds /a");
	/* nothing to enter, nothing opened */
	assert_int_equal(cg_program_enter(&h, "web", 1 << 20, 500, &j, err, sizeof(err)), 0);
	assert_int_equal(j.fd[CG_MEMORY], -1);
	assert_int_equal(j.fd[CG_CPU], -1);
	/* a cgroup that cannot be made is an error naming it */
	cg_detect(&h, root, hybrid_self, hybrid_mounts);
	snprintf(h.dir[CG_MEMORY], sizeof(h.dir[CG_MEMORY]), "%s/absent", root);
	h.ver[CG_MEMORY] = CG_V1;
	assert_int_equal(cg_program_enter(&h, "web", 1 << 20, 0, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot make "));
	assert_non_null(strstr(err, "/absent/program-web: No such file or directory"));
	assert_int_equal(j.fd[CG_MEMORY], -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_self),
	    cmocka_unit_test(test_parse_mount),
	    cmocka_unit_test_setup_teardown(test_v1_program, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_program, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_why_not, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
