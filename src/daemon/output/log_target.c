#include "log_target.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum log_target log_target_of(const char *value)
{
	static const struct {
		const char *name;
		enum log_target target;
	} names[] = {
	    {"NONE", LOG_TARGET_NONE},		{"OFF", LOG_TARGET_NONE},
	    {"AUTO", LOG_TARGET_AUTO},		{"syslog", LOG_TARGET_SYSLOG},
	    {"/dev/stdout", LOG_TARGET_STDOUT}, {"/dev/fd/1", LOG_TARGET_STDOUT},
	    {"/dev/stderr", LOG_TARGET_STDERR}, {"/dev/fd/2", LOG_TARGET_STDERR},
	};
	if (!value || !*value)
		return LOG_TARGET_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* supervisord compares NONE, OFF and AUTO without case, the paths exactly */
		bool word = names[i].name[0] != '/';
		if (word ? !strcasecmp(value, names[i].name) : !strcmp(value, names[i].name))
			return names[i].target;
	}
	return LOG_TARGET_FILE;
}

static int syslog_fd = -1;

static bool syslog_connect(void)
{
	if (syslog_fd >= 0)
		return true;
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (syslog_fd >= 0 && connect(syslog_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return true;
	if (syslog_fd >= 0)
		close(syslog_fd);
	syslog_fd = -1;
	return false;
}

void syslog_send(const char *tag, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		if (!syslog_connect())
			return; /* no syslog here: nothing to do, as supervisord */
		char msg[2048];
		int m = snprintf(msg, sizeof(msg), "<14>%s: %.*s", tag,
				 (int)(len > 1900 ? 1900 : len), p);
		if (m > 0 && send(syslog_fd, msg, (size_t)m, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
			/* syslogd restarted: the next line connects again */
			close(syslog_fd);
			syslog_fd = -1;
		}
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}
