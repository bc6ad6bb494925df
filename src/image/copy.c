#include "copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char failed_path[PATH_MAX];

static int fail(const char *path, const char **failed)
{
	int e = errno;
	snprintf(failed_path, sizeof(failed_path), "%s", path);
	*failed = failed_path;
	errno = e;
	return -1;
}

int mkdir_p(const char *path, const char **failed)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int rc = fail(p, failed);
			free(p);
			return rc;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? fail(p, failed) : 0;
	free(p);
	return rc;
}

int write_file(const char *path, const char *text, int mode, const char **failed)
{
	unlink(path); /* a read-only file from an earlier run is replaced, not refused */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return fail(path, failed);
	if (write_all(fd, text, strlen(text)) != 0 || fchmod(fd, (mode_t)mode) != 0) {
		int rc = fail(path, failed);
		close(fd);
		return rc;
	}
	return close(fd) == 0 ? 0 : fail(path, failed);
}

static int copy_file(const char *src, const char *dst, mode_t mode, const char **failed)
{
	/* non-blocking and checked again once open: it may have been swapped for a FIFO */
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
	if (in < 0)
		return fail(src, failed);
	struct stat sb;
	int bad = fstat(in, &sb) != 0 ? errno : !S_ISREG(sb.st_mode) ? EINVAL : 0;
	if (bad) {
		close(in);
		errno = bad;
		return fail(src, failed);
	}
	unlink(dst);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		close(in);
		return fail(dst, failed);
	}
	char buf[65536];
	ssize_t r;
	int rc = 0;
	while ((r = read(in, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(src, failed);
			break;
		}
		if (write_all(out, buf, (size_t)r) != 0) {
			rc = fail(dst, failed);
			break;
		}
	}
	if (rc == 0 && fchmod(out, mode & 07777) != 0)
		rc = fail(dst, failed);
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = fail(dst, failed);
	return rc;
}

int copy_tree(const char *src, const char *dst, const char **failed)
{
	struct stat sb;
	if (lstat(src, &sb) != 0)
		return fail(src, failed);
	if (S_ISLNK(sb.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return fail(src, failed);
		target[n] = '\0';
		unlink(dst);
		return symlink(target, dst) == 0 ? 0 : fail(dst, failed);
	}
	if (S_ISREG(sb.st_mode))
		return copy_file(src, dst, sb.st_mode, failed);
	if (!S_ISDIR(sb.st_mode)) { /* a device or a FIFO has no end */
		errno = EINVAL;
		return fail(src, failed);
	}
	if (mkdir(dst, sb.st_mode & 07777) != 0 && errno != EEXIST)
		return fail(dst, failed);
	DIR *dir = opendir(src);
	if (!dir)
		return fail(src, failed);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *s = xasprintf("%s/%s", src, e->d_name),
		     *t = xasprintf("%s/%s", dst, e->d_name);
		rc = copy_tree(s, t, failed);
		free(s);
		free(t);
	}
	closedir(dir);
	return rc;
}

char *read_regular_file(const char *path, size_t max, size_t *len, const char **why)
{
	static char larger[64];
	snprintf(larger, sizeof(larger), "larger than %zu bytes", max);
	/* non-blocking: a FIFO with no writer would wait forever */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat sb;
	*why = NULL;
	if (fd < 0 || fstat(fd, &sb) != 0)
		*why = strerror(errno);
	else if (!S_ISREG(sb.st_mode)) /* a device may have no end */
		*why = S_ISDIR(sb.st_mode) ? "a directory, not a file" : "not a regular file";
	else if ((unsigned long long)sb.st_size > max)
		*why = larger;
	char *text = *why ? NULL : xmalloc(max + 2);
	size_t got = 0;
	while (text && got <= max) { /* one byte more tells a file that grew */
		ssize_t r = read(fd, text + got, max + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*why = r < 0 ? strerror(errno) : NULL;
			break;
		}
		got += (size_t)r;
	}
	if (!*why && got > max)
		*why = larger;
	if (fd >= 0)
		close(fd);
	if (*why) {
		free(text);
		return NULL;
	}
	text[got] = '\0';
	*len = got;
	return text;
}
