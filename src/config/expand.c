#include "expand.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct value {
	const char *name;
	bool is_int;
	long long i;
	const char *s;
};

/* The names other than ENV_*, sorted, that ctx makes available: at most 6. */
static size_t fixed_names(const struct expand_ctx *ctx, struct value *v)
{
	size_t n = 0;
	if (ctx->group_name)
		v[n++] = (struct value){"group_name", false, 0, ctx->group_name};
	if (ctx->here)
		v[n++] = (struct value){"here", false, 0, ctx->here};
	if (ctx->host_node_name)
		v[n++] = (struct value){"host_node_name", false, 0, ctx->host_node_name};
	if (ctx->has_process_num) {
		v[n++] = (struct value){"numprocs", true, ctx->numprocs, NULL};
		v[n++] = (struct value){"process_num", true, ctx->process_num, NULL};
	}
	if (ctx->program_name)
		v[n++] = (struct value){"program_name", false, 0, ctx->program_name};
	return n;
}

static bool lookup(const struct expand_ctx *ctx, const char *name, struct value *v)
{
	if (strncmp(name, "ENV_", 4) == 0) {
		/* pidvisor's extension: %(ENV_X:-default)s, the default when X is unset or empty,
		 * as in the shell (supervisord refuses the name) */
		const char *dflt = strstr(name + 4, ":-");
		size_t n = dflt ? (size_t)(dflt - name - 4) : strlen(name + 4);
		const char *found = NULL;
		for (char *const *e = ctx->env; e && *e; e++)
			if (strncmp(*e, name + 4, n) == 0 && (*e)[n] == '=')
				found = *e + n + 1;
		if (dflt && (!found || !*found))
			found = dflt + 2;
		*v = (struct value){name, false, 0, found};
		return found != NULL;
	}
	struct value fixed[6];
	size_t n = fixed_names(ctx, fixed);
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, fixed[i].name) == 0) {
			*v = fixed[i];
			return true;
		}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* supervisorctl lists every key of its mapping, sorted: each ENV_ variable and the others. */
static void every_name(const struct expand_ctx *ctx, struct buf *sb)
{
	struct value fixed[6];
	size_t nfixed = fixed_names(ctx, fixed), nenv = 0;
	for (char *const *e = ctx->env; e && *e; e++)
		nenv++;
	char **names = xmalloc((nenv + nfixed + 1) * sizeof(char *));
	size_t n = 0;
	for (char *const *e = ctx->env; e && *e; e++)
		names[n++] = xasprintf("ENV_%.*s", (int)strcspn(*e, "="), *e);
	for (size_t i = 0; i < nfixed; i++)
		names[n++] = xstrdup(fixed[i].name);
	qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(names[i], names[i - 1]) != 0)
			buf_printf(sb, "%s%s", i ? ", " : "", names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static char *unknown_name(const struct expand_ctx *ctx, const char *in, const char *name)
{
	struct buf sb = {0};
	if (ctx->option) {
		buf_puts(&sb, "Format string ");
		python_repr(&sb, in);
		buf_puts(&sb, " for ");
		python_repr(&sb, ctx->option);
		buf_puts(&sb, " contains names (");
		python_repr(&sb, name);
		buf_puts(&sb, ") which cannot be expanded. Available names: ");
		every_name(ctx, &sb);
		return buf_xsteal(&sb);
	}
	struct value fixed[6];
	size_t n = fixed_names(ctx, fixed);
	buf_printf(&sb, "unknown name %%(%s) (available: ENV_<variable>", name);
	for (size_t i = 0; i < n; i++)
		buf_printf(&sb, ", %s", fixed[i].name);
	buf_putc(&sb, ')');
	return buf_xsteal(&sb);
}

/* Any other problem; supervisorctl words it as a badly formatted string. */
static char *bad_format(const struct expand_ctx *ctx, const char *in, char *why)
{
	if (!ctx->option)
		return why;
	struct buf sb = {0};
	buf_puts(&sb, "Format string ");
	python_repr(&sb, in);
	buf_puts(&sb, " for ");
	python_repr(&sb, ctx->option);
	buf_printf(&sb, " is badly formatted: %s", why);
	free(why);
	return buf_xsteal(&sb);
}

void python_repr(struct buf *sb, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	buf_putc(sb, q);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == (unsigned char)q)
			buf_printf(sb, "\\%c", *p);
		else if (*p == '\n')
			buf_puts(sb, "\\n");
		else if (*p == '\r')
			buf_puts(sb, "\\r");
		else if (*p == '\t')
			buf_puts(sb, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(sb, "\\x%02x", *p);
		else
			buf_putc(sb, (char)*p);
	}
	buf_putc(sb, q);
}

/* The printf format of one conversion: "%", flags, width, .precision, then the conversion. */
struct spec {
	char fmt[48];
	char *end; /* where the conversion goes */
	char conv;
};

/* What follows "%(name)": flags, width, precision, length modifiers (skipped) and the conversion
 * character. false at the end of the string; else *pp is past the conversion. */
