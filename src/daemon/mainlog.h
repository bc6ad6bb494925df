/* pidvisor's own log: supervisord's line format, to its target (a log file, stdout, stderr,
 * syslog: log_target.h) and, in the foreground, stdout too. */
#ifndef PIDVISOR_MAINLOG_H
#define PIDVISOR_MAINLOG_H

#include <stdbool.h>

#include "config.h"

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
/* the main log file's path, or NULL */
const char *log_path(void);

#define log_crit(...)  log_msg(LOG_LEVEL_CRIT, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
