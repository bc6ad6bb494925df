/* RFC 4648 base64, as used by HTTP Basic auth and XML-RPC <base64>. */
#ifndef PIDVISOR_BASE64_H
#define PIDVISOR_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the encoding of data; line_len > 0 wraps lines like Python's
 * base64.encodebytes (each line, the last one too, ends with '\n'). */
bool base64_encode(struct buf *out, const void *data, size_t len, size_t line_len);
/* Appends the decoded bytes; ASCII whitespace is skipped, anything else outside
 * the alphabet, or bad padding, is an error (false). */
bool base64_decode(struct buf *out, const char *text, size_t len);

#endif
