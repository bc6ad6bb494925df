#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base64.h"

const struct http_limits http_default_limits = {
    .max_line = 8192,
    .max_head = 16384,
    .max_headers = 32,
    .max_body = 1024 * 1024,
};

enum {
	S_HEAD,
	S_BODY_LENGTH,
	S_BODY_CLOSE,
	S_CHUNK_SIZE,
	S_CHUNK_DATA,
	S_CHUNK_CRLF,
	S_TRAILER,
	S_DONE,
	S_ERROR,
};

void http_parser_init(struct http_parser *p, enum http_kind kind, const struct http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->lim = lim ? *lim : http_default_limits;
	if (p->lim.max_headers > HTTP_MAX_HEADERS_CAP)
		p->lim.max_headers = HTTP_MAX_HEADERS_CAP;
	buf_init(&p->head, p->lim.max_head);
	buf_init(&p->body, p->lim.max_body);
	http_parser_reset(p);
}

void http_parser_free(struct http_parser *p)
{
	buf_free(&p->head);
	buf_free(&p->body);
}

void http_parser_reset(struct http_parser *p)
{
	p->method = p->target = p->reason = NULL;
	p->status = p->minor = 0;
	p->nheaders = 0;
	p->chunked = p->until_close = p->keep_alive = p->head_done = false;
	p->seen_start_line = false;
	p->content_length = p->remaining = 0;
	p->error_status = 0;
	p->error_msg = NULL;
	p->state = S_HEAD;
	p->line_start = 0;
	p->chunk_line_len = 0;
	p->trailer_bytes = 0;
	p->nbytes = 0;
	buf_reset(&p->head);
	buf_reset(&p->body);
}

bool http_parser_head_done(const struct http_parser *p)
{
	return p->head_done;
}

static enum http_result fail(struct http_parser *p, int status, const char *msg)
{
	p->state = S_ERROR;
	p->error_status = status;
	p->error_msg = msg;
	return HTTP_ERROR;
}

const char *http_header(const struct http_parser *p, const char *name)
{
	for (size_t i = 0; i < p->nheaders; i++)
		if (strcasecmp(p->headers[i].name, name) == 0)
			return p->headers[i].value;
	return NULL;
}

bool http_media_type_is(const char *content_type, const char *type)
{
	if (!content_type)
		return false;
	size_t n = strcspn(content_type, ";");
	while (n && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	return n == strlen(type) && strncasecmp(content_type, type, n) == 0;
}

/* Whether an Origin or Referer names the server at host: scheme "://" host, then the end
 * or a path. */
static bool url_is_host(const char *url, const char *host)
{
	const char *h = NULL;
	if (!strncasecmp(url, "http://", 7))
		h = url + 7;
	else if (!strncasecmp(url, "https://", 8))
		h = url + 8;
	if (!h || !host || !*host)
		return false;
	size_t n = strcspn(h, "/?#");
	return n == strlen(host) && strncasecmp(h, host, n) == 0;
}

const char *http_cross_site(const struct http_parser *p)
{
	const char *site = http_header(p, "Sec-Fetch-Site");
	if (site && strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0)
		return "Sec-Fetch-Site";
	const char *host = http_header(p, "Host");
	const char *origin = http_header(p, "Origin");
	if (origin && *origin && !url_is_host(origin, host))
		return "Origin";
	const char *referer = http_header(p, "Referer");
	if (referer && *referer && !url_is_host(referer, host))
		return "Referer";
	return NULL;
}

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Splits the NUL-terminated head into lines in place; returns the next line. */
static char *next_line(char **cursor)
{
	char *line = *cursor;
	char *nl = strchr(line, '\n');
	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*cursor = nl + 1;
	return line;
}

static bool parse_version(const char *s, int *minor)
{
	if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != '\0')
		return false;
	*minor = s[7] - '0';
	return true;
}

