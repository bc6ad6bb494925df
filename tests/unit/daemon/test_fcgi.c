/* An fcgi-program group's socket from a config string, without spawning: created by the first
 * acquire, shared while any process of the group has a child, closed after the last; supervisord's
 * names and messages; Python's normpath. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "fcgi.h"
#include "supervisor.h"

static char dir[] = "/tmp/test_fcgi.XXXXXX";
static char sock_path[256];

static struct config *load(const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/pidvisor.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[supervisord]\nloglevel=critical\n%s", text);
	fclose(f);
	struct diag d = {0};
	struct config *cfg = config_load(path, NULL, &d);
	diag_free(&d);
	assert_non_null(cfg);
	return cfg;
}

/* a supervisor on text, its programs not started: the group "web" */
static struct pgroup *start(struct supervisor *sv, const char *text)
{
	assert_int_equal(supervisor_init(sv, ev_default_loop(0), load(text)), 0);
	return supervisor_find_group(sv, "web");
}

static void finish(struct supervisor *sv)
{
	supervisor_free(sv);
	config_free(sv->cfg);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/web.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* 0 when something listens at path, else the errno of connect */
static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	return rc;
}

static void fake_spawn(struct process *p, pid_t pid, int *stdin_sock)
{
	char *err = NULL;
	int fds[3], pipefd[2];
	assert_int_equal(fcgi_acquire(p, &err), 0);
	assert_null(err);
	assert_int_equal(pipe(pipefd), 0);
	fds[0] = pipefd[0];
	fds[1] = fds[2] = -1;
	p->stdin_fd = pipefd[1];
	assert_int_equal(fcgi_child_stdin(p, fds, &err), 0);
	assert_int_equal(p->stdin_fd, -1);
	int listening = 0;
	socklen_t n = sizeof(listening);
	assert_int_equal(getsockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &listening, &n), 0);
	assert_int_equal(listening, 1);
	*stdin_sock = fds[0];
	p->pid = pid;
}

static void test_shared_while_a_child_lives(void **state)
{
	char text[512];
	struct supervisor sv = {0};
	(void)state;
	snprintf(text, sizeof(text),
		 "[fcgi-program:web]\nsocket=unix://%s\ncommand=/bin/true\nnumprocs=2\n"
		 "process_name=%%(program_name)s_%%(process_num)d\nsocket_mode=0640\n"
		 "[program:plain]\ncommand=/bin/true\n",
		 sock_path);
	struct pgroup *g = start(&sv, text);
	assert_non_null(g->fcgi);
	assert_null(supervisor_find_group(&sv, "plain")->fcgi);
	char url[300];
	snprintf(url, sizeof(url), "unix://%s", sock_path);
	assert_string_equal(fcgi_url(g->fcgi), url);
	/* checked when the group was added, then closed; the file stays, as in supervisord */
	struct stat st;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(try_connect(sock_path), ECONNREFUSED);

	int s0, s1;
	fake_spawn(g->procs[0], 100, &s0);
	assert_int_equal(try_connect(sock_path), 0);
	fake_spawn(g->procs[1], 101, &s1);
	struct stat a, b;
	assert_int_equal(fstat(s0, &a), 0);
	assert_int_equal(fstat(s1, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);

	g->procs[0]->pid = 0;
	fcgi_release(g->procs[0]);
	assert_int_equal(try_connect(sock_path), 0);
	g->procs[1]->pid = 0;
	fcgi_release(g->procs[1]);
	/* the children's copies keep it listening until they close them */
	close(s0);
	close(s1);
	assert_int_equal(try_connect(sock_path), ECONNREFUSED);

	/* and a fresh one the next time */
	fake_spawn(g->procs[1], 102, &s1);
	assert_int_equal(fstat(s1, &b), 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	close(s1);
	g->procs[1]->pid = 0;
	fcgi_release(g->procs[1]);
	finish(&sv);
}

static void test_failure_is_supervisords_message(void **state)
{
	char text[512], want[512];
	struct supervisor sv = {0};
	char *err = NULL;
	(void)state;
	snprintf(text, sizeof(text),
		 "[fcgi-program:web]\nsocket=unix://%s/none/../missing/./x.sock\n"
		 "command=/bin/true\n",
		 dir);
	struct pgroup *g = start(&sv, text);
	assert_int_equal(fcgi_acquire(g->procs[0], &err), -1);
	snprintf(want, sizeof(want),
		 "Could not create FastCGI socket unix://%s/missing/x.sock: [Errno 2] No such "
		 "file or directory",
		 dir);
	assert_string_equal(err, want);
	free(err);
	/* no socket: the child keeps its stdin pipe */
	int fds[3] = {-1, -1, -1};
	assert_int_equal(fcgi_child_stdin(g->procs[0], fds, &err), 0);
	assert_int_equal(fds[0], -1);
	fcgi_release(g->procs[0]);
	finish(&sv);
}

static void test_tcp_url_as_supervisord_prints_it(void **state)
{
	char text[512], want[64];
	struct supervisor sv = {0};
	(void)state;
	int probe = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(sa);
	assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &n), 0);
	close(probe);
	snprintf(text, sizeof(text),
		 "[fcgi-program:web]\nsocket=tcp://LocalHost:0%d\ncommand=/bin/true\n",
		 ntohs(sa.sin_port));
	snprintf(want, sizeof(want), "tcp://localhost:%d", ntohs(sa.sin_port));
	assert_string_equal(fcgi_url(start(&sv, text)->fcgi), want);
	finish(&sv);
}

static void test_normpath_as_python(void **state)
{
	static const char *const cases[][2] = {
	    {"/a/b/c", "/a/b/c"}, {"//a/b", "//a/b"},
	    {"///a//b/", "/a/b"}, {"/a/./b/../c", "/a/c"},
	    {"/../..", "/"},	  {"/a/b/..", "/a"},
	    {"/.", "/"},	  {"/a/../../b/./", "/b"},
	    {"//", "//"},	  {"/a/b/c/../../../..", "/"},
	};
	char out[64];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(fcgi_normpath(cases[i][0], out, sizeof(out)));
		assert_string_equal(out, cases[i][1]);
	}
	assert_false(fcgi_normpath("/abcdef", out, 7));
	assert_true(fcgi_normpath("/abcdef", out, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shared_while_a_child_lives),
	    cmocka_unit_test(test_failure_is_supervisords_message),
	    cmocka_unit_test(test_tcp_url_as_supervisord_prints_it),
	    cmocka_unit_test(test_normpath_as_python),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
