#include "states.h"

#include <stddef.h>

static const struct {
	enum proc_state state;
	const char *name;
} state_names[] = {
    {PS_STOPPED, "STOPPED"}, {PS_STARTING, "STARTING"}, {PS_RUNNING, "RUNNING"},
    {PS_BACKOFF, "BACKOFF"}, {PS_STOPPING, "STOPPING"}, {PS_EXITED, "EXITED"},
    {PS_FATAL, "FATAL"},     {PS_UNKNOWN, "UNKNOWN"},
};

const char *proc_state_name(enum proc_state s)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (state_names[i].state == s)
			return state_names[i].name;
	return "UNKNOWN";
}

bool proc_state_running(enum proc_state s)
{
	return s == PS_STARTING || s == PS_RUNNING || s == PS_BACKOFF;
}

bool proc_state_stopped(enum proc_state s)
{
	return s == PS_STOPPED || s == PS_EXITED || s == PS_FATAL || s == PS_UNKNOWN;
}

bool proc_state_signallable(enum proc_state s)
{
	return s == PS_RUNNING || s == PS_STARTING || s == PS_STOPPING;
}
