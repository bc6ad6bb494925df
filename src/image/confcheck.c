/* Program and [supervisord] values of a stack, checked by the daemon's own config loader: each
 * chain's sections go to a temporary INI file whose every line remembers the stack file's line,
 * and config_load()'s messages are sent back there. */
#include "confcheck.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

/* Keys whose check depends on the machine running lint (users in /etc/passwd, directories that
 * exist), not on the image: left to the build's --check-config step. */
static const char *const host_keys[] = {"user",	   "stdout_logfile", "stderr_logfile", "directory",
					"logfile", "pidfile",	     "childlogdir"};

struct ini_map {
	struct buf text;
	int *yaml_line;		    /* [n] = the stack file's line of INI line n+1 */
	const struct image **owner; /* [n] = the image that line comes from */
	size_t n;
	const struct image *cur; /* the owner of lines put now */
};

static void put_line(struct ini_map *m, int yaml_line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put_line(struct ini_map *m, int yaml_line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&m->text, fmt, ap);
	va_end(ap);
	buf_putc(&m->text, '\n');
	m->yaml_line = array_grow(m->yaml_line, m->n, sizeof(*m->yaml_line));
	m->owner = array_grow(m->owner, m->n, sizeof(*m->owner));
	m->owner[m->n] = m->cur;
	m->yaml_line[m->n++] = yaml_line;
}

static bool host_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_keys); i++)
		if (strcmp(host_keys[i], key) == 0)
			return true;
	return false;
}

static void put_keys(struct ini_map *m, const struct smap *keys)
{
	for (size_t k = 0; k < keys->n; k++)
		if (!host_key(keys->v[k].k.s))
			put_line(m, keys->v[k].v.line, "%s=%s", keys->v[k].k.s, keys->v[k].v.s);
}

static void put_image(struct ini_map *m, const struct image *im)
{
	m->cur = im;
	for (size_t p = 0; p < im->nprograms; p++) {
		put_line(m, im->programs[p].name.line, "[program:%s]", im->programs[p].name.s);
		put_keys(m, &im->programs[p].keys);
	}
	for (size_t g = 0; g < im->ngroups; g++) {
		const struct group *gr = &im->groups[g];
		put_line(m, gr->name.line, "[group:%s]", gr->name.s);
		struct buf progs = {0};
		for (size_t p = 0; p < gr->programs.n; p++)
			buf_printf(&progs, "%s%s", p ? "," : "", gr->programs.v[p].s);
		put_line(m, gr->programs.n ? gr->programs.v[0].line : gr->name.line, "programs=%s",
			 progs.data ? progs.data : "");
		buf_free(&progs);
		if (gr->priority.s)
			put_line(m, gr->priority.line, "priority=%s", gr->priority.s);
	}
}

static bool seen(const struct diag *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->items[i].text, text) == 0)
			return true;
	return false;
}

/* "TMP:N: [warning: ]rest" → "STACK:LINE: IMAGE: rest", once. */
static void relay(const struct stack *st, const struct ini_map *m, const char *tmp,
		  const struct diag_item *it, struct diag *d)
{
	const struct image *im = NULL;
	size_t tn = strlen(tmp);
	const char *rest = it->text;
	int line = 0;
	if (strncmp(rest, tmp, tn) == 0 && rest[tn] == ':') {
		char *end;
		long n = strtol(rest + tn + 1, &end, 10);
		if (n > 0 && (size_t)n <= m->n && strncmp(end, ": ", 2) == 0) {
			line = m->yaml_line[n - 1];
			im = m->owner[n - 1];
			rest = end + 2;
		}
	}
	if (!line || !im)
		return; /* about the file as a whole: nothing a stack file line can fix */
	if (strncmp(rest, "warning: ", 9) == 0)
		rest += 9;
	struct diag one = {0};
	diag_add(&one, it->level, st->path, line, NULL, im->name.s, "%s", rest);
	if (!seen(d, one.items[0].text))
		diag_add(d, it->level, st->path, line, NULL, im->name.s, "%s", rest);
	diag_free(&one);
}

/* Loads m's text with config_load() and relays its messages. */
static void load_checked(const struct stack *st, struct ini_map *m, struct diag *d)
{
	const char *tmpdir = getenv("TMPDIR");
	char *tmp = xasprintf("%s/pidvisor-image-XXXXXX.conf", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemps(tmp, 5);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool ok = f && fputs(m->text.data, f) >= 0;
	if (f && fclose(f) != 0)
		ok = false;
	else if (!f && fd >= 0)
		close(fd);
	if (!ok) {
		diag_add(d, DIAG_ERROR, tmp, 0, NULL, NULL, "cannot write: %s", strerror(errno));
	} else {
		struct diag cd = {0};
		config_free(config_load(tmp, NULL, &cd));
		for (size_t k = 0; k < cd.n; k++)
			relay(st, m, tmp, &cd.items[k], d);
		diag_free(&cd);
	}
	if (fd >= 0)
		unlink(tmp);
	free(tmp);
	buf_free(&m->text);
	free(m->yaml_line);
	free(m->owner);
	memset(m, 0, sizeof(*m));
}

/* A root's [supervisord] keys on their own: an error there stops config_load() early. */
static void check_supervisord(const struct stack *st, const struct image *root, struct diag *d)
{
	struct ini_map m = {.cur = root};
	put_line(&m, 0, "[supervisord]");
	put_line(&m, 0, "logfile=/dev/null");
	put_keys(&m, &root->supervisord);
	load_checked(st, &m, d);
}

static void check_chain(const struct stack *st, size_t i, struct diag *d)
{
	struct ini_map m = {0};
	put_line(&m, 0, "[supervisord]");
	put_line(&m, 0, "logfile=/dev/null");
	for (int j = (int)i; j >= 0; j = st->images[j].parent)
		put_image(&m, &st->images[j]);
	load_checked(st, &m, d);
}

void check_program_values(const struct stack *st, struct diag *d)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct image *im = &st->images[i];
		if (im->root < 0)
			continue;
		if (im->parent < 0 && im->supervisord.n)
			check_supervisord(st, im, d);
		if (im->nprograms || im->ngroups)
			check_chain(st, i, d);
	}
}
