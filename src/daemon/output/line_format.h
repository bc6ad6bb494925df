/* How a program's lines look on pidvisor's stdout/stderr (docs/logging.md). */
#ifndef PIDVISOR_LINE_FORMAT_H
#define PIDVISOR_LINE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "stdout_sink.h"

struct line_style {
	const char *name; /* the program's */
	int channel;	  /* 1 = stdout, 2 = stderr */
	int format;	  /* LOG_FORMAT_* */
	bool timestamp;	  /* [supervisord] log_timestamp */
	bool color;	  /* log_color, on a terminal */
	int name_width;	  /* the widest program name, for aligned prefixes */
};

/* Sends a batch of whole lines (or one piece of a line, when partial) to sink in style st.
 * *continued: the last line went out as a piece, so this one goes on with it (updated). */
void lines_to_sink(struct sink *sink, const struct line_style *st, bool *continued, const char *p,
		   size_t n, bool partial);
/* Takes out ANSI CSI sequences (colours, cursor moves) in place: [supervisord] strip_ansi. */
void strip_ansi(char *p, size_t *n);

#endif
