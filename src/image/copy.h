/* The files of a build: input read within a bound, and build contexts written: directories,
 * whole files, and trees copied as they are. */
#ifndef PIDVISOR_IMAGE_COPY_H
#define PIDVISOR_IMAGE_COPY_H

#include <stddef.h>

/* Each returns 0, or -1 with errno set and *failed naming the path that failed (static). */
int mkdir_p(const char *path, const char **failed);
int write_file(const char *path, const char *text, int mode, const char **failed);
/* Copies a file, or a directory recursively; modes kept, symlinks copied as symlinks. Anything
 * else (a device, a FIFO, a socket) fails with EINVAL. */
int copy_tree(const char *src, const char *dst, const char **failed);

/* The text of a regular file of at most max bytes, NUL-terminated, its length in *len; or NULL
 * and *why (static) when it cannot be read, is not a regular file, or is larger. */
char *read_regular_file(const char *path, size_t max, size_t *len, const char **why);

#endif
