/* How a program's lines look on pidvisor's stdout/stderr: plain, with a timestamp, "name | "
 * prefixed (aligned and coloured), or JSON (docs/logging.md). Knows lines and names, not
 * processes. */
#include "line_format.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "util.h"

/* Ends a piece of a line in the plain and prefix formats (JSON says "partial": true). */
#define PARTIAL_MARK "\\"

static struct buf scratch; /* the lines being framed; kept for the next batch */

#define TIMESTAMP_MAX 64
/* The time now, at out (TIMESTAMP_MAX bytes of room): "YYYY-MM-DD HH:MM:SS,mmm " in local time,
 * or ISO 8601 in UTC ("YYYY-MM-DDTHH:MM:SS.mmmZ") when iso. Returns its length. */
static size_t timestamp(char *out, bool iso)
{
	struct timeval tv;
	struct tm tm;
	char day[48];
	gettimeofday(&tv, NULL);
	if (iso)
		gmtime_r(&tv.tv_sec, &tm);
	else
		localtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	int n = snprintf(out, TIMESTAMP_MAX, iso ? "%s.%03dZ" : "%s,%03d ", day,
			 (int)(tv.tv_usec / 1000));
	return n < 0 ? 0 : MIN((size_t)n, TIMESTAMP_MAX - 1);
}

static const char *const colors[] = {"\033[36m", "\033[32m", "\033[33m", "\033[35m",
				     "\033[34m", "\033[96m", "\033[92m", "\033[93m"};

/* "name | " (or "name + " for the continuation of a line too long for one piece), padded to the
 * widest name and coloured when asked: built once per batch of lines, not per line. */
struct prefix {
	char text[2][320]; /* [0] starts a line, [1] continues one */
	size_t len[2];
};

static void prefix_build(const struct line_style *st, struct prefix *pf)
{
	const char *name = st->name;
	bool color = st->color;
	unsigned hash = 0;
	for (const char *q = name; *q; q++)
		hash = hash * 31 + (unsigned char)*q;
	for (int k = 0; k < 2; k++) {
		int n = snprintf(pf->text[k], sizeof(pf->text[k]), "%s%-*.*s %c %s",
				 color ? colors[hash % ARRAY_SIZE(colors)] : "", st->name_width,
				 256, name, k ? '+' : '|', color ? "\033[0m" : "");
		if (n < 0)
			n = 0;
		pf->len[k] = MIN((size_t)n, sizeof(pf->text[k]) - 1);
	}
}

/* One line (without its newline) in the JSON format. partial: a piece of a line longer than
 * the line buffer whose end comes in a later piece. */
static void json_line(const struct line_style *st, bool continued, const char *p, size_t n,
		      bool partial, struct buf *sb)
{
	const char *name = st->name;
	char ts[TIMESTAMP_MAX];
	buf_puts(sb, "{\"ts\":\"");
	buf_append(sb, ts, timestamp(ts, true));
	buf_puts(sb, "\",\"program\":");
	json_string(sb, name, strlen(name));
	buf_printf(sb, ",\"stream\":\"%s\",\"line\":", st->channel == 2 ? "stderr" : "stdout");
	json_string(sb, p, n);
	if (partial || continued)
		buf_printf(sb, ",\"partial\":%s", partial ? "true" : "false");
	buf_puts(sb, "}\n");
}

/*
 * The plain format with log_timestamp, and the prefix format: every line as the time (when
 * asked), "name | " (prefix format), the line, the partial mark of a piece and a newline, built
 * in one pass into room reserved once (a piece of a line and its rest come in separate calls).
 */
static void prefixed_lines(struct sink *sink, const struct line_style *st, bool *continued,
			   const char *p, size_t n, bool partial)
{
	struct prefix pf = {.len = {0, 0}};
	if (st->format == LOG_FORMAT_PREFIX)
		prefix_build(st, &pf);
	bool ts = st->timestamp;
	size_t per_line =
	    MAX(pf.len[0], pf.len[1]) + (ts ? TIMESTAMP_MAX : 0) + sizeof(PARTIAL_MARK);
	buf_reset(&scratch);
	if (!buf_reserve(&scratch, n + (count_newlines(p, n) + 1) * per_line))
		return; /* out of memory: these lines are lost to stdout only */
	char *o = scratch.data;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		bool piece = !nl && partial;
		if (ts)
			o += timestamp(o, false);
		memcpy(o, pf.text[*continued], pf.len[*continued]);
		o += pf.len[*continued];
		memcpy(o, p, len);
		o += len;
		if (piece) {
			memcpy(o, PARTIAL_MARK, sizeof(PARTIAL_MARK) - 1);
			o += sizeof(PARTIAL_MARK) - 1;
		}
		*o++ = '\n';
		*continued = piece;
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
	scratch.len = (size_t)(o - scratch.data);
	scratch.data[scratch.len] = '\0';
	sink_write_line(sink, scratch.data, scratch.len);
}

void lines_to_sink(struct sink *sink, const struct line_style *st, bool *continued, const char *p,
		   size_t n, bool partial)
{
	if (st->format == LOG_FORMAT_PLAIN && !st->timestamp) {
		sink_write_line(sink, p, n);
		if (partial) /* a piece: marked, and the next line kept apart */
			sink_write_line(sink, PARTIAL_MARK "\n", sizeof(PARTIAL_MARK));
		else if (n > 0 && p[n - 1] != '\n') /* a run's last line */
			sink_write_line(sink, "\n", 1);
		return;
	}
	if (st->format != LOG_FORMAT_JSON) {
		prefixed_lines(sink, st, continued, p, n, partial);
		return;
	}
	buf_reset(&scratch);
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		json_line(st, *continued, p, len, !nl && partial, &scratch);
		*continued = !nl && partial;
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
	if (!scratch.failed) /* out of memory: these lines are lost to stdout only */
		sink_write_line(sink, scratch.data, scratch.len);
}

void strip_ansi(char *p, size_t *n)
{
	size_t o = 0;
	for (size_t i = 0; i < *n; i++) {
		if (p[i] == '\033' && i + 1 < *n && p[i + 1] == '[') {
			size_t j = i + 2;
			while (j < *n &&
			       (isdigit((unsigned char)p[j]) || p[j] == ';' || p[j] == '?'))
				j++;
			if (j < *n) {
				i = j; /* the final byte of the sequence */
				continue;
			}
		}
		p[o++] = p[i];
	}
	*n = o;
}
