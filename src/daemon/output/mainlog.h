/* pidvisor's own log: supervisord's line format, to its target (a log file, stdout, stderr,
 * syslog: log_target.h) and, in the foreground, stdout too. */
#ifndef PIDVISOR_MAINLOG_H
#define PIDVISOR_MAINLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct sink;

/* Until log_open() is called, messages go to stderr. */
int log_open(const struct supervisord_conf *sd, bool to_stdout, char **err);
void log_close(void);
int log_reopen(void);
void log_set_level(int level);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Everywhere the main log goes but its file (stdout, or else stderr): for the file's own
 * problems (a full disk). */
void log_msg_elsewhere(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At loglevel debug or lower, as supervisord does: a chunk of a program's output (channel
 * "stdout" or "stderr") as one main-log record, "DEBG 'name' stdout output:\n<data>". */
void log_child_output(const char *name, const char *channel, const char *p, size_t n);
/* The sink the main log is copied to (stdout in the foreground), or NULL: programs whose
 * output is copied into the main log wait for its room too. */
struct sink *log_copy_sink(void);
/* the main log file's path, or NULL */
const char *log_path(void);

#define log_crit(...)  log_msg(LOG_LEVEL_CRIT, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
