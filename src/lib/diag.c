#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void diag_vadd(struct diag *d, enum diag_level level, const char *file, int line,
	       const char *section, const char *key, const char *fmt, va_list ap)
{
	struct buf sb = {0};

	if (file && line > 0)
		buf_printf(&sb, "%s:%d: ", file, line);
	else if (file)
		buf_printf(&sb, "%s: ", file);
	if (level == DIAG_WARNING)
		buf_puts(&sb, "warning: ");
	else if (level == DIAG_NOTE)
		buf_puts(&sb, "note: ");
	if (section)
		buf_printf(&sb, "[%s] ", section);
	if (key)
		buf_printf(&sb, "%s: ", key);
	buf_vprintf(&sb, fmt, ap);
	/* a program's keys are read once per process (numprocs): say a repeated line once */
	if (d->n && d->items[d->n - 1].level == level && sb.data &&
	    strcmp(d->items[d->n - 1].text, sb.data) == 0) {
		buf_free(&sb);
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->items = xrealloc(d->items, d->cap * sizeof(*d->items));
	}
	d->items[d->n].level = level;
	d->items[d->n].text = buf_xsteal(&sb);
	d->n++;
	if (level == DIAG_ERROR)
		d->errors++;
	else if (level == DIAG_WARNING)
		d->warnings++;
}

void diag_add(struct diag *d, enum diag_level level, const char *file, int line,
	      const char *section, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, level, file, line, section, key, fmt, ap);
	va_end(ap);
}

void diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->items[i].text);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].text);
	free(d->items);
	memset(d, 0, sizeof(*d));
}
