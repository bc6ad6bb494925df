/* The texts are supervisord's docstrings (its rpcinterface.py and xmlrpc.py) with their own
 * spaces: tests/compat/test_rpc_surface.py compares them with the real supervisord's. */
#include "rpc_help.h"

#define TAIL_HELP(ch, Ch)                                                                          \
	"\n"                                                                                       \
	"        Provides a more efficient way to tail the (" ch ") log than\n"                    \
	"        readProcess" Ch "Log().  Use readProcess" Ch "Log() to read\n"                    \
	"        chunks and tailProcess" Ch "Log() to tail.\n"                                     \
	"\n"                                                                                       \
	"        Requests (length) bytes from the (name)'s log, starting at\n"                     \
	"        (offset).  If the total log size is greater than (offset +\n"                     \
	"        length), the overflow flag is set and the (offset) is\n"                          \
	"        automatically increased to position the buffer at the end of\n"                   \
	"        the log.  If less than (length) bytes are available, the\n"                       \
	"        maximum number of available bytes will be returned.  (offset)\n"                  \
	"        returned is always the last offset in the log +1.\n"                              \
	"\n"                                                                                       \
	"        @param string name         the name of the process (or 'group:name')\n"           \
	"        @param int offset          offset to start reading from\n"                        \
	"        @param int length          maximum number of bytes to return\n"                   \
	"        @return array result       [string bytes, int offset, bool overflow]\n"           \
	"        "
#define READ_HELP(ch)                                                                              \
	" Read length bytes from name's " ch " log starting at offset\n"                           \
	"\n"                                                                                       \
	"        @param string name        the name of the process (or 'group:name')\n"            \
	"        @param int offset         offset to start reading from.\n"                        \
	"        @param int length         number of bytes to read from the log.\n"                \
	"        @return string result     Bytes of log\n"                                         \
	"        "

