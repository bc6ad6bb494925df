/*
 * inih does the section and key recognition; a reader callback in front of it turns physical lines
 * into the logical lines Python's configparser sees: continuation lines joined with '\n', inline
 * comments cut only after whitespace, and values of any length. Debian's inih has a 200-byte line
 * buffer and splits longer lines, so inih is handed the key with a short placeholder value and the
 * handler takes the real value, kept aside by the reader.
 */
#include "inifile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

struct reader {
	struct ini_doc *doc;
	struct diag *d;
	const char *file; /* owned by doc */
	const char *p, *end;
	int lineno;	 /* physical line of the next unread line */
	int cur_line;	 /* physical line where the logical line handed out last starts */
	char *cur_value; /* the real value of that line, when it is a key line */
	struct ini_section *cur_sec;
	int errors;
};

static struct ini_section *section_get(struct ini_doc *doc, const char *name, const char *file,
				       int line);

static bool is_comment_start(const char *s)
{
	return *s == ';' || *s == '#';
}

/* Python: an inline ';' or '#' counts as a comment only after whitespace. */
static size_t strip_inline_comment(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((s[i] == ';' || s[i] == '#') && isspace((unsigned char)s[i - 1]))
			return i;
	return n;
}

static const char *next_physical(struct reader *r, size_t *len)
{
	if (r->p >= r->end)
		return NULL;
	const char *s = r->p;
	const char *nl = memchr(s, '\n', (size_t)(r->end - s));
	size_t n = nl ? (size_t)(nl - s) : (size_t)(r->end - s);
	r->p = nl ? nl + 1 : r->end;
	r->lineno++;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*len = n;
	return s;
}

/* Python's str.strip() whitespace, form feeds and vertical tabs included */
static size_t indent_of(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i;
}

static bool blank_or_comment(const char *s, size_t n)
{
	size_t i = indent_of(s, n);
	return i == n || is_comment_start(s + i);
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static void reader_error(struct reader *r, int line, const char *fmt, const char *arg)
{
	const char *sec = r->cur_sec ? r->cur_sec->name : NULL;
	diag_add(r->d, DIAG_ERROR, r->file, line, sec, NULL, fmt, arg);
	r->errors++;
}

/* What the reader hands inih for a line it refused: a comment, which inih skips. */
static char *refused(char *buf, int num)
{
	snprintf(buf, (size_t)num, ";");
	return buf;
}

/* "[name]", recorded here: inih does not report empty sections. */
static char *section_line(struct reader *r, char *buf, int num, const char *s, size_t n)
{
	const char *close = NULL;
	for (size_t i = n; i > 1; i--)
		if (s[i - 1] == ']') {
			close = s + i - 1;
			break;
		}
	if (!close || close == s + 1) {
		reader_error(r, r->cur_line, "malformed section header: %s", "missing ']'");
		return refused(buf, num);
	}
	if ((int)(close - s) + 2 > num) {
		reader_error(r, r->cur_line, "section name too long%s", "");
		return refused(buf, num);
	}
	char *name = xstrndup(s + 1, (size_t)(close - s - 1));
	r->cur_sec = section_get(r->doc, name, r->file, r->cur_line);
	snprintf(buf, (size_t)num, "[%s]", name);
	free(name);
	return buf;
}

/* Continuation lines: indented deeper than the key line (ind); blank lines inside are kept. */
static void read_continuation(struct reader *r, struct buf *val, size_t ind)
{
	int blanks = 0;
	for (;;) {
		const char *save_p = r->p;
		int save_line = r->lineno;
		size_t cn;
		const char *c = next_physical(r, &cn);
		if (!c)
			break;
		size_t cind = indent_of(c, cn);
		if (cind == cn) {
			blanks++;
			continue;
		}
		if (is_comment_start(c + cind)) {
			continue;
		}
		if (cind <= ind) {
			r->p = save_p;
			r->lineno = save_line;
			break;
		}
		cn = strip_inline_comment(c, cn);
		trim(&c, &cn);
		for (; blanks > 0; blanks--)
			buf_putc(val, '\n');
		buf_putc(val, '\n');
		buf_append(val, c, cn);
	}
}

/* key = value or key: value, the key ending at the first delimiter. inih gets "key=x" and the
 * value, continuation lines and all, waits in r->cur_value. */
static char *key_line(struct reader *r, char *buf, int num, const char *s, size_t n, size_t ind)
{
	const char *delim = NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '=' || s[i] == ':') {
			delim = s + i;
			break;
		}
	if (!delim) {
		char *shown = xasprintf("%.*s", (int)(n > 60 ? 60 : n), s);
		reader_error(r, r->cur_line, "not a 'key = value' line: '%s'", shown);
		free(shown);
		return refused(buf, num);
	}
	const char *k = s;
	size_t kn = (size_t)(delim - s);
	trim(&k, &kn);
	if (kn == 0 || (int)kn + 3 > num) {
		reader_error(r, r->cur_line, kn ? "key too long%s" : "empty key%s", "");
		return refused(buf, num);
	}
	const char *v = delim + 1;
	size_t vn = (size_t)(s + n - v);
	trim(&v, &vn);

	struct buf val = {0};
	buf_append(&val, v, vn);
	read_continuation(r, &val, ind);
	r->cur_value = buf_xsteal(&val);
	snprintf(buf, (size_t)num, "%.*s=x", (int)kn, k);
	return buf;
}

