#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

static struct {
	int level;
	int fd; /* main logfile, -1 if none */
	char *path;
	bool to_stdout;
	bool opened;
	long long maxbytes;
	long long backups;
	long long size;
} L = {.level = LOG_LEVEL_INFO, .fd = -1};

static const char *const level_tags[] = {"CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"};

void log_set_level(int level)
{
	L.level = level;
}

bool log_enabled(int level)
{
	return level <= L.level;
}

const char *log_path(void)
{
	return L.path;
}

static int open_file(void)
{
	L.fd = open(L.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (L.fd < 0)
		return -1;
	struct stat st;
	L.size = fstat(L.fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
	return 0;
}

int log_open(const struct supervisord_conf *sd, bool to_stdout, char **err)
{
	L.level = sd->loglevel;
	L.to_stdout = to_stdout;
	L.maxbytes = sd->logfile_maxbytes;
	L.backups = sd->logfile_backups;
	L.opened = true;
	free(L.path);
	L.path = NULL;
	if (!sd->logfile || strcmp(sd->logfile, "syslog") == 0)
		return 0;
	if (strcmp(sd->logfile, "/dev/stdout") == 0 || strcmp(sd->logfile, "/dev/fd/1") == 0) {
		/* already on stdout: don't write every line twice */
		L.to_stdout = true;
		return 0;
	}
	if (strcmp(sd->logfile, "/dev/stderr") == 0 || strcmp(sd->logfile, "/dev/fd/2") == 0) {
		L.path = xstrdup("/dev/stderr");
		L.fd = -1;
		return 0;
	}
	L.path = xstrdup(sd->logfile);
	if (open_file() < 0) {
		*err = xasprintf("cannot open the log file %s: %s", L.path, strerror(errno));
		free(L.path);
		L.path = NULL;
		return -1;
	}
	return 0;
}

void log_close(void)
{
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
}

int log_reopen(void)
{
	if (!L.path || strcmp(L.path, "/dev/stderr") == 0)
		return 0;
	log_close();
	return open_file();
}

static void rotate(void)
{
	if (L.maxbytes <= 0 || L.size < L.maxbytes || !L.path)
		return;
	log_close();
	for (long long i = L.backups - 1; i >= 1; i--) {
		char from[4096], to[4096];
		snprintf(from, sizeof(from), "%s.%lld", L.path, i);
		snprintf(to, sizeof(to), "%s.%lld", L.path, i + 1);
		rename(from, to);
	}
	if (L.backups > 0) {
		char to[4096];
		snprintf(to, sizeof(to), "%s.1", L.path);
		rename(L.path, to);
	} else {
		if (truncate(L.path, 0) < 0) {
			/* nothing better to do than keep appending */
		}
	}
	open_file();
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > L.level)
		return;
	char line[8192];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ",%03d %s ", (int)(tv.tv_usec / 1000),
		      level_tags[level < 0   ? 0
				 : level > 6 ? 6
					     : level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : (n + m > (int)sizeof(line) - 2 ? (int)sizeof(line) - 2 : n + m);
	line[n++] = '\n';

	if (!L.opened) {
		sink_write_line(sink_stderr(), line, (size_t)n);
		return;
	}
	if (L.fd >= 0) {
		rotate();
		if (L.fd >= 0) {
			ssize_t w = write(L.fd, line, (size_t)n);
			if (w > 0)
				L.size += w;
		}
	} else if (L.path) {
		sink_write_line(sink_stderr(), line, (size_t)n);
	}
	if (L.to_stdout)
		sink_write_line(sink_stdout(), line, (size_t)n);
}
