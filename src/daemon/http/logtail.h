/* GET /logtail/NAME[/stderr] and /mainlogtail: a log followed the way supervisord's tail
 * handler follows it (tail -f through supervisorctl), from a log file or a process's in-memory
 * tail, across rotation and truncation. The connection owns the timer that calls
 * logtail_poll; this file only reads the log and writes the chunks. */
#ifndef PIDVISOR_LOGTAIL_H
#define PIDVISOR_LOGTAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define LOGTAIL_POLL_S 0.1 /* how often the log is looked at */

struct logtail;
struct process;
struct supervisor;

/* The stream a target asks for, or NULL with *status: 404 (no such process or log), 500. */
struct logtail *logtail_open(struct supervisor *sv, const char *target, int *status);
/* The answer's head: 200, a chunked body that ends with the stream. */
void logtail_write_head(const struct logtail *t, struct buf *out);
/* Appends, as chunks, what the log gained since the last look. out's bytes from `sent` on are
 * still to be written: past a bound of them, reading waits for the client to catch up. */
void logtail_poll(struct logtail *t, struct buf *out, size_t sent);
/* Whether the stream follows p's log (it ends when p goes). */
bool logtail_follows(const struct logtail *t, const struct process *p);
void logtail_free(struct logtail *t);

#endif