/* inih's reader: fills buf with one logical line, as "[section]" or "key=x". */
static char *ini_reader_cb(char *buf, int num, void *stream)
{
	struct reader *r = stream;
	const char *s;
	size_t n;

	free(r->cur_value);
	r->cur_value = NULL;
	for (;;) {
		s = next_physical(r, &n);
		if (!s)
			return NULL;
		if (!blank_or_comment(s, n))
			break;
	}
	r->cur_line = r->lineno;
	size_t ind = indent_of(s, n);
	n = strip_inline_comment(s, n);
	trim(&s, &n);
	if (*s == '[')
		return section_line(r, buf, num, s, n);
	return key_line(r, buf, num, s, n, ind);
}

static struct ini_section *section_get(struct ini_doc *doc, const char *name, const char *file,
				       int line)
{
	struct ini_section *sec = ini_find_section(doc, name);
	if (sec)
		return sec;
	if (doc->n == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 16;
		doc->sections = xrealloc(doc->sections, doc->cap * sizeof(*doc->sections));
	}
	if (doc->n == 0)
		doc->default_index = SIZE_MAX;
	if (strcmp(name, "DEFAULT") == 0)
		doc->default_index = doc->n;
	sec = &doc->sections[doc->n++];
	memset(sec, 0, sizeof(*sec));
	sec->name = xstrdup(name);
	struct strtab_entry *e = strtab_put(&doc->index, sec->name, strlen(sec->name));
	if (!e)
		xalloc_failed();
	e->val = (void *)(uintptr_t)doc->n;
	sec->file = file;
	sec->line = line;
	return sec;
}

static void section_set(struct ini_section *sec, const char *key, char *value, const char *file,
			int line)
{
	for (size_t i = 0; i < sec->n; i++) {
		struct ini_entry *e = &sec->entries[i];
		if (strcmp(e->key, key) == 0) {
			free(e->value);
			e->value = value;
			e->file = file;
			e->line = line;
			return;
		}
	}
	if (sec->n == sec->cap) {
		sec->cap = sec->cap ? sec->cap * 2 : 16;
		sec->entries = xrealloc(sec->entries, sec->cap * sizeof(*sec->entries));
	}
	struct ini_entry *e = &sec->entries[sec->n++];
	e->key = xstrdup(key);
	str_lower(e->key);
	e->value = value;
	e->file = file;
	e->line = line;
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	(void)value;

	if (!name)
		return 1;
	if (!r->cur_sec) {
		reader_error(r, r->cur_line, "key '%s' before any [section] header", name);
		return 1;
	}
	char *key = xstrdup(name);
	str_lower(key);
	section_set(r->cur_sec, key, r->cur_value ? r->cur_value : xstrdup(""), r->file,
		    r->cur_line);
	r->cur_value = NULL;
	free(key);
	return 1;
}

int ini_load_string(struct ini_doc *doc, const char *name, const char *text, size_t len,
		    struct diag *d)
{
	doc->files = xrealloc(doc->files, (doc->nfiles + 1) * sizeof(char *));
	char *file = xstrdup(name);
	doc->files[doc->nfiles++] = file;

