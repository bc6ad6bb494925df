#include "reap.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool have_children(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	/* WNOWAIT: look without reaping; ECHILD means nothing is left */
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void signal_leftovers(bool as_pid1, int sig)
{
	if (as_pid1) {
		/* as PID 1 of a namespace, -1 means every other process in it */
		kill(-1, sig);
		return;
	}
	/* single-threaded: the main task's list holds every child */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	int pid;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, sig);
	fclose(f);
}

int wait_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
