/* What system.methodHelp and system.methodSignature tell of a method beyond its arguments:
 * supervisord's docstring, word for word, and its return type. Aliases share one entry, which
 * the method table in rpc.c names. */
#ifndef PIDVISOR_RPC_HELP_H
#define PIDVISOR_RPC_HELP_H

enum rpc_help_id {
	HELP_ADD_PROCESS_GROUP,
	HELP_CLEAR_ALL_PROCESS_LOGS,
	HELP_CLEAR_LOG,
	HELP_CLEAR_PROCESS_LOGS,
	HELP_API_VERSION,
	HELP_ALL_CONFIG_INFO,
	HELP_ALL_PROCESS_INFO,
	HELP_IDENTIFICATION,
	HELP_PID,
	HELP_PROCESS_INFO,
	HELP_STATE,
	HELP_SUPERVISOR_VERSION,
	HELP_READ_MAIN_LOG,
	HELP_READ_STDOUT,
	HELP_READ_STDERR,
	HELP_RELOAD_CONFIG,
	HELP_REMOVE_PROCESS_GROUP,
	HELP_RESTART,
	HELP_SEND_STDIN,
	HELP_REMOTE_COMM,
	HELP_SHUTDOWN,
	HELP_SIGNAL_ALL,
	HELP_SIGNAL,
	HELP_SIGNAL_GROUP,
	HELP_START_ALL,
	HELP_START,
	HELP_START_GROUP,
	HELP_STOP_ALL,
	HELP_STOP,
	HELP_STOP_GROUP,
	HELP_TAIL_STDOUT,
	HELP_TAIL_STDERR,
	HELP_LIST_METHODS,
	HELP_METHOD_HELP,
	HELP_METHOD_SIGNATURE,
	HELP_MULTICALL,
	HELP_COUNT
};

struct rpc_help {
	const char *returns; /* the type methodSignature names first */
	const char *text;
};

extern const struct rpc_help rpc_help[HELP_COUNT];

#endif
