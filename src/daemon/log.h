/* pidvisor's own log: supervisord's line format, to the main logfile and, in the foreground,
 * stdout. */
#ifndef PIDVISOR_LOG_H
#define PIDVISOR_LOG_H

#include <stdbool.h>

#include "config.h"

/* Until log_open() is called, messages go to stderr. */
int log_open(const struct supervisord_conf *sd, bool to_stdout, char **err);
void log_close(void);
int log_reopen(void);
void log_set_level(int level);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the main log file's path, or NULL */
const char *log_path(void);

#define log_crit(...)  log_msg(LOG_LEVEL_CRIT, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
