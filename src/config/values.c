#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signals.h"

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, long long *out)
{
	static const struct {
		const char *suffix;
		long long mult;
	} units[] = {{"kb", 1024LL}, {"mb", 1024LL * 1024}, {"gb", 1024LL * 1024 * 1024}};
	size_t n = strlen(s);
	long long mult = 1;
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (n > 2 && strcasecmp(buf + n - 2, units[i].suffix) == 0) {
			mult = units[i].mult;
			buf[n - 2] = '\0';
			break;
		}
	long long v;
	if (parse_int(str_strip(buf), 0, (1LL << 62) / mult, &v) < 0)
		return -1;
	*out = v * mult;
	return 0;
}

int parse_octal(const char *s, int *out)
{
	char *end;
	if (!*s)
		return -1;
	long v = strtol(s, &end, 8);
	if (*end != '\0' || v < 0 || v > 07777)
		return -1;
	*out = (int)v;
	return 0;
}

int parse_signal(const char *s, int *out)
{
	int sig = signal_parse(s);
	if (sig < 0)
		return -1;
	*out = sig;
	return 0;
}

int parse_exitcodes(const char *s, struct exitcodes *out)
{
	memset(out, 0, sizeof(*out));
	char *copy = xstrdup(s), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long long v;
		if (parse_int(str_strip(tok), 0, 255, &v) < 0) {
			rc = -1;
			break;
		}
		out->bits[v / 64] |= 1ULL << (v % 64);
	}
	free(copy);
	return rc;
}

bool exitcodes_has(const struct exitcodes *ec, int code)
{
	if (code < 0 || code > 255)
		return false;
	return (ec->bits[code / 64] >> (code % 64)) & 1;
}

/* shlex in non-POSIX mode as supervisord uses it: word characters, quotes kept whole. */
static bool env_wordchar(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("_/.+-():", c));
}

/* Docker's --env-file and systemd's EnvironmentFile= read the same lines: KEY=value, comments,
 * blank lines; quotes are taken off a value that is wholly quoted. */
int parse_envfile(const char *text, size_t len, struct strvec *out, int *line, char **why)
{
	const char *p = text, *end = text + len;
	*why = NULL;
	for (*line = 1; p < end; (*line)++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		const char *a = p, *b = stop;
		p = nl ? nl + 1 : end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b || *a == '#')
			continue;
		if (b - a > 7 && !strncmp(a, "export", 6) && isspace((unsigned char)a[6]))
			for (a += 6; a < b && isspace((unsigned char)*a); a++)
				;
		const char *k = a;
		while (a < b && (isalnum((unsigned char)*a) || *a == '_' || *a == '.'))
			a++;
		size_t kn = (size_t)(a - k);
		if (kn == 0 || isdigit((unsigned char)*k) || a == b || *a != '=') {
			*why = xasprintf("expected KEY=value, not '%.*s'",
					 (int)(b - k > 40 ? 40 : b - k), k);
			return -1;
		}
		a++;
		if (b - a >= 2 && (*a == '"' || *a == '\'') && b[-1] == *a) {
			a++;
			b--;
		}
		if (memchr(a, '\0', (size_t)(b - a))) {
			*why = xstrdup("a NUL byte in a value");
			return -1;
		}
		sv_push(out, xasprintf("%.*s=%.*s", (int)kn, k, (int)(b - a), a));
	}
	return 0;
}

/* supervisord splits environment with Python's shlex, for which an unquoted # starts a comment
 * to the end of the line: between tokens it is blank, inside a word the word goes on after the
 * newline. What it drops is noted in dropped. */
static void skip_comment(const char **p, struct buf *dropped)
{
	size_t n = strcspn(*p, "\n");
	buf_printf(dropped, "%s%.*s", dropped->len ? " " : "", (int)n, *p);
	*p += n + ((*p)[n] == '\n');
}

static void skip_blank(const char **p, struct buf *dropped)
{
	for (;;) {
		while (isspace((unsigned char)**p))
			(*p)++;
		if (**p != '#')
			return;
		skip_comment(p, dropped);
	}
}

static void env_word(const char **p, struct buf *w, struct buf *dropped)
{
	while (env_wordchar(**p) || **p == '#') {
		if (**p == '#')
			skip_comment(p, dropped);
		else
			buf_putc(w, *(*p)++);
	}
}

int parse_environment(const char *s, struct strvec *out, char **why)
{
	const char *p = s;
	struct buf dropped = {0}, key = {0}, v = {0};
	*why = NULL;
	for (;;) {
		skip_blank(&p, &dropped);
		if (!*p)
			break;
		/* supervisord refuses an empty item (A=1,,B=2 or a leading comma); one trailing
		 * comma is fine */
		if (*p == ',') {
			*why = xasprintf(
			    "empty item at '%.30s' (two commas in a row, or a leading comma)", p);
			goto fail;
		}
		const char *k = p;
		key.len = v.len = 0;
		env_word(&p, &key, &dropped);
		skip_blank(&p, &dropped);
		if (key.len == 0 || *p != '=') {
			*why = xasprintf("expected KEY=value at '%.30s'", k);
			goto fail;
		}
		p++;
		skip_blank(&p, &dropped);
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			const char *end = strchr(p, q);
			if (!end) {
				*why = xasprintf("unclosed %c quote in the value of %.*s", q,
						 (int)key.len, key.data);
				goto fail;
			}
			buf_append(&v, p, (size_t)(end - p));
			p = end + 1;
		} else {
			env_word(&p, &v, &dropped);
		}
		skip_blank(&p, &dropped);
		if (*p && *p != ',') {
			*why = xasprintf("unexpected '%c' in the value of %.*s (quote values "
					 "that contain it)",
					 *p, (int)key.len, key.data);
			goto fail;
		}
		sv_push(out, xasprintf("%.*s=%.*s", (int)key.len, key.data, (int)v.len,
				       v.data ? v.data : ""));
		if (*p == ',')
			p++;
	}
	if (dropped.len)
		*why = xasprintf("an unquoted # starts a comment, as in supervisord: '%.*s' is "
				 "dropped (quote the value to keep it)",
				 (int)dropped.len, dropped.data);
	buf_free(&dropped);
	buf_free(&key);
	buf_free(&v);
	return 0;
fail:
	buf_free(&dropped);
	buf_free(&key);
	buf_free(&v);
	sv_free(out);
	return -1;
}

int split_command(const char *s, struct strvec *out, char **why)
{
	const char *p = s;
	*why = NULL;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		struct buf w = {0};
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end) {
					*why = xstrdup("no closing quotation");
					buf_free(&w);
					goto fail;
				}
				buf_append(&w, p + 1, (size_t)(end - p - 1));
				p = end + 1;
			} else if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1]))
						p++;
					buf_putc(&w, *p++);
				}
				if (*p != '"') {
					*why = xstrdup("no closing quotation");
					buf_free(&w);
					goto fail;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1]) {
					*why = xstrdup("no escaped character");
					buf_free(&w);
					goto fail;
				}
				buf_putc(&w, p[1]);
				p += 2;
			} else {
				buf_putc(&w, *p++);
			}
		}
		sv_push(out, buf_xsteal(&w));
	}
	return 0;
fail:
	sv_free(out);
	return -1;
}

bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || *s == ':' || *s == '/')
			return false;
	return true;
}