static enum http_result parse_start_line(struct http_parser *p, char *line)
{
	if (p->kind == HTTP_REQUEST) {
		char *sp1 = strchr(line, ' ');
		char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
			return fail(p, 400, "malformed request line");
		*sp1 = *sp2 = '\0';
		p->method = line;
		p->target = sp1 + 1;
		for (const char *c = p->method; *c; c++)
			if (!is_tchar((unsigned char)*c))
				return fail(p, 400, "bad method");
		if (!*p->method || !*p->target)
			return fail(p, 400, "malformed request line");
		for (const char *c = p->target; *c; c++)
			if ((unsigned char)*c <= 0x20 || *c == 0x7f)
				return fail(p, 400, "bad request target");
		if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
			return fail(p, 400, "malformed request line");
		if (!parse_version(sp2 + 1, &p->minor))
			return fail(p, 505, "unsupported HTTP version");
		return HTTP_NEED_MORE;
	}
	char *sp = strchr(line, ' ');
	if (!sp)
		return fail(p, 502, "malformed status line");
	*sp = '\0';
	if (!parse_version(line, &p->minor))
		return fail(p, 502, "unsupported HTTP version");
	char *code = sp + 1;
	if (!isdigit((unsigned char)code[0]) || !isdigit((unsigned char)code[1]) ||
	    !isdigit((unsigned char)code[2]) || (code[3] != '\0' && code[3] != ' '))
		return fail(p, 502, "malformed status line");
	p->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	p->reason = code[3] ? code + 4 : code + 3;
	return HTTP_NEED_MORE;
}

static bool header_has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *s = value; s && *s;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(s, token, n) == 0)
			return true;
		s = end;
	}
	return false;
}

/* Decides how the body is delimited (RFC 9112 section 6) and whether the
 * connection survives the message. */
static enum http_result decide_framing(struct http_parser *p)
{
	const char *te = NULL, *cl = NULL;
	for (size_t i = 0; i < p->nheaders; i++) {
		const struct http_header *h = &p->headers[i];
		if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			if (te)
				return fail(p, 400, "repeated Transfer-Encoding");
			te = h->value;
		} else if (strcasecmp(h->name, "Content-Length") == 0) {
			if (cl && strcmp(cl, h->value) != 0)
				return fail(p, 400, "conflicting Content-Length");
			cl = h->value;
		}
	}
	const char *conn = http_header(p, "Connection");
	p->keep_alive =
	    p->minor >= 1 ? !header_has_token(conn, "close") : header_has_token(conn, "keep-alive");

	bool no_body = p->kind == HTTP_RESPONSE && (p->head_request || p->status / 100 == 1 ||
						    p->status == 204 || p->status == 304);
	if (no_body) {
		p->state = S_DONE;
		return HTTP_DONE;
	}
	if (te) {
		if (cl)
			return fail(p, 400, "both Transfer-Encoding and Content-Length");
		if (strcasecmp(te, "chunked") != 0)
			return fail(p, 501, "unsupported Transfer-Encoding");
		p->chunked = true;
		p->state = S_CHUNK_SIZE;
		return HTTP_NEED_MORE;
	}
	if (cl) {
		unsigned long long v = 0;
		if (!*cl)
			return fail(p, 400, "bad Content-Length");
		for (const char *c = cl; *c; c++) {
			if (!isdigit((unsigned char)*c) || v > (~0ULL - 9) / 10)
				return fail(p, 400, "bad Content-Length");
			v = v * 10 + (unsigned)(*c - '0');
		}
		if (!p->on_body && v > p->lim.max_body)
			return fail(p, 413, "body too large");
		p->content_length = p->remaining = v;
		p->state = v ? S_BODY_LENGTH : S_DONE;
		return v ? HTTP_NEED_MORE : HTTP_DONE;
	}
	if (p->kind == HTTP_REQUEST) {
		p->state = S_DONE;
		return HTTP_DONE;
	}
	p->until_close = true;
	p->keep_alive = false;
	p->state = S_BODY_CLOSE;
	return HTTP_NEED_MORE;
}

