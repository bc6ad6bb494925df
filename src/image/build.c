#include "build.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "generate.h"
#include "util.h"

const char *build_docker_path(const char *option)
{
	const char *env = getenv("PIDVISOR_DOCKER");
	return option ? option : env && *env ? env : "docker";
}

/* Runs argv with our stdout/stderr (docker's progress is the user's progress). Returns its exit
 * status, 128+N when killed by signal N, 127 when it cannot be run. */
static int run(char *const *argv)
{
	fflush(stdout);
	fflush(stderr);
	/* as system(): ^C goes to docker, and we stop once it has, cleaning up after it */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pidvisor-image: fork: %s\n", strerror(errno));
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		return 127;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "pidvisor-image: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status, rc = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rc = 127;
			break;
		}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (rc)
		return rc;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int build_context(char *dir, const struct build_opts *o, const char *tag)
{
	struct strvec argv = {0};
	sv_push(&argv, xstrdup(o->docker));
	sv_push(&argv, xstrdup("build"));
	sv_push(&argv, xstrdup("-t"));
	sv_push(&argv, xstrdup(tag));
	if (o->network) {
		sv_push(&argv, xstrdup("--network"));
		sv_push(&argv, xstrdup(o->network));
	}
	if (o->no_cache)
		sv_push(&argv, xstrdup("--no-cache"));
	sv_push(&argv, dir);
	int rc = run(argv.v);
	sv_free(&argv);
	return rc;
}

static int build_one(const struct stack *st, size_t i, const struct build_opts *o, const char *tag)
{
	int rc = build_context(context_dir(st, i, o->contexts), o, tag);
	if (rc == 0 && o->push) {
		char *push[] = {(char *)o->docker, "push", (char *)tag, NULL};
		rc = run(push);
	}
	return rc;
}

/* PIDVISOR_IMAGE, which roots copy pidvisor from, when generate_contexts() wrote its context:
 * the same image as `make image`, so docker's cache makes it a no-op after the first time. */
static int build_pidvisor_image(const struct build_opts *o)
{
	char *dir = xasprintf("%s/%s", o->contexts, PIDVISOR_CONTEXT);
	if (access(dir, F_OK) != 0) {
		free(dir);
		return 0;
	}
	printf("building %s ...\n", PIDVISOR_IMAGE);
	int rc = build_context(dir, o, PIDVISOR_IMAGE);
	if (rc != 0)
		fprintf(stderr, "pidvisor-image: %s failed (docker exit status %d)\n",
			PIDVISOR_IMAGE, rc);
	return rc;
}

int build_images(const struct stack *st, const size_t *order, size_t n, const struct build_opts *o)
{
	double all = now();
	int rc = build_pidvisor_image(o);
	if (rc != 0)
		return rc;
	for (size_t k = 0; k < n; k++) {
		const struct image *im = &st->images[order[k]];
		char *tag = xasprintf("%s%s", o->tag_prefix ? o->tag_prefix : "", im->name.s);
		printf("[%zu/%zu] building %s ...\n", k + 1, n, tag);
		double t0 = now();
		rc = build_one(st, order[k], o, tag);
		if (rc != 0) {
			fprintf(stderr,
				"pidvisor-image: %s failed after %.1f s (docker exit status %d)\n",
				tag, now() - t0, rc);
			free(tag);
			return rc;
		}
		printf("%s built in %.1f s\n", tag, now() - t0);
		free(tag);
	}
	printf("%zu image%s built in %.1f s\n", n, n == 1 ? "" : "s", now() - all);
	return 0;
}
