#include "expand.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct value {
	bool is_int;
	long long i;
	const char *s;
};

static bool lookup(const struct expand_ctx *ctx, const char *name, struct value *v)
{
	v->is_int = false;
	if (strncmp(name, "ENV_", 4) == 0 && ctx->env) {
		size_t n = strlen(name + 4);
		const char *found = NULL;
		for (char *const *e = ctx->env; *e; e++)
			if (strncmp(*e, name + 4, n) == 0 && (*e)[n] == '=')
				found = *e + n + 1;
		v->s = found;
		return found != NULL;
	}
	const struct {
		const char *name;
		const char *value;
	} strs[] = {
	    {"here", ctx->here},
	    {"program_name", ctx->program_name},
	    {"group_name", ctx->group_name},
	    {"host_node_name", ctx->host_node_name},
	};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (strcmp(name, strs[i].name) == 0 && strs[i].value) {
			v->s = strs[i].value;
			return true;
		}
	if (ctx->has_process_num && strcmp(name, "process_num") == 0) {
		v->is_int = true;
		v->i = ctx->process_num;
		return true;
	}
	if (ctx->has_process_num && strcmp(name, "numprocs") == 0) {
		v->is_int = true;
		v->i = ctx->numprocs;
		return true;
	}
	return false;
}

static char *available_names(const struct expand_ctx *ctx)
{
	struct buf sb = {0};
	buf_puts(&sb, "ENV_<variable>");
	if (ctx->group_name)
		buf_puts(&sb, ", group_name");
	if (ctx->here)
		buf_puts(&sb, ", here");
	if (ctx->host_node_name)
		buf_puts(&sb, ", host_node_name");
	if (ctx->has_process_num)
		buf_puts(&sb, ", numprocs, process_num");
	if (ctx->program_name)
		buf_puts(&sb, ", program_name");
	return buf_xsteal(&sb);
}

static void python_repr(struct buf *sb, const char *s)
{
	buf_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_printf(sb, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(sb, "\\n");
		else if (*s == '\t')
			buf_puts(sb, "\\t");
		else
			buf_putc(sb, *s);
	}
	buf_putc(sb, '\'');
}

/* One conversion after "%(name)": flags, width, precision, conversion character. */
static int convert(struct buf *sb, const char **pp, const char *name, const struct value *v,
		   char **err)
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
	char conv = *p;
	if (!conv) {
		*err = xasprintf("incomplete format after %%(%s)", name);
		return -1;
	}
	p++;
	*pp = p;

	char fmt[48];
	char *f = fmt;
	*f++ = '%';
	f += snprintf(f, sizeof(fmt) - 32, "%s", flags);
	if (width >= 0)
		f += snprintf(f, 12, "%d", width);
	if (prec >= 0)
		f += snprintf(f, 12, ".%d", prec);

	switch (conv) {
	case 's':
	case 'r':
	case 'a': {
		struct buf tmp = {0};
		if (v->is_int)
			buf_printf(&tmp, "%lld", v->i);
		else if (conv == 's')
			buf_puts(&tmp, v->s);
		else
			python_repr(&tmp, v->s);
		snprintf(f, 3, "s");
		buf_printf(sb, fmt, tmp.data ? tmp.data : "");
		buf_free(&tmp);
		return 0;
	}
	case 'd':
	case 'i':
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		if (!v->is_int) {
			*err =
			    xasprintf("%%(%s)%c needs a number, but %s is text", name, conv, name);
			return -1;
		}
		snprintf(f, 4, "ll%c", conv == 'i' || conv == 'u' ? 'd' : conv);
		buf_printf(sb, fmt, v->i);
		return 0;
	case 'e':
	case 'E':
	case 'f':
	case 'F':
	case 'g':
	case 'G':
		if (!v->is_int) {
			*err =
			    xasprintf("%%(%s)%c needs a number, but %s is text", name, conv, name);
			return -1;
		}
		snprintf(f, 2, "%c", conv);
		buf_printf(sb, fmt, (double)v->i);
		return 0;
	default:
		*err = xasprintf("unsupported format character '%c' after %%(%s)", conv, name);
		return -1;
	}
}

int expand(const char *in, const struct expand_ctx *ctx, char **out, char **err)
{
	struct buf sb = {0};
	const char *p = in;

	*out = NULL;
	*err = NULL;
	while (*p) {
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
			*err =
			    xstrdup(*p ? "a '%' not followed by '(name)': write a literal % as %%"
				       : "a '%' at the end: write a literal % as %%");
			goto fail;
		}
		const char *close = strchr(p, ')');
		if (!close) {
			*err = xstrdup("'%(' without a closing ')'");
			goto fail;
		}
		char *name = xstrndup(p + 1, (size_t)(close - p - 1));
		struct value v = {0};
		if (!lookup(ctx, name, &v)) {
			char *names = available_names(ctx);
			*err = xasprintf("unknown name %%(%s) (available: %s)", name, names);
			free(names);
			free(name);
			goto fail;
		}
		p = close + 1;
		int rc = convert(&sb, &p, name, &v, err);
		free(name);
		if (rc < 0)
			goto fail;
	}
	*out = buf_xsteal(&sb);
	return 0;
fail:
	buf_free(&sb);
	return -1;
}