	/* A NUL would end every C string it is in: a value would be cut there, silently. */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;
		const char *bol = text;
		for (const char *p = text; p < nul; p++)
			if (*p == '\n') {
				line++;
				bol = p + 1;
			}
		diag_add(d, DIAG_ERROR, file, line, NULL, NULL,
			 "NUL byte at column %zu (a config file is text)", (size_t)(nul - bol) + 1);
		return -1;
	}
	struct reader r = {.doc = doc, .d = d, .file = file, .p = text, .end = text + len};
	int rc = ini_parse_stream(ini_reader_cb, &r, ini_handler_cb, &r);
	free(r.cur_value);
	if (rc > 0 && r.errors == 0) {
		/* inih found something our reader let through; should not happen, but say so. */
		diag_add(d, DIAG_ERROR, file, 0, NULL, NULL, "cannot parse this file");
		return -1;
	}
	if (rc < 0) {
		diag_add(d, DIAG_ERROR, file, 0, NULL, NULL, "cannot parse this file (%d)", rc);
		return -1;
	}
	return r.errors ? -1 : 0;
}

static const char too_big[] = "larger than 16 MiB, the most a config file may be";

const char *ini_file_refusal(const struct stat *st)
{
	/* /dev/null reads as an empty file: `supervisorctl -c /dev/null -s URL` is an idiom */
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3))
		return NULL;
	if (!S_ISREG(st->st_mode))
		return "not a regular file (a config file must be one)";
	if (st->st_size > INI_MAX_FILE_BYTES)
		return too_big;
	return NULL;
}

/* O_NONBLOCK keeps the open of a FIFO from waiting for a writer; fstat then refuses it. The read
 * is bounded too: a file may grow, and /proc files say they are empty. */
const char *ini_read_file(const char *path, struct buf *out, bool *not_opened)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	*not_opened = fd < 0;
	buf_init(out, INI_MAX_FILE_BYTES);
	if (fd < 0)
		return strerror(errno);
	struct stat st;
	const char *bad = fstat(fd, &st) < 0 ? strerror(errno) : ini_file_refusal(&st);
	char chunk[65536];
	ssize_t got = 0;
	while (!bad && (got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			bad = strerror(errno);
		else if (!buf_append(out, chunk, (size_t)got))
			bad = too_big;
	}
	close(fd);
	return bad;
}

static int read_config_file(const char *path, struct buf *out, struct diag *d)
{
	bool not_opened;
	const char *bad = ini_read_file(path, out, &not_opened);
	if (!bad)
		return 0;
	diag_add(d, DIAG_ERROR, path, 0, NULL, NULL, "%s%s", not_opened ? "cannot open: " : "",
		 bad);
	return -1;
}

int ini_load(struct ini_doc *doc, const char *path, struct diag *d)
{
	struct buf sb = {0};
	int rc = -1;
	if (read_config_file(path, &sb, d) == 0)
		rc = ini_load_string(doc, path, sb.data ? sb.data : "", sb.len, d);
	buf_free(&sb);
	return rc;
}

void ini_free(struct ini_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++) {
		struct ini_section *s = &doc->sections[i];
		for (size_t j = 0; j < s->n; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(doc->sections);
	strtab_free(&doc->index);
	for (size_t i = 0; i < doc->nfiles; i++)
		free(doc->files[i]);
	free(doc->files);
	memset(doc, 0, sizeof(*doc));
}

struct ini_section *ini_find_section(const struct ini_doc *doc, const char *name)
{
	uintptr_t i = (uintptr_t)strtab_find(&doc->index, name);
	return i ? &doc->sections[i - 1] : NULL;
}

const struct ini_entry *ini_find(const struct ini_doc *doc, const struct ini_section *sec,
				 const char *key)
{
	if (sec)
		for (size_t i = 0; i < sec->n; i++)
			if (strcmp(sec->entries[i].key, key) == 0)
				return &sec->entries[i];
	const struct ini_section *def =
	    doc->default_index < doc->n ? &doc->sections[doc->default_index] : NULL;
	if (def && def != sec)
		for (size_t i = 0; i < def->n; i++)
			if (strcmp(def->entries[i].key, key) == 0)
				return &def->entries[i];
	return NULL;
}

const char *ini_get(const struct ini_doc *doc, const char *section, const char *key)
{
	const struct ini_section *sec = ini_find_section(doc, section);
	if (!sec)
		return NULL;
	const struct ini_entry *e = ini_find(doc, sec, key);
	return e ? e->value : NULL;
}
