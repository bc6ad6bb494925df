/* libFuzzer target: the control socket's HTTP request parser. The first byte
 * picks how the rest is split into reads, so short reads and pipelining are
 * exercised as well as whole messages. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	/* small limits so that every limit is reachable */
	struct http_limits lim = {
	    .max_line = 256, .max_head = 1024, .max_headers = 8, .max_body = 2048};
	struct http_parser p;
	http_parser_init(&p, HTTP_REQUEST, &lim);
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		size_t used;
		enum http_result r = http_parser_feed(&p, (const char *)data + off, n, &used);
		off += used;
		if (r == HTTP_ERROR) {
			if (p.error_status < 400 || p.error_status > 599 || !p.error_msg)
				__builtin_trap();
			break;
		}
		if (r == HTTP_DONE) {
			/* what a server reads after a whole message */
			if (!p.method || !p.target || !http_parser_head_done(&p))
				__builtin_trap();
			if (p.body.len != p.content_length && !p.chunked)
				__builtin_trap();
			(void)http_header(&p, "Authorization");
			(void)http_media_type_is(http_header(&p, "Content-Type"), "text/xml");
			const char *why = http_cross_site(&p);
			if (why && !http_header(&p, why))
				__builtin_trap(); /* it names a header the request has */
			if (!p.keep_alive)
				break;
			http_parser_reset(&p);
		} else if (used != n) {
			__builtin_trap(); /* NEED_MORE consumes everything */
		}
	}
	if (off >= size)
		(void)http_parser_eof(&p);
	http_parser_free(&p);
	return 0;
}
