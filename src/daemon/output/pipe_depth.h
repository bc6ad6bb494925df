/*
 * Deeper pipes for the programs that write the most. A program whose pipe was found full on a
 * read writes faster than one wake-up of pidvisor takes: its pipe grows to PIPE_DEEP, and its
 * reads with it, so each wake-up moves four times as much. The kernel limits the pipe pages of a
 * user (/proc/sys/fs/pipe-user-pages-soft; past it, a user without CAP_SYS_RESOURCE gets new
 * pipes of one or two pages), so deep pipes take at most an eighth of that limit between them,
 * and a pipe that cannot be deepened keeps working as it was.
 */
#ifndef PIDVISOR_PIPE_DEPTH_H
#define PIDVISOR_PIPE_DEPTH_H

#include <stddef.h>

#define PIPE_DEEP (256 * 1024)

/* Deepens the pipe of read end fd to PIPE_DEEP when the budget and the kernel allow: returns
 * PIPE_DEEP then, else 0. */
size_t pipe_deepen(int fd);
/* A pipe is closed that pipe_deepen() made `deep` deep (0: not deepened): its share of the
 * budget is free again. */
void pipe_deep_closed(size_t deep);

#endif
