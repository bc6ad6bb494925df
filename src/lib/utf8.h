/* UTF-8 as Python's strict codec reads it (no overlong forms, no surrogates, nothing past
 * U+10FFFF): for log reads that must not split a character, XML that must stay well formed,
 * supervisord's decode-or-repr of output, and display widths. */
#ifndef PIDVISOR_UTF8_H
#define PIDVISOR_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 character at s (1 to 4), 0 when s does not start one. */
size_t utf8_char(const char *s, size_t len);
/* How many bytes at the end of s (0 to 3) begin a character that the rest of s does not finish:
 * a read that stops there leaves them for the next one. */
size_t utf8_cut(const char *s, size_t len);
/* Whether all of s is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t len);

#endif
