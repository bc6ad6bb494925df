#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mainlog.h"

#define RETRY_SECONDS 1.0 /* how often a missing file is looked for again */

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The main log cannot report its own failures to itself. */
__attribute__((format(printf, 3, 4))) static void tell(const struct logfile *lf, int level,
						       const char *fmt, ...)
{
	char msg[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lf->main)
		log_msg_elsewhere(level, "%s", msg);
	else
		log_msg(level, "%s", msg);
}

/* Said once when it starts, and once when it has ended: when writes have worked for a second
 * (a nearly full disk takes a short line now and then, and must not make a message storm). */
static void set_failing(struct logfile *lf, const char *what, int err)
{
	lf->failed_at = now_mono();
	if (lf->failing)
		return;
	lf->failing = true;
	lf->lost = 0;
	tell(lf, LOG_LEVEL_ERROR, "cannot %s %s: %s; its lines are dropped until that works again",
	     what, lf->path, strerror(err));
}

static void set_working(struct logfile *lf)
{
	if (!lf->failing || now_mono() < lf->failed_at + RETRY_SECONDS)
		return;
	lf->failing = false;
	tell(lf, LOG_LEVEL_WARN, "writing to %s again; %llu bytes were dropped", lf->path,
	     lf->lost);
}

int logfile_open(struct logfile *lf)
{
	lf->next_check = now_mono() + RETRY_SECONDS;
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lf->fd < 0)
		return -1;
	struct stat st;
	if (fstat(lf->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		lf->size = st.st_size;
	} else {
		lf->size = 0;
		lf->maxbytes = 0; /* a pipe or a device: never rotate (no "Illegal seek") */
	}
	return 0;
}

void logfile_close(struct logfile *lf)
{
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
}

int logfile_start(struct logfile *lf)
{
	if (logfile_open(lf) == 0)
		return 0;
	set_failing(lf, "open", errno);
	return -1;
}

int logfile_reopen(struct logfile *lf)
{
	logfile_close(lf);
	return logfile_start(lf);
}

static void rotate(struct logfile *lf)
{
	logfile_close(lf);
	if (lf->backups > 0) {
		char from[4200], to[4200];
		for (long long i = lf->backups - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%lld", lf->path, i);
			snprintf(to, sizeof(to), "%s.%lld", lf->path, i + 1);
			rename(from, to); /* a missing backup is normal */
		}
		snprintf(to, sizeof(to), "%s.1", lf->path);
		if (rename(lf->path, to) < 0 && errno != ENOENT)
			tell(lf, LOG_LEVEL_WARN, "cannot rotate %s: %s", lf->path, strerror(errno));
	} else if (truncate(lf->path, 0) < 0 && errno != ENOENT) {
		tell(lf, LOG_LEVEL_WARN, "cannot truncate %s: %s", lf->path, strerror(errno));
	}
	logfile_start(lf);
}

/* Once a second: open a file that could not be opened, or open anew one that was removed. */
static void check(struct logfile *lf)
{
	double now = now_mono();
	if (now < lf->next_check)
		return;
	lf->next_check = now + RETRY_SECONDS;
	struct stat st;
	if (lf->fd >= 0 && (fstat(lf->fd, &st) < 0 || st.st_nlink > 0))
		return;
	logfile_close(lf);
	logfile_start(lf);
}

/* A failed or short write is cut back off the file, so it never holds part of a write. */
static bool write_whole(struct logfile *lf, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(lf->fd, p + done, n - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		int err = w < 0 ? errno : ENOSPC;
		if (done > 0 && ftruncate(lf->fd, lf->size) < 0) {
			/* nothing more to do: the file keeps a piece */
		}
		set_failing(lf, "write to", err);
		lf->lost += n;
		return false;
	}
	lf->size += (long long)n;
	set_working(lf);
	return true;
}

/* Writes p whole (the main log's lines, a program's chunk), rotating first whenever it would
 * pass maxbytes: a file never exceeds maxbytes unless a single write does. */
void logfile_write(struct logfile *lf, const char *p, size_t n)
{
	bool rotated = false;
	check(lf);
	while (n > 0) {
		if (lf->fd < 0) {
			lf->lost += n;
			return;
		}
		size_t take = n;
		if (lf->maxbytes > 0 && (long long)n > lf->maxbytes - lf->size) {
			long long room = lf->maxbytes - lf->size;
			size_t fit = 0;
			for (size_t i = 0; i < n && (long long)(i + 1) <= room; i++)
				if (p[i] == '\n')
					fit = i + 1;
			if (fit == 0 && lf->size > 0 && !rotated) {
				rotate(lf);
				rotated = true; /* a rotation that failed must not loop */
				continue;
			}
			if (fit == 0) {
				const char *nl = memchr(p, '\n', n);
				fit = nl ? (size_t)(nl - p) + 1 : n;
			}
			take = fit;
		}
		write_whole(lf, p, take);
		rotated = false;
		p += take;
		n -= take;
	}
}
