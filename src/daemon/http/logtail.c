#include "logtail.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child_output.h"
#include "http.h"
#include "mainlog.h"
#include "supervisor.h"
#include "utf8.h"

#define TAIL_FIRST   1024	   /* of what the log holds at the start, the end sent first */
#define TAIL_OUT_MAX (1024 * 1024) /* queued for the client: reading waits above */

struct logtail {
	char *path;	      /* a log file, or NULL: the in-memory tail of proc */
	struct process *proc; /* whose log it is: the stream ends when the process goes */
	int channel;
	ino_t ino;
	off_t pos;
	time_t mtime; /* at the start, for Last-Modified */
	bool sent;    /* something was sent: pos is at a character's start */
};

static size_t queued(const struct buf *out, size_t sent)
{
	return out->len - sent;
}

static void send_bytes(struct buf *out, const char *data, size_t len)
{
	if (len)
		http_write_chunk(out, data, len);
}

/* Sends the whole UTF-8 characters of a piece of log read at pos (supervisorctl decodes each
 * chunk on its own): the rest of a character begun before the first read is skipped, one cut at
 * the end waits for the next read. The bytes used up; 0 when nothing whole is there yet. */
static size_t send_text(struct buf *out, const char *data, size_t len, bool first)
{
	size_t skip = 0;
	while (first && skip < len && skip < 3 && ((unsigned char)data[skip] & 0xC0) == 0x80)
		skip++;
	size_t whole = len - skip - utf8_cut(data + skip, len - skip);
	send_bytes(out, data + skip, whole);
	return whole ? skip + whole : 0;
}

static void send_truncated(struct logtail *t, struct buf *out)
{
	static const char msg[] = "==> File truncated <==\n";
	send_bytes(out, msg, sizeof(msg) - 1);
	t->pos = 0;
}

static void poll_memory(struct logtail *t, struct buf *out, size_t sent)
{
	off_t size = (off_t)output_tail_size(t->proc, t->channel);
	if (size < t->pos)
		send_truncated(t, out);
	char buf[65536];
	while (t->pos < size && queued(out, sent) <= TAIL_OUT_MAX) {
		size_t got = output_tail_read(t->proc, t->channel, (unsigned long long)t->pos,
					      sizeof(buf), buf);
		if (got)
			got = send_text(out, buf, got, !t->sent);
		if (!got)
			break;
		t->sent = true;
		t->pos += (off_t)got;
	}
}

/* Handles rotation (a new inode: followed from its start) and truncation. */
static void poll_file(struct logtail *t, struct buf *out, size_t sent)
{
	struct stat st;
	if (stat(t->path, &st) < 0)
		return;
	if (st.st_ino != t->ino) {
		t->ino = st.st_ino;
		t->pos = 0;
	} else if (st.st_size < t->pos) {
		send_truncated(t, out);
	}
	if (st.st_size <= t->pos)
		return;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	char buf[65536];
	while (t->pos < st.st_size && queued(out, sent) <= TAIL_OUT_MAX) {
		size_t want = sizeof(buf);
		if ((off_t)want > st.st_size - t->pos)
			want = (size_t)(st.st_size - t->pos);
		ssize_t r = pread(fd, buf, want, t->pos);
		size_t got = r > 0 ? send_text(out, buf, (size_t)r, !t->sent) : 0;
		if (!got)
			break;
		t->sent = true;
		t->pos += (off_t)got;
	}
	close(fd);
}

void logtail_poll(struct logtail *t, struct buf *out, size_t sent)
{
	if (queued(out, sent) > TAIL_OUT_MAX)
		return; /* the reader is slow: let it catch up first */
	if (t->path)
		poll_file(t, out, sent);
	else
		poll_memory(t, out, sent);
}

static struct logtail *start(const char *path, struct process *proc, int channel, int *status)
{
	struct stat st;
	if (!path && proc && output_has_tail(proc, channel)) {
		st.st_size = (off_t)output_tail_size(proc, channel);
		st.st_mtime = time(NULL);
		st.st_ino = 0;
	} else if (!path || stat(path, &st) < 0) {
		*status = 404;
		return NULL;
	}
	struct logtail *t = calloc(1, sizeof(*t));
	if (!t || (path && !(t->path = strdup(path)))) {
		free(t);
		*status = 500;
		return NULL;
	}
	t->proc = proc;
	t->channel = channel;
	t->ino = st.st_ino;
	t->mtime = st.st_mtime;
	t->pos = st.st_size > TAIL_FIRST ? st.st_size - TAIL_FIRST : 0;
	return t;
}

struct logtail *logtail_open(struct supervisor *sv, const char *target, int *status)
{
	if (strcmp(target, "/mainlogtail") == 0)
		return start(log_path(), NULL, 0, status);
	char spec[1024];
	snprintf(spec, sizeof(spec), "%s", target + strlen("/logtail/"));
	int channel = 1;
	char *slash = strrchr(spec, '/');
	if (slash && (!strcmp(slash + 1, "stdout") || !strcmp(slash + 1, "stderr"))) {
		channel = !strcmp(slash + 1, "stderr") ? 2 : 1;
		*slash = '\0';
	}
	/* "%2A" -> "*", as supervisord unquotes the namespec */
	http_percent_decode(spec, sizeof(spec), spec, strlen(spec), false);
	char group[1024], name[1024];
	const char *colon = strchr(spec, ':');
	snprintf(group, sizeof(group), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec),
		 spec);
	snprintf(name, sizeof(name), "%s", colon ? colon + 1 : spec);
	struct process *p = supervisor_find(sv, group, name);
	return start(p ? output_logfile(p, channel) : NULL, p, channel, status);
}

void logtail_write_head(const struct logtail *t, struct buf *out)
{
	char extra[256], date[64];
	struct tm tm;
	gmtime_r(&t->mtime, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(extra, sizeof(extra), "Last-Modified: %s\r\nX-Accel-Buffering: no\r\n", date);
	http_write_response_head(out, 200, "text/plain;charset=utf-8", -1, true, extra);
}

bool logtail_follows(const struct logtail *t, const struct process *p)
{
	return t->proc == p;
}

void logtail_free(struct logtail *t)
{
	if (!t)
		return;
	free(t->path);
	free(t);
}
