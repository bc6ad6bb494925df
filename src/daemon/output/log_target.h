/*
 * What a log setting names, for the main log ([supervisord] logfile) and every program's
 * stdout_logfile/stderr_logfile alike, and the one way pidvisor talks to syslog.
 */
#ifndef PIDVISOR_LOG_TARGET_H
#define PIDVISOR_LOG_TARGET_H

#include <stddef.h>

enum log_target {
	LOG_TARGET_NONE,   /* NULL, NONE, OFF: no file */
	LOG_TARGET_FILE,   /* a path */
	LOG_TARGET_AUTO,   /* a file named by pidvisor in childlogdir (programs only) */
	LOG_TARGET_STDOUT, /* /dev/stdout, /dev/fd/1: pidvisor's own stdout */
	LOG_TARGET_STDERR, /* /dev/stderr, /dev/fd/2 */
	LOG_TARGET_SYSLOG, /* supervisord's magic name "syslog" */
};

enum log_target log_target_of(const char *value);

/* Sends each line of p (newlines separate them, the last may lack one) to /dev/log as
 * "<14>tag: line", user.info. Never blocks: without a syslog daemon, or when its queue is
 * full, lines are dropped, as a datagram would be. */
void syslog_send(const char *tag, const char *p, size_t n);

#endif
