/*
 * A [fcgi-program:x] group's listening socket, kept as supervisord's socket_manager.py keeps it:
 * created when a process of the group spawns while none of the group has a child, the stdin
 * (fd 0) of every child, closed when the last child is reaped, created afresh on the next
 * spawn. As in supervisord, a unix socket's file stays when the socket closes; creating it
 * again unlinks it first. An fcgi-program inside a [group:x] gets no socket, as in supervisord.
 */
#ifndef PIDVISOR_FCGI_H
#define PIDVISOR_FCGI_H

#include <stddef.h>

#include "config.h"
#include "process.h"

struct fcgi;

/* *out: the socket of a [fcgi-program:x] group, NULL for any other. Like supervisord, it creates
 * the socket and closes it at once, so that a problem shows when the group is added: it is
 * logged (where supervisord exits), the group is added anyway and its spawns fail with the same
 * message. -1 only when memory runs out. */
int fcgi_new(const struct group_conf *gc, struct fcgi **out);
/* Closes the socket if open (the group is gone). */
void fcgi_free(struct fcgi *f);

/* Before p spawns: its group's socket is created unless it is open. 0 (also for any other
 * group), or -1 with *err (malloc'd, NULL without memory), supervisord's message: "Could not
 * create FastCGI socket unix:///run/app.sock: [Errno 98] Address already in use". */
int fcgi_acquire(struct process *p, char **err);
/* In process_spawn, once the pipes are made: the socket replaces the stdin pipe as the
 * child's fd 0 (child_fds[0] becomes a copy of it; the stdin pipe is closed, so the process has
 * no stdin channel, as in supervisord). 0, or -1 with *err. */
int fcgi_child_stdin(struct process *p, int child_fds[3], char **err);
/* After p's spawn failed or p was reaped: the socket closes when no process of the group has
 * a child. */
void fcgi_release(struct process *p);

/* The socket's name in messages, supervisord's str(socket_config): "tcp://host:port" with the
 * host lower-cased and the port as a number, "unix://" and the normalised path. */
const char *fcgi_url(const struct fcgi *f);
/* Python's os.path.normpath for an absolute path, into out[n]: false when it does not fit. */
bool fcgi_normpath(const char *path, char *out, size_t n);

#endif