static bool parse_spec(const char **pp, struct spec *sp)
{
	const char *p = *pp;
	char flags[8];
	size_t nf = 0;
	while (*p && strchr("#0- +", *p) && nf < sizeof(flags) - 1)
		flags[nf++] = *p++;
	flags[nf] = '\0';
	int width = -1, prec = -1;
	if (isdigit((unsigned char)*p)) {
		width = 0;
		while (isdigit((unsigned char)*p) && width < 10000)
			width = width * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		prec = 0;
		while (isdigit((unsigned char)*p) && prec < 10000)
			prec = prec * 10 + (*p++ - '0');
	}
	while (*p == 'h' || *p == 'l' || *p == 'L')
		p++;
	sp->conv = *p;
	if (!sp->conv)
		return false;
	*pp = p + 1;

	char *f = sp->fmt;
	*f++ = '%';
	f += snprintf(f, sizeof(sp->fmt) - 32, "%s", flags);
	if (width >= 0)
		f += snprintf(f, 12, "%d", width);
	if (prec >= 0)
		f += snprintf(f, 12, ".%d", prec);
	sp->end = f;
	return true;
}

/* %s, %r, %a: the value as text (str() or repr()), a number in decimal. */
static void put_text(struct buf *sb, struct spec *sp, const struct value *v)
{
	struct buf tmp;
	buf_init(&tmp, sb->max);
	if (v->is_int)
		buf_printf(&tmp, "%lld", v->i);
	else if (sp->conv == 's')
		buf_puts(&tmp, v->s);
	else
		python_repr(&tmp, v->s);
	snprintf(sp->end, 3, "s");
	if (tmp.failed)
		sb->failed = true;
	else
		buf_printf(sb, sp->fmt, tmp.data ? tmp.data : "");
	buf_free(&tmp);
}

static void put_int(struct buf *sb, struct spec *sp, const struct value *v)
{
	snprintf(sp->end, 4, "ll%c", sp->conv == 'i' || sp->conv == 'u' ? 'd' : sp->conv);
	buf_printf(sb, sp->fmt, v->i);
}

static void put_float(struct buf *sb, struct spec *sp, const struct value *v)
{
	snprintf(sp->end, 2, "%c", sp->conv);
	buf_printf(sb, sp->fmt, (double)v->i);
}

/* The conversions Python's % takes, by character; the number ones refuse a text value. */
static const struct conversion {
	const char *chars;
	bool number;
	void (*put)(struct buf *sb, struct spec *sp, const struct value *v);
} conversions[] = {
    {"sra", false, put_text},
    {"diuxXo", true, put_int},
    {"eEfFgG", true, put_float},
};

/* One conversion after "%(name)", appended to sb, which is bounded: a width past its room marks
 * it failed, for the caller to report. */
static int convert(struct buf *sb, const char **pp, const char *name, const struct value *v,
		   char **err)
{
	struct spec sp;
	if (!parse_spec(pp, &sp)) {
		*err = xasprintf("incomplete format after %%(%s)", name);
		return -1;
	}
	const struct conversion *c = conversions;
	while (c < conversions + ARRAY_SIZE(conversions) && !strchr(c->chars, sp.conv))
		c++;
	if (c == conversions + ARRAY_SIZE(conversions)) {
		*err = xasprintf("unsupported format character '%c' after %%(%s)", sp.conv, name);
		return -1;
	}
	if (c->number && !v->is_int) {
		*err = xasprintf("%%(%s)%c needs a number, but %s is text", name, sp.conv, name);
		return -1;
	}
	c->put(sb, &sp, v);
	return 0;
}

int expand(const char *in, const struct expand_ctx *ctx, char **out, char **err)
{
	struct buf sb;
	const char *p = in;

	buf_init(&sb, EXPAND_MAX_BYTES);
	*out = NULL;
	*err = NULL;
	while (*p && !sb.failed) {
		const char *pct = strchr(p, '%');
		if (!pct) {
			buf_puts(&sb, p);
			break;
		}
		buf_append(&sb, p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == '%') {
			buf_putc(&sb, '%');
			p++;
			continue;
		}
		if (*p != '(') {
			*err = bad_format(
			    ctx, in,
			    xstrdup(*p ? "a '%' not followed by '(name)': write a literal % as %%"
				       : "a '%' at the end: write a literal % as %%"));
			goto fail;
		}
		const char *close = strchr(p, ')');
		if (!close) {
			*err = bad_format(ctx, in, xstrdup("'%(' without a closing ')'"));
			goto fail;
		}
		char *name = xstrndup(p + 1, (size_t)(close - p - 1));
		struct value v = {0};
		if (!lookup(ctx, name, &v)) {
			*err = unknown_name(ctx, in, name);
			free(name);
			goto fail;
		}
		p = close + 1;
		int rc = convert(&sb, &p, name, &v, err);
		free(name);
		if (rc < 0) {
			*err = bad_format(ctx, in, *err);
			goto fail;
		}
	}
	/* the cap, or (not worth a message of its own) realloc failing below it */
	if (sb.failed) {
		*err = bad_format(ctx, in,
				  xasprintf("expands to more than %d MiB (%d bytes), the limit for "
					    "one value",
					    EXPAND_MAX_BYTES >> 20, EXPAND_MAX_BYTES));
		goto fail;
	}
	*out = buf_xsteal(&sb);
	return 0;
fail:
	buf_free(&sb);
	return -1;
}
