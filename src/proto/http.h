/* Incremental HTTP/1.x message parser (requests for the control socket,
 * responses for the client) with hard limits, plus the few formatting helpers
 * both sides need. Feed it whatever bytes arrived; it never blocks or reads. */
#ifndef PIDVISOR_HTTP_H
#define PIDVISOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define HTTP_MAX_HEADERS_CAP 64

enum http_kind { HTTP_REQUEST, HTTP_RESPONSE };

enum http_result {
	HTTP_NEED_MORE, /* everything fed was consumed; the message is not complete */
	HTTP_DONE,	/* one whole message; bytes past it were not consumed */
	HTTP_ERROR,	/* malformed or over a limit: see error_status/error_msg; close */
};

struct http_limits {
	size_t max_line;    /* request/status line, bytes (incl. CRLF) */
	size_t max_head;    /* whole head incl. the start line, and chunk trailers */
	size_t max_headers; /* header count, at most HTTP_MAX_HEADERS_CAP */
	size_t max_body;    /* decoded body kept in memory (not for on_body streams) */
};

/* 8 KiB line, 16 KiB head, 32 headers, 1 MiB body. */
extern const struct http_limits http_default_limits;

struct http_header {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* surrounding whitespace removed */
};

/* Receives decoded body bytes as they arrive instead of buffering them. */
typedef void (*http_body_fn)(void *ctx, const char *data, size_t len);

struct http_parser {
	enum http_kind kind;
	struct http_limits lim;
	http_body_fn on_body; /* optional; set after init */
	void *ctx;
	bool head_request; /* response to HEAD: no body whatever the headers say */

	/* Filled once the head is complete (HTTP_DONE, or on_body streaming). */
	const char *method, *target; /* requests */
	int status;		     /* responses */
	const char *reason;	     /* responses */
	int minor;		     /* HTTP/1.<minor> */
	struct http_header headers[HTTP_MAX_HEADERS_CAP];
	size_t nheaders;
	bool chunked;
	bool until_close; /* response body runs to EOF: call http_parser_eof() */
	bool keep_alive;  /* the connection may carry another message */
	unsigned long long content_length;
	struct buf body; /* decoded body, when on_body is NULL */

	int error_status;      /* on HTTP_ERROR: status to answer a request with */
	const char *error_msg; /* on HTTP_ERROR: why, for logs */

	/* private */
	int state;
	bool head_done;
	bool seen_start_line;
	struct buf head;
	size_t line_start;
	unsigned long long remaining;
	char chunk_line[80];
	size_t chunk_line_len;
	size_t trailer_bytes;
	size_t nbytes; /* bytes of the current message seen so far */
};

void http_parser_init(struct http_parser *p, enum http_kind kind, const struct http_limits *lim);
void http_parser_free(struct http_parser *p);
/* Ready for the next message on a keep-alive connection (buffers kept). */
void http_parser_reset(struct http_parser *p);
enum http_result http_parser_feed(struct http_parser *p, const char *data, size_t len,
				  size_t *consumed);
/* The peer closed: HTTP_DONE ends an until_close body, HTTP_ERROR a truncated
 * message, HTTP_NEED_MORE means no byte of a new message had arrived. */
enum http_result http_parser_eof(struct http_parser *p);
/* True once the head of the current message has been parsed. */
bool http_parser_head_done(const struct http_parser *p);
/* First header with that name (case-insensitive), or NULL. */
const char *http_header(const struct http_parser *p, const char *name);
/* Whether a Content-Type value names that media type ("text/xml" matches
 * "Text/XML; charset=utf-8"); false for NULL. */
bool http_media_type_is(const char *content_type, const char *type);
/* Whether a browser says the request comes from a page of another origin than
 * the one in its Host header: Sec-Fetch-Site other than same-origin or none, or
 * a non-empty Origin or Referer whose host is not Host (http or https; "null" is
 * foreign). Returns the header that says so, or NULL when none does (no such
 * header at all: not a browser, or one too old to tell). */
const char *http_cross_site(const struct http_parser *p);

const char *http_reason(int status);
/* Appends "Basic <base64(user:pass)>". */
bool http_basic_auth_format(struct buf *out, const char *user, const char *pass);
/* Parses an Authorization value "Basic <b64>" of any length: decodes into raw
 * (the caller's buffer, bounded by its cap, freed by the caller) and points user
 * and pass into it (split at the first ':'). False when it is not Basic, not
 * base64, has no ':', holds a NUL, or does not fit raw's cap. */
/* Percent-decodes in[0..len) into out: at most n-1 bytes, NUL-terminated; out may be in (the
 * text only shrinks). With plus_is_space, '+' is a space (form data). A '%' not followed by two
 * hex digits is kept as it is. */
void http_percent_decode(char *out, size_t n, const char *in, size_t len, bool plus_is_space);
bool http_basic_auth_parse(const char *value, struct buf *raw, const char **user,
			   const char **pass);
/* Response head: status line, Content-Type, Content-Length (or chunked when
 * content_length < 0), Connection: close when !keep_alive, extra (already
 * CRLF-terminated lines or NULL), blank line. */
bool http_write_response_head(struct buf *out, int status, const char *content_type,
			      long long content_length, bool keep_alive, const char *extra);
/* One chunk of a chunked body; len 0 writes the terminating chunk. */
bool http_write_chunk(struct buf *out, const void *data, size_t len);

#endif
