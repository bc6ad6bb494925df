/*
 * A child's output: each child's stdout and stderr come through pipes into the event loop and go
 * to the program's log files (logfile.h) as they come, and to pidvisor's stdout/stderr
 * (stdout_sink.h) and syslog as whole lines.
 */
#ifndef PIDVISOR_CHILD_OUTPUT_H
#define PIDVISOR_CHILD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "process.h"

/* Before fork: makes the pipes. child_fds[0..2] are the child's ends for fds 0, 1 and 2. */
int output_prepare(struct process *p, int child_fds[3], char **err);
/* After fork, in the parent: closes the child's ends and starts reading. */
void output_started(struct process *p, const int child_fds[3]);
/* After fork failed: closes everything output_prepare made. */
void output_abort(struct process *p, const int child_fds[3]);
/* The child was reaped: what is left in its pipes goes out (when the sink has room; until
 * then the pipe waits), a partial last line included, then the pipes close. */
void output_finished(struct process *p);
/* SIGUSR2: reopen every program's log files. */
void output_reopen(struct process *p);
/* The process is removed (or pidvisor exits): what is left in its pipes is queued now. */
void output_free(struct process *p);
/* Names and creates the process's AUTO log files, as supervisord does when it reads the config:
 * getAllConfigInfo and the log reads know them before the first spawn. */
void output_name_auto_logs(struct process *p);
/* A line of pidvisor's own about the program (a failed health check) in the program's stdout
 * log and wherever that goes, as a whole line. */
void output_note(struct process *p, const char *text);
/* The file a channel (1 stdout, 2 stderr) is logged to, AUTO resolved; NULL if none. */
const char *output_logfile(const struct process *p, int channel);

/* Programs with no log file (/dev/stdout, NONE) keep their last output in memory, so tail
 * still works. Offsets count every byte the channel ever produced. */
bool output_has_tail(const struct process *p, int channel);
unsigned long long output_tail_size(const struct process *p, int channel);
size_t output_tail_read(const struct process *p, int channel, unsigned long long offset,
			size_t length, char *out);
void output_tail_clear(struct process *p, int channel);

/* At start-up unless nocleanup: old AUTO logs of this identifier are removed. */
void output_cleanup_auto_logs(const struct supervisord_conf *sd);

#endif
