#include "mainlog.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "log_target.h"
#include "logfile.h"
#include "stdout_sink.h"
#include "util.h"

static struct {
	int level;
	enum log_target target;
	struct logfile file; /* LOG_TARGET_FILE */
	bool to_stdout;	     /* in the foreground, unless silent */
	bool opened;
} L = {.level = LOG_LEVEL_INFO, .file = {.fd = -1, .main = true}};

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
	if (L.target == LOG_TARGET_STDERR)
		return "/dev/stderr";
	return L.file.path;
}

int log_open(const struct supervisord_conf *sd, bool to_stdout, char **err)
{
	log_close();
	free(L.file.path);
	L.file = (struct logfile){.fd = -1, .main = true};
	L.level = sd->loglevel;
	L.to_stdout = to_stdout;
	L.opened = true;
	L.target = log_target_of(sd->logfile);
	switch (L.target) {
	case LOG_TARGET_STDOUT:
		L.to_stdout = true; /* already on stdout: don't write every line twice */
		break;
	case LOG_TARGET_FILE:
	case LOG_TARGET_AUTO: /* not a keyword for the main log: a file named AUTO */
		L.target = LOG_TARGET_FILE;
		L.file.path = xstrdup(sd->logfile);
		L.file.maxbytes = sd->logfile_maxbytes;
		L.file.backups = sd->logfile_backups;
		if (logfile_open(&L.file) < 0) {
			*err = xasprintf("[supervisord] logfile: cannot open the log file %s: %s "
					 "(set logfile to a writable path, or to /dev/stdout)",
					 L.file.path, strerror(errno));
			free(L.file.path);
			L.file.path = NULL;
			L.target = LOG_TARGET_NONE;
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

void log_close(void)
{
	logfile_close(&L.file);
}

int log_reopen(void)
{
	return L.file.path ? logfile_reopen(&L.file) : 0;
}

/* "2026-11-23 22:50:00,123 INFO ": supervisord's time and level tag; returns its length. */
static int format_head(char *line, size_t size, int level)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	int n = (int)strftime(line, size, "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(line + n, size - (size_t)n, ",%03d %s ", (int)(tv.tv_usec / 1000),
		      level_tags[level < 0   ? 0
				 : level > 6 ? 6
					     : level]);
	return n;
}

/* supervisord's format: "2026-11-23 22:50:00,123 INFO message\n"; returns the length. */
static int format_line(char *line, size_t size, int level, const char *fmt, va_list ap)
{
	int n = format_head(line, size, level);
	int m = vsnprintf(line + n, size - (size_t)n - 1, fmt, ap);
	n = m < 0 ? n : (n + m > (int)size - 2 ? (int)size - 2 : n + m);
	line[n++] = '\n';
	return n;
}

/* The copies that are not the main log file: stdout in the foreground, and where the target
 * says. */
static void write_elsewhere(const char *line, size_t n)
{
	if (!L.opened) {
		sink_write_line(sink_stderr(), line, n);
		return;
	}
	if (L.target == LOG_TARGET_STDERR)
		sink_write_line(sink_stderr(), line, n);
	else if (L.target == LOG_TARGET_SYSLOG)
		syslog_send(program_invocation_short_name, line, n - 1);
	if (L.to_stdout)
		sink_write_line(sink_stdout(), line, n);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > L.level)
		return;
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = format_line(line, sizeof(line), level, fmt, ap);
	va_end(ap);
	if (L.opened && L.file.path)
		logfile_write(&L.file, line, (size_t)n);
	write_elsewhere(line, (size_t)n);
}

void log_msg_elsewhere(int level, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = format_line(line, sizeof(line), level, fmt, ap);
	va_end(ap);
	write_elsewhere(line, (size_t)n);
	/* a main log that only goes to its file would otherwise keep this to itself */
	if (L.target == LOG_TARGET_FILE && !L.to_stdout)
		sink_write_line(sink_stderr(), line, (size_t)n);
}

/*
 * Python's repr() of a str (bytes false) or of bytes: quoted with ' unless the text holds a '
 * and no ", backslash escapes for the quote, \\, \t, \n, \r, and \xNN for other control
 * bytes (for bytes, every byte past 0x7e too; a str keeps its printable UTF-8 as it is).
 */
static void py_repr(struct buf *b, const char *p, size_t n, bool bytes)
{
	char q = memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';
	if (bytes)
		buf_putc(b, 'b');
	buf_putc(b, q);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		bool c1 = !bytes && c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] < 0xa0;
		if (c1)
			c = (unsigned char)p[++i]; /* U+0080..U+009F: not printable */
		if (c == '\\' || c == (unsigned char)q)
			buf_printf(b, "\\%c", c);
		else if (c == '\t' || c == '\n' || c == '\r')
			buf_printf(b, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
		else if (c < 0x20 || c == 0x7f || c1 || (bytes && c > 0x7e))
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, q);
}

void log_child_output(const char *name, const char *channel, const char *p, size_t n)
{
	if (!log_enabled(LOG_LEVEL_DEBUG) || n == 0)
		return;
	/* supervisord: '%(name)r %(channel)s output:\n%(data)s', the data decoded as UTF-8 or
	 * else 'Undecodable: %r' of the bytes */
	struct buf b = {0};
	char head[64];
	buf_append(&b, head, (size_t)format_head(head, sizeof(head), LOG_LEVEL_DEBUG));
	py_repr(&b, name, strlen(name), false);
	buf_printf(&b, " %s output:\n", channel);
	if (utf8_valid(p, n))
		buf_append(&b, p, n);
	else {
		buf_puts(&b, "Undecodable: ");
		py_repr(&b, p, n, true);
	}
	buf_putc(&b, '\n');
	if (!b.failed) { /* out of memory: this copy is lost, the program's own log is not */
		if (L.opened && L.file.path)
			logfile_write(&L.file, b.data, b.len);
		write_elsewhere(b.data, b.len);
	}
	buf_free(&b);
}

struct sink *log_copy_sink(void)
{
	if (L.to_stdout)
		return sink_stdout();
	return L.target == LOG_TARGET_STDERR ? sink_stderr() : NULL;
}
