/* Diagnostics: problems found in config files, one line each, naming file, line, section and key.
 */
#ifndef PIDVISOR_DIAG_H
#define PIDVISOR_DIAG_H

#include <stdarg.h>
#include <stdio.h>

/* A note is said but counted in neither errors nor warnings (--check-config's exit status): what
 * supervisord also only mentions, such as an [include] glob that matches nothing. */
enum diag_level { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };

struct diag_item {
	enum diag_level level;
	char *text; /* "FILE:LINE: [section] key: message" */
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	int errors, warnings;
};

/* file may be NULL (no location), line 0 (whole file), section/key NULL. */
void diag_add(struct diag *d, enum diag_level level, const char *file, int line,
	      const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void diag_vadd(struct diag *d, enum diag_level level, const char *file, int line,
	       const char *section, const char *key, const char *fmt, va_list ap);
void diag_print(const struct diag *d, FILE *f);
void diag_free(struct diag *d);

#endif
