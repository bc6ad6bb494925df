/* JSON text for the JSON log format and `ctl status --json`. */
#ifndef PIDVISOR_JSON_H
#define PIDVISOR_JSON_H

#include <stddef.h>

#include "buf.h"

/* Appends s[0..n) as a quoted JSON string: quote, backslash and control bytes escaped; other
 * bytes (UTF-8 included) as they are. */
void json_string(struct buf *b, const char *s, size_t n);

#endif
