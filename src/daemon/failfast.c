#include "failfast.h"

#include <stdio.h>
#include <sys/wait.h>

#include "log.h"
#include "reap.h"
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

void failfast_state_changed(struct supervisor *sv, struct process *p, enum proc_state from)
{
	if (sv->mood != MOOD_RUNNING || !triggered(p, from))
		return;
	/* the program's own status, as a shell gives it; a program that never ran (spawn
	 * error) has none: 1 */
	int code = p->exited ? wait_status_code(p->wait_status) : 1;
	if (p->conf->shutdown_exitcode >= 0)
		code = (int)p->conf->shutdown_exitcode;
	char spec[512];
	log_crit("%s is %s and has shutdown_on=%s: stopping everything; pidvisor will exit %d",
		 process_namespec(p, spec, sizeof(spec)), proc_state_name(p->fsm.state),
		 condition_names[p->conf->shutdown_on], code);
	sv->exit_status = code;
	supervisor_shutdown(sv);
}