const struct rpc_help rpc_help[HELP_COUNT] = {
    [HELP_ADD_PROCESS_GROUP] =
	{
	    .returns = "boolean",
	    .text = " Update the config for a running process from config file.\n"
		    "\n"
		    "        @param string name         name of process group to add\n"
		    "        @return boolean result     true if successful\n"
		    "        ",
	},
    [HELP_CLEAR_ALL_PROCESS_LOGS] =
	{
	    .returns = "array",
	    .text = " Clear all process log files\n"
		    "\n"
		    "        @return array result   An array of process status info structs\n"
		    "        ",
	},
    [HELP_CLEAR_LOG] =
	{
	    .returns = "boolean",
	    .text = " Clear the main log.\n"
		    "\n"
		    "        @return boolean result always returns True unless error\n"
		    "        ",
	},
    [HELP_CLEAR_PROCESS_LOGS] =
	{
	    .returns = "boolean",
	    .text = " Clear the stdout and stderr logs for the named process and\n"
		    "        reopen them.\n"
		    "\n"
		    "        @param string name   The name of the process (or 'group:name')\n"
		    "        @return boolean result      Always True unless error\n"
		    "        ",
	},
    [HELP_API_VERSION] =
	{
	    .returns = "string",
	    .text = " Return the version of the RPC API used by supervisord\n"
		    "\n"
		    "        @return string version id\n"
		    "        ",
	},
    [HELP_ALL_CONFIG_INFO] =
	{
	    .returns = "array",
	    .text = " Get info about all available process configurations. Each struct\n"
		    "        represents a single process (i.e. groups get flattened).\n"
		    "\n"
		    "        @return array result  An array of process config info structs\n"
		    "        ",
	},
    [HELP_ALL_PROCESS_INFO] =
	{
	    .returns = "array",
	    .text = " Get info about all processes\n"
		    "\n"
		    "        @return array result  An array of process status results\n"
		    "        ",
	},
    [HELP_IDENTIFICATION] =
	{
	    .returns = "string",
	    .text = " Return identifying string of supervisord\n"
		    "\n"
		    "        @return string identifier identifying string\n"
		    "        ",
	},
    [HELP_PID] =
	{
	    .returns = "int",
	    .text = " Return the PID of supervisord\n"
		    "\n"
		    "        @return int PID\n"
		    "        ",
	},
    [HELP_PROCESS_INFO] =
	{
	    .returns = "struct",
	    .text =
		" Get info about a process named name\n"
		"\n"
		"        @param string name The name of the process (or 'group:name')\n"
		"        @return struct result     A structure containing data about the process\n"
		"        ",
	},
    [HELP_STATE] =
	{
	    .returns = "struct",
	    .text = " Return current state of supervisord as a struct\n"
		    "\n"
		    "        @return struct A struct with keys int statecode, string statename\n"
		    "        ",
	},
    [HELP_SUPERVISOR_VERSION] =
	{
	    .returns = "string",
	    .text = " Return the version of the supervisor package in use by supervisord\n"
		    "\n"
		    "        @return string version id\n"
		    "        ",
	},
    [HELP_READ_MAIN_LOG] =
	{
	    .returns = "string",
	    .text = " Read length bytes from the main log starting at offset\n"
		    "\n"
		    "        @param int offset         offset to start reading from.\n"
		    "        @param int length         number of bytes to read from the log.\n"
		    "        @return string result     Bytes of log\n"
		    "        ",
	},
    [HELP_READ_STDOUT] =
	{
	    .returns = "string",
	    .text = READ_HELP("stdout"),
	},
    [HELP_READ_STDERR] =
	{
	    .returns = "string",
	    .text = READ_HELP("stderr"),
	},
    [HELP_RELOAD_CONFIG] =
	{
	    .returns = "array",
	    .text = "\n"
		    "        Reload the configuration.\n"
		    "\n"
		    "        The result contains three arrays containing names of process\n"
		    "        groups:\n"
		    "\n"
		    "        * `added` gives the process groups that have been added\n"
		    "        * `changed` gives the process groups whose contents have\n"
		    "          changed\n"
		    "        * `removed` gives the process groups that are no longer\n"
		    "          in the configuration\n"
		    "\n"
		    "        @return array result  [[added, changed, removed]]\n"
		    "\n"
		    "        ",
	},
    [HELP_REMOVE_PROCESS_GROUP] =
	{
	    .returns = "boolean",
	    .text =
		" Remove a stopped process from the active configuration.\n"
		"\n"
		"        @param string name         name of process group to remove\n"
		"        @return boolean result     Indicates whether the removal was successful\n"
		"        ",
	},
    [HELP_RESTART] =
	{
	    .returns = "boolean",
	    .text = " Restart the supervisor process\n"
		    "\n"
		    "        @return boolean result  always return True unless error\n"
		    "        ",
	},
    [HELP_SEND_STDIN] =
	{
	    .returns = "boolean",
	    .text =
		" Send a string of chars to the stdin of the process name.\n"
		"        If non-7-bit data is sent (unicode), it is encoded to utf-8\n"
		"        before being sent to the process' stdin.  If chars is not a\n"
		"        string or is not unicode, raise INCORRECT_PARAMETERS.  If the\n"
		"        process is not running, raise NOT_RUNNING.  If the process'\n"
		"        stdin cannot accept input (e.g. it was closed by the child\n"
		"        process), raise NO_FILE.\n"
		"\n"
		"        @param string name        The process name to send to (or 'group:name')\n"
		"        @param string chars       The character data to send to the process\n"
		"        @return boolean result    Always return True unless error\n"
		"        ",
	},
    [HELP_REMOTE_COMM] =
	{
	    .returns = "boolean",
	    .text =
		" Send an event that will be received by event listener\n"
		"        subprocesses subscribing to the RemoteCommunicationEvent.\n"
		"\n"
		"        @param  string  type  String for the \"type\" key in the event header\n"
		"        @param  string  data  Data for the event body\n"
		"        @return boolean       Always return True unless error\n"
		"        ",
	},
    [HELP_SHUTDOWN] =
	{
	    .returns = "boolean",
	    .text = " Shut down the supervisor process\n"
		    "\n"
		    "        @return boolean result always returns True unless error\n"
		    "        ",
	},
    [HELP_SIGNAL_ALL] =
	{
	    .returns = "array",
	    .text =
		" Send a signal to all processes in the process list\n"
		"\n"
		"        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
		"        @return array         An array of process status info structs\n"
		"        ",
	},
    [HELP_SIGNAL] =
	{
	    .returns = "boolean",
	    .text =
		" Send an arbitrary UNIX signal to the process named by name\n"
		"\n"
		"        @param string name    Name of the process to signal (or 'group:name')\n"
		"        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
		"        @return boolean\n"
		"        ",
	},
    [HELP_SIGNAL_GROUP] =
	{
	    .returns = "array",
	    .text =
		" Send a signal to all processes in the group named 'name'\n"
		"\n"
		"        @param string name    The group name\n"
		"        @param string signal  Signal to send, as name ('HUP') or number ('1')\n"
		"        @return array\n"
		"        ",
	},
    [HELP_START_ALL] =
	{
	    .returns = "array",
	    .text = " Start all processes listed in the configuration file\n"
		    "\n"
		    "        @param boolean wait    Wait for each process to be fully started\n"
		    "        @return array result   An array of process status info structs\n"
		    "        ",
	},
    [HELP_START] =
	{
	    .returns = "boolean",
	    .text = " Start a process\n"
		    "\n"
		    "        @param string name Process name (or ``group:name``, or ``group:*``)\n"
		    "        @param boolean wait Wait for process to be fully started\n"
		    "        @return boolean result     Always true unless error\n"
		    "\n"
		    "        ",
	},
    [HELP_START_GROUP] =
	{
	    .returns = "array",
	    .text = " Start all processes in the group named 'name'\n"
		    "\n"
		    "        @param string name     The group name\n"
		    "        @param boolean wait    Wait for each process to be fully started\n"
		    "        @return array result   An array of process status info structs\n"
		    "        ",
	},
    [HELP_STOP_ALL] =
	{
	    .returns = "array",
	    .text = " Stop all processes in the process list\n"
		    "\n"
		    "        @param  boolean wait   Wait for each process to be fully stopped\n"
		    "        @return array result   An array of process status info structs\n"
		    "        ",
	},
    [HELP_STOP] =
	{
	    .returns = "boolean",
	    .text =
		" Stop a process named by name\n"
		"\n"
		"        @param string name  The name of the process to stop (or 'group:name')\n"
		"        @param boolean wait        Wait for the process to be fully stopped\n"
		"        @return boolean result     Always return True unless error\n"
		"        ",
	},
    [HELP_STOP_GROUP] =
	{
	    .returns = "array",
	    .text = " Stop all processes in the process group named 'name'\n"
		    "\n"
		    "        @param string name     The group name\n"
		    "        @param boolean wait    Wait for each process to be fully stopped\n"
		    "        @return array result   An array of process status info structs\n"
		    "        ",
	},
    [HELP_TAIL_STDOUT] =
	{
	    .returns = "array",
	    .text = TAIL_HELP("stdout", "Stdout"),
	},
    [HELP_TAIL_STDERR] =
	{
	    .returns = "array",
	    .text = TAIL_HELP("stderr", "Stderr"),
	},
    [HELP_LIST_METHODS] =
	{
	    .returns = "array",
	    .text = " Return an array listing the available method names\n"
		    "\n"
		    "        @return array result  An array of method names available (strings).\n"
		    "        ",
	},
    [HELP_METHOD_HELP] =
	{
	    .returns = "string",
	    .text = " Return a string showing the method's documentation\n"
		    "\n"
		    "        @param string name   The name of the method.\n"
		    "        @return string result The documentation for the method name.\n"
		    "        ",
	},
    [HELP_METHOD_SIGNATURE] =
	{
	    .returns = "array",
	    .text = " Return an array describing the method signature in the\n"
		    "        form [rtype, ptype, ptype...] where rtype is the return data type\n"
		    "        of the method, and ptypes are the parameter data types that the\n"
		    "        method accepts in method argument order.\n"
		    "\n"
		    "        @param string name  The name of the method.\n"
		    "        @return array result  The result.\n"
		    "        ",
	},
    [HELP_MULTICALL] =
	{
	    .returns = "array",
	    .text = "Process an array of calls, and return an array of\n"
		    "        results. Calls should be structs of the form {'methodName':\n"
		    "        string, 'params': array}. Each result will either be a\n"
		    "        single-item array containing the result value, or a struct of\n"
		    "        the form {'faultCode': int, 'faultString': string}. This is\n"
		    "        useful when you need to make lots of small calls without lots\n"
		    "        of round trips.\n"
		    "\n"
		    "        @param array calls  An array of call requests\n"
		    "        @return array result  An array of results\n"
		    "        ",
	},
};