static enum http_result parse_head(struct http_parser *p)
{
	char *cursor = p->head.data;
	/* Blank lines before a request line are skipped (RFC 9112 section 2.2):
	 * supervisorctl's tail client sends one after its GET. */
	char *line;
	do {
		line = next_line(&cursor);
	} while (line && *line == '\0');
	if (!line)
		return fail(p, 400, "empty head");
	enum http_result r = parse_start_line(p, line);
	if (r == HTTP_ERROR)
		return r;
	while ((line = next_line(&cursor)) && *line) {
		if (*line == ' ' || *line == '\t')
			return fail(p, 400, "obsolete header folding");
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return fail(p, 400, "malformed header");
		*colon = '\0';
		for (const char *c = line; *c; c++)
			if (!is_tchar((unsigned char)*c))
				return fail(p, 400, "bad header name");
		char *value = trim(colon + 1);
		for (const char *c = value; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return fail(p, 400, "control character in header");
		if (p->nheaders >= p->lim.max_headers)
			return fail(p, 431, "too many headers");
		p->headers[p->nheaders++] = (struct http_header){line, value};
	}
	p->head_done = true;
	return decide_framing(p);
}

static bool deliver(struct http_parser *p, const char *data, size_t len)
{
	if (p->on_body) {
		p->on_body(p->ctx, data, len);
		return true;
	}
	return buf_append(&p->body, data, len);
}

/* Delivers what is left of a length-delimited part; `next` follows it. */
static size_t deliver_counted(struct http_parser *p, const char *d, size_t n, int next,
			      enum http_result *r)
{
	size_t take = n < p->remaining ? n : (size_t)p->remaining;
	if (!deliver(p, d, take))
		*r = fail(p, 413, "body too large");
	p->remaining -= take;
	if (!p->remaining)
		p->state = next;
	return take;
}

/* Accumulates head bytes up to the blank line; returns bytes used. */
static size_t feed_head(struct http_parser *p, const char *data, size_t len, enum http_result *r)
{
	size_t used = 0;
	*r = HTTP_NEED_MORE;
	while (used < len) {
		const char *nl = memchr(data + used, '\n', len - used);
		size_t take = nl ? (size_t)(nl - (data + used)) + 1 : len - used;
		if (!buf_append(&p->head, data + used, take)) {
			*r = fail(p,
				  p->seen_start_line ? 431 : (p->kind == HTTP_REQUEST ? 414 : 502),
				  "head too large");
			return used;
		}
		used += take;
		if (!nl)
			break;
		size_t line_len = p->head.len - p->line_start;
		bool blank =
		    line_len == 1 || (line_len == 2 && p->head.data[p->line_start] == '\r');
		p->line_start = p->head.len;
		if (!p->seen_start_line) {
			if (blank)
				continue;
			if (line_len > p->lim.max_line) {
				*r = fail(p, p->kind == HTTP_REQUEST ? 414 : 502,
					  "start line too long");
				return used;
			}
			p->seen_start_line = true;
		} else if (blank) {
			*r = parse_head(p);
			return used;
		} else if (line_len > p->lim.max_line) {
			*r = fail(p, 431, "header line too long");
			return used;
		}
	}
	if (p->head.len - p->line_start > p->lim.max_line)
		*r = fail(p, p->seen_start_line ? 431 : (p->kind == HTTP_REQUEST ? 414 : 502),
			  "line too long");
	return used;
}

static enum http_result chunk_size_line(struct http_parser *p)
{
	char *line = p->chunk_line;
	size_t n = p->chunk_line_len;
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	char *ext = strchr(line, ';');
	if (ext)
		*ext = '\0';
	char *hex = trim(line);
	if (!*hex)
		return fail(p, 400, "bad chunk size");
	unsigned long long v = 0;
	for (const char *c = hex; *c; c++) {
		if (!isxdigit((unsigned char)*c) || v > (~0ULL >> 4))
			return fail(p, 400, "bad chunk size");
		v = v * 16 +
		    (unsigned)(isdigit((unsigned char)*c) ? *c - '0' : (tolower(*c) - 'a' + 10));
	}
	if (!p->on_body && v > p->lim.max_body - p->body.len)
		return fail(p, 413, "body too large");
	p->remaining = v;
	p->state = v ? S_CHUNK_DATA : S_TRAILER;
	p->chunk_line_len = 0;
	return HTTP_NEED_MORE;
}

/* Reads one line into chunk_line; true when it is complete. */
static bool chunk_line_byte(struct http_parser *p, char c, enum http_result *r)
{
	if (c == '\n')
		return true;
	if (p->chunk_line_len + 2 >= sizeof(p->chunk_line)) {
		*r = fail(p, 400, "chunk line too long");
		return false;
	}
	p->chunk_line[p->chunk_line_len++] = c;
	return false;
}

enum http_result http_parser_feed(struct http_parser *p, const char *data, size_t len,
				  size_t *consumed)
{
	size_t used = 0;
	enum http_result r = HTTP_NEED_MORE;
	if (p->state == S_ERROR) {
		*consumed = 0;
		return HTTP_ERROR;
	}
	while (used < len && p->state != S_DONE && r != HTTP_ERROR) {
		const char *d = data + used;
		size_t n = len - used;
		switch (p->state) {
		case S_HEAD:
			used += feed_head(p, d, n, &r);
			if (r == HTTP_DONE)
				r = HTTP_NEED_MORE; /* re-checked below via S_DONE */
			break;
		case S_BODY_LENGTH:
			used += deliver_counted(p, d, n, S_DONE, &r);
			break;
		case S_BODY_CLOSE:
			if (!deliver(p, d, n))
				r = fail(p, 413, "body too large");
			used += n;
			break;
		case S_CHUNK_SIZE:
			used++;
			if (chunk_line_byte(p, *d, &r))
				r = chunk_size_line(p);
			break;
		case S_CHUNK_DATA:
			used += deliver_counted(p, d, n, S_CHUNK_CRLF, &r);
			break;
		case S_CHUNK_CRLF:
			used++;
			if (*d == '\n') {
				p->state = S_CHUNK_SIZE;
				p->chunk_line_len = 0;
			} else if (*d != '\r' || p->chunk_line_len++) {
				r = fail(p, 400, "missing CRLF after chunk");
			}
			break;
		case S_TRAILER:
			/* trailers are discarded; only their total size is bounded */
			used++;
			if (++p->trailer_bytes > p->lim.max_head) {
				r = fail(p, 431, "trailers too large");
			} else if (*d == '\n') {
				if (p->chunk_line_len == 0)
					p->state = S_DONE;
				p->chunk_line_len = 0;
			} else if (*d != '\r') {
				p->chunk_line_len++;
			}
			break;
		}
	}
	p->nbytes += used;
	*consumed = used;
	if (r == HTTP_ERROR)
		return r;
	return p->state == S_DONE ? HTTP_DONE : HTTP_NEED_MORE;
}

enum http_result http_parser_eof(struct http_parser *p)
{
	if (p->state == S_DONE)
		return HTTP_DONE;
	if (p->state == S_BODY_CLOSE) {
		p->state = S_DONE;
		return HTTP_DONE;
	}
	if (p->state == S_HEAD && p->nbytes == 0)
		return HTTP_NEED_MORE;
	return fail(p, 400, "connection closed in the middle of a message");
}

static const struct {
	int status;
	const char *reason;
} reasons[] = {
    {200, "OK"},
    {303, "See Other"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {411, "Length Required"},
    {413, "Payload Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

bool http_basic_auth_format(struct buf *out, const char *user, const char *pass)
{
	struct buf raw;
	buf_init(&raw, 4096);
	buf_puts(&raw, user);
	buf_putc(&raw, ':');
	buf_puts(&raw, pass);
	bool ok =
	    !raw.failed && buf_puts(out, "Basic ") && base64_encode(out, raw.data, raw.len, 0);
	buf_free(&raw);
	return ok;
}

bool http_basic_auth_parse(const char *value, struct buf *raw, const char **user, const char **pass)
{
	if (!value || strncasecmp(value, "Basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
		return false;
	const char *b64 = value + 6;
	while (*b64 == ' ' || *b64 == '\t')
		b64++;
	buf_reset(raw);
	if (!base64_decode(raw, b64, strlen(b64)) || !raw->data ||
	    memchr(raw->data, '\0', raw->len))
		return false;
	char *colon = memchr(raw->data, ':', raw->len);
	if (!colon)
		return false;
	*colon = '\0';
	*user = raw->data;
	*pass = colon + 1;
	return true;
}

bool http_write_response_head(struct buf *out, int status, const char *content_type,
			      long long content_length, bool keep_alive, const char *extra)
{
	/* by hand, not buf_printf: this runs for every answer */
	buf_puts(out, "HTTP/1.1 ");
	buf_put_int(out, status);
	buf_putc(out, ' ');
	buf_puts(out, http_reason(status));
	buf_puts(out, "\r\n");
	if (content_type) {
		buf_puts(out, "Content-Type: ");
		buf_puts(out, content_type);
		buf_puts(out, "\r\n");
	}
	if (content_length >= 0) {
		buf_puts(out, "Content-Length: ");
		buf_put_int(out, content_length);
		buf_puts(out, "\r\n");
	} else
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	if (!keep_alive)
		buf_puts(out, "Connection: close\r\n");
	if (extra)
		buf_puts(out, extra);
	buf_puts(out, "\r\n");
	return !out->failed;
}

bool http_write_chunk(struct buf *out, const void *data, size_t len)
{
	buf_printf(out, "%zx\r\n", len);
	buf_append(out, data, len);
	buf_puts(out, "\r\n");
	return !out->failed;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

void http_percent_decode(char *out, size_t n, const char *in, size_t len, bool plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		int hi = i + 2 < len && in[i] == '%' ? hex_digit(in[i + 1]) : -1;
		int lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
		if (lo >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = plus_is_space && in[i] == '+' ? ' ' : in[i];
		}
	}
	if (n)
		out[o] = '\0';
}
