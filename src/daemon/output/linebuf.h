/*
 * Framing a program's byte stream into whole lines. Reads are appended; everything up to the
 * last newline goes out as one unit (many lines per read cost one write); a line longer than
 * the buffer's max goes out in pieces marked partial. It never aborts: when memory runs out,
 * what is buffered goes out as a partial piece.
 */
#ifndef PIDVISOR_LINEBUF_H
#define PIDVISOR_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

#define LINEBUF_READ (64 * 1024) /* what one read asks for, at most */

struct linebuf {
	char *data;
	size_t len, cap;
	size_t max; /* longest piece; 0 means 4 MiB */
};

/* Where the next read of at most read_max bytes goes and how much fits; NULL when no memory
 * could be had. */
char *linebuf_space(struct linebuf *lb, size_t read_max, size_t *room);
void linebuf_added(struct linebuf *lb, size_t n);
/* The length of the next unit to send, from lb->data: whole lines (*partial false), or a
 * full buffer of one long line (*partial true); 0 when it must wait for more. Then
 * linebuf_consume() it. */
size_t linebuf_next(struct linebuf *lb, bool *partial);
void linebuf_consume(struct linebuf *lb, size_t n);
void linebuf_free(struct linebuf *lb);

#endif
