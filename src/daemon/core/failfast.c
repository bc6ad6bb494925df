#include "failfast.h"

#include <stdio.h>
#include <sys/wait.h>

#include "mainlog.h"
#include "reap.h"
#include "resources.h"
#include "supervisor.h"
#include "values.h"

static const char *const condition_names[] = {"never", "fatal", "unexpected", "exit"};

/* Which condition this transition meets. An exit that a stop asked for (from STOPPING) never
 * counts, nor anything once pidvisor itself is stopping or restarting. */
static bool triggered(const struct process *p, enum proc_state from)
{
	enum proc_state to = p->fsm.state;
	bool exited = p->exited && from != PS_STOPPING && (to == PS_EXITED || to == PS_BACKOFF);
	switch (p->conf->shutdown_on) {
	case SHUTDOWN_FATAL:
		return to == PS_FATAL;
	case SHUTDOWN_EXIT:
		return exited || to == PS_FATAL;
	case SHUTDOWN_UNEXPECTED:
		if (to == PS_FATAL)
			return true;
		return exited && !(WIFEXITED(p->wait_status) &&
				   exitcodes_has(&p->conf->exitcodes, WEXITSTATUS(p->wait_status)));
	default:
		return false;
	}
}

static void shut_down(struct supervisor *sv, struct process *p, const char *why, int code)
{
	if (p->conf->shutdown_exitcode >= 0)
		code = (int)p->conf->shutdown_exitcode;
	char spec[512];
	log_crit("%s %s: stopping everything; pidvisor will exit %d",
		 process_namespec(p, spec, sizeof(spec)), why, code);
	sv->exit_status = code;
	supervisor_shutdown(sv);
}

void failfast_state_changed(struct supervisor *sv, struct process *p, enum proc_state from)
{
	if (p->fsm.state == PS_STOPPING)
		health_stop(p); /* a stopping program is not judged */
	if (p->restart_when_stopped && proc_state_stopped(p->fsm.state)) {
		p->restart_when_stopped = false;
		if (sv->mood == MOOD_RUNNING)
			supervisor_start_process(sv, p);
		return;
	}
	if (sv->mood != MOOD_RUNNING || !triggered(p, from))
		return;
	char why[128];
	snprintf(why, sizeof(why), "is %s and has shutdown_on=%s", proc_state_name(p->fsm.state),
		 condition_names[p->conf->shutdown_on]);
	/* the program's own status, as a shell gives it; a program that never ran (spawn
	 * error) has none: 1 */
	shut_down(sv, p, why, p->exited ? wait_status_code(p->wait_status) : 1);
}

void failfast_unhealthy(struct process *p, const char *what)
{
	struct supervisor *sv = p->sv;
	if (sv->mood != MOOD_RUNNING)
		return;
	char spec[512], why[192];
	if (p->conf->on_unhealthy == UNHEALTHY_SHUTDOWN) {
		snprintf(why, sizeof(why), "%s and has on_unhealthy=shutdown", what);
		shut_down(sv, p, why, 1);
	} else if (p->conf->on_unhealthy == UNHEALTHY_RESTART) {
		log_warn("restarting %s: it %s (on_unhealthy=restart)",
			 process_namespec(p, spec, sizeof(spec)), what);
		p->restart_when_stopped = supervisor_stop_process(sv, p);
	}
}

void failfast_health_changed(struct process *p, enum health_status from)
{
	(void)from;
	if (p->health.status == HEALTH_UNHEALTHY)
		failfast_unhealthy(p, "is unhealthy");
}

/* Sizes in the log as the key takes them: whole KB, MB or GB when they are. */
static void size_text(long long bytes, char *buf, size_t n)
{
	static const char *const units[] = {"GB", "MB", "KB"};
	for (int i = 0; i < 3; i++) {
		long long unit = 1LL << (10 * (3 - i));
		if (bytes >= unit && bytes % unit == 0) {
			snprintf(buf, n, "%lld%s", bytes / unit, units[i]);
			return;
		}
	}
	snprintf(buf, n, "%lld bytes", bytes);
}

static const char *const memory_actions[] = {"none", "restart", "shutdown"};

void failfast_memory_exceeded(struct process *p, const struct res_usage *u)
{
	const char *const *actions = memory_actions;
	struct supervisor *sv = p->sv;
	if (sv->mood != MOOD_RUNNING)
		return;
	char spec[512], limit[32], why[256];
	size_text(p->conf->memory_max, limit, sizeof(limit));
	process_namespec(p, spec, sizeof(spec));
	snprintf(why, sizeof(why),
		 "uses %.1f MB of memory (RSS of %d process%s), over memory_max=%s (on_memory=%s)",
		 (double)u->rss_bytes / (1024 * 1024), u->procs, u->procs == 1 ? "" : "es", limit,
		 actions[p->conf->on_memory]);
	if (p->conf->on_memory == UNHEALTHY_SHUTDOWN) {
		shut_down(sv, p, why, 1);
	} else if (p->conf->on_memory == UNHEALTHY_RESTART) {
		log_warn("restarting %s: it %s", spec, why);
		p->restart_when_stopped = supervisor_stop_process(sv, p);
	} else {
		log_warn("%s %s", spec, why);
	}
}

void failfast_memory_killed(struct process *p)
{
	char spec[512], limit[32];
	size_text(p->conf->memory_max, limit, sizeof(limit));
	log_warn("%s was killed by the kernel's OOM killer in its cgroup, at memory_max=%s "
		 "(on_memory=%s)",
		 process_namespec(p, spec, sizeof(spec)), limit,
		 memory_actions[p->conf->on_memory]);
}

void failfast_memory_killed_then(struct process *p)
{
	struct supervisor *sv = p->sv;
	if (sv->mood != MOOD_RUNNING)
		return;
	if (p->conf->on_memory == UNHEALTHY_SHUTDOWN)
		shut_down(sv, p, "was killed by the OOM killer and has on_memory=shutdown", 1);
	/* autorestart has usually started it again already (a SIGKILL is unexpected) */
	else if (p->conf->on_memory == UNHEALTHY_RESTART && p->fsm.state == PS_EXITED)
		supervisor_start_process(sv, p);
}
