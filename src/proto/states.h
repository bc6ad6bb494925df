/* supervisord's process states, with the codes and names its XML-RPC answers carry
 * (supervisor/states.py). The daemon's state machine, the RPC layer, ctl and check all use these.
 */
#ifndef PIDVISOR_STATES_H
#define PIDVISOR_STATES_H

#include <stdbool.h>

enum proc_state {
	PS_STOPPED = 0,
	PS_STARTING = 10,
	PS_RUNNING = 20,
	PS_BACKOFF = 30,
	PS_STOPPING = 40,
	PS_EXITED = 100,
	PS_FATAL = 200,
	PS_UNKNOWN = 1000,
};

const char *proc_state_name(enum proc_state s);
bool proc_state_running(enum proc_state s);	/* STARTING, RUNNING, BACKOFF */
bool proc_state_stopped(enum proc_state s);	/* STOPPED, EXITED, FATAL, UNKNOWN */
bool proc_state_signallable(enum proc_state s); /* RUNNING, STARTING, STOPPING */

#endif
