/* HTTP framing: requests as supervisorctl sends them, byte-at-a-time feeding,
 * keep-alive pipelining, chunked responses, limits and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static const char rpc_request[] =
    "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: identity\r\n"
    "User-Agent: Python-xmlrpc/3.11\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n"
    "Content-Length: 5\r\n\r\nhello";

static enum http_result feed_all(struct http_parser *p, const char *data, size_t len, size_t *used)
{
	return http_parser_feed(p, data, len, used);
}

static void test_request_whole(void **state)
{
	(void)state;
	struct http_parser p;
	http_parser_init(&p, HTTP_REQUEST, NULL);
	size_t used;
	assert_int_equal(feed_all(&p, rpc_request, strlen(rpc_request), &used), HTTP_DONE);
	assert_int_equal(used, strlen(rpc_request));
	assert_string_equal(p.method, "POST");
	assert_string_equal(p.target, "/RPC2");
	assert_int_equal(p.minor, 1);
	assert_true(p.keep_alive);
	assert_string_equal(http_header(&p, "content-type"), "text/xml");
	assert_null(http_header(&p, "Authorization"));
	assert_int_equal(p.body.len, 5);
	assert_memory_equal(p.body.data, "hello", 5);
	http_parser_free(&p);
}

static void test_request_bytewise_and_pipelined(void **state)
{
	(void)state;
	char two[512];
	snprintf(two, sizeof(two), "%s%s", rpc_request,
		 "GET /logtail/x/stdout HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\n"
		 "Accept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n"
		 "GET /mainlogtail HTTP/1.0\r\n\r\n");
	struct http_parser p;
	http_parser_init(&p, HTTP_REQUEST, NULL);
	size_t off = 0, used;
	enum http_result r = HTTP_NEED_MORE;
	while (r == HTTP_NEED_MORE) {
		r = http_parser_feed(&p, two + off, 1, &used);
		off += used;
	}
	assert_int_equal(r, HTTP_DONE);
	assert_int_equal(off, strlen(rpc_request));
	assert_memory_equal(p.body.data, "hello", 5);

	http_parser_reset(&p);
	r = http_parser_feed(&p, two + off, strlen(two) - off, &used);
	assert_int_equal(r, HTTP_DONE);
	assert_string_equal(p.method, "GET");
	assert_string_equal(p.target, "/logtail/x/stdout");
	assert_string_equal(http_header(&p, "Host"), "");
	off += used;

	/* the stray blank line supervisorctl's tail client sends is skipped */
	http_parser_reset(&p);
	r = http_parser_feed(&p, two + off, strlen(two) - off, &used);
	assert_int_equal(r, HTTP_DONE);
	assert_string_equal(p.target, "/mainlogtail");
	assert_int_equal(p.minor, 0);
	assert_false(p.keep_alive);
	assert_int_equal(off + used, strlen(two));
	http_parser_reset(&p);
	assert_int_equal(http_parser_eof(&p), HTTP_NEED_MORE);
	http_parser_free(&p);
}

static void expect_request_error(const char *req, int status, const struct http_limits *lim)
{
	struct http_parser p;
	http_parser_init(&p, HTTP_REQUEST, lim);
	size_t used;
	enum http_result r = http_parser_feed(&p, req, strlen(req), &used);
	if (r == HTTP_NEED_MORE)
		r = http_parser_eof(&p);
	if (r != HTTP_ERROR || p.error_status != status)
		fail_msg("request %.60s: result %d status %d, expected error %d", req, r,
			 p.error_status, status);
	/* an errored parser stays errored */
	assert_int_equal(http_parser_feed(&p, "x", 1, &used), HTTP_ERROR);
	http_parser_free(&p);
}

static void test_request_errors(void **state)
{
	(void)state;
	expect_request_error("GARBAGE\r\n\r\n", 400, NULL);
	expect_request_error("GET /\r\n\r\n", 400, NULL);
	expect_request_error("GET / HTTP/2.0\r\n\r\n", 505, NULL);
	expect_request_error("GET / FOO/1.1\r\n\r\n", 400, NULL);
	expect_request_error("G(T / HTTP/1.1\r\n\r\n", 400, NULL);
	expect_request_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, NULL);
	expect_request_error("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, NULL);
	expect_request_error("GET / HTTP/1.1\r\nBad Name: b\r\n\r\n", 400, NULL);
	expect_request_error("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, NULL);
	expect_request_error("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
			     400, NULL);
	expect_request_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
			     400, NULL);
	expect_request_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, NULL);
	expect_request_error(
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
	    NULL);
	expect_request_error("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", 400, NULL);

	struct http_limits lim = {.max_line = 32, .max_head = 128, .max_headers = 2, .max_body = 8};
	expect_request_error("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", 414,
			     &lim);
	expect_request_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, &lim);
	expect_request_error("GET / HTTP/1.1\r\nA: 11111111111111111111111111111111111\r\n\r\n",
			     431, &lim);
	expect_request_error("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", 413, &lim);
	expect_request_error(
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n"
	    "0\r\n\r\n",
	    413, &lim);
	/* an endless head without a newline is cut at the line limit */
	expect_request_error("GET / HTTP/1.1\r\nX: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
			     431, &lim);
}

struct collected {
	char buf[256];
	size_t len;
};

static void collect(void *ctx, const char *data, size_t len)
{
	struct collected *c = ctx;
	assert_true(c->len + len < sizeof(c->buf));
	memcpy(c->buf + c->len, data, len);
	c->len += len;
}

static void test_response_chunked_streaming(void **state)
{
	(void)state;
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n"
				   "5\r\nhello\r\n7;ext=1\r\n world!\r\n0\r\nTrailer: x\r\n\r\n";
	struct http_parser p;
	struct collected got = {{0}, 0};
	http_parser_init(&p, HTTP_RESPONSE, NULL);
	p.on_body = collect;
	p.ctx = &got;
	size_t off = 0, used;
	enum http_result r = HTTP_NEED_MORE;
	while (r == HTTP_NEED_MORE && off < sizeof(resp) - 1) {
		r = http_parser_feed(
		    &p, resp + off, 3 < sizeof(resp) - 1 - off ? 3 : sizeof(resp) - 1 - off, &used);
		off += used;
	}
	assert_int_equal(r, HTTP_DONE);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.reason, "OK");
	assert_true(p.chunked);
	assert_int_equal(got.len, 12);
	assert_memory_equal(got.buf, "hello world!", 12);
	assert_int_equal(p.body.len, 0);
	http_parser_free(&p);
}

static void test_response_until_close_and_errors(void **state)
{
	(void)state;
	struct http_parser p;
	http_parser_init(&p, HTTP_RESPONSE, NULL);
	size_t used;
	const char *r1 = "HTTP/1.0 200 OK\r\n\r\nabc";
	assert_int_equal(http_parser_feed(&p, r1, strlen(r1), &used), HTTP_NEED_MORE);
	assert_true(p.until_close);
	assert_int_equal(http_parser_eof(&p), HTTP_DONE);
	assert_memory_equal(p.body.data, "abc", 3);

	http_parser_reset(&p);
	const char *r2 = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n"
			 "WWW-Authenticate: Basic realm=\"default\"\r\n\r\n";
	assert_int_equal(http_parser_feed(&p, r2, strlen(r2), &used), HTTP_DONE);
	assert_int_equal(p.status, 401);
	assert_false(p.keep_alive);

	http_parser_reset(&p);
	const char *r3 = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_int_equal(http_parser_feed(&p, r3, strlen(r3), &used), HTTP_DONE);

	http_parser_reset(&p);
	const char *r4 = "HTTP/1.1 2x0 Odd\r\n\r\n";
	assert_int_equal(http_parser_feed(&p, r4, strlen(r4), &used), HTTP_ERROR);

	http_parser_reset(&p);
	const char *r5 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	assert_int_equal(http_parser_feed(&p, r5, strlen(r5), &used), HTTP_ERROR);

	http_parser_reset(&p);
	const char *r6 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	assert_int_equal(http_parser_feed(&p, r6, strlen(r6), &used), HTTP_NEED_MORE);
	assert_int_equal(http_parser_eof(&p), HTTP_ERROR);
	http_parser_free(&p);
}

static void test_basic_auth(void **state)
{
	(void)state;
	struct buf sb;
	buf_init(&sb, 0);
	assert_true(http_basic_auth_format(&sb, "user", "p:ss"));
	assert_string_equal(sb.data, "Basic dXNlcjpwOnNz");
	struct buf raw;
	buf_init(&raw, 64);
	const char *user, *pass;
	assert_true(http_basic_auth_parse(sb.data, &raw, &user, &pass));
	assert_string_equal(user, "user");
	assert_string_equal(pass, "p:ss");
	assert_false(http_basic_auth_parse("Bearer xyz", &raw, &user, &pass));
	assert_false(http_basic_auth_parse("Basic !!!!", &raw, &user, &pass));
	assert_false(http_basic_auth_parse("Basic dXNlcg==", &raw, &user, &pass)); /* no colon */
	assert_false(http_basic_auth_parse("Basic dXMAcjpw", &raw, &user, &pass)); /* a NUL */
	buf_free(&raw);

	/* any length fits a buffer of that size: a 300-character password, as issue 11 found */
	char longpass[301];
	memset(longpass, 'x', 300);
	longpass[300] = '\0';
	buf_reset(&sb);
	assert_true(http_basic_auth_format(&sb, "admin", longpass));
	buf_init(&raw, 4096);
	assert_true(http_basic_auth_parse(sb.data, &raw, &user, &pass));
	assert_string_equal(user, "admin");
	assert_string_equal(pass, longpass);
	buf_free(&raw);
	/* and over the caller's cap it fails instead of truncating */
	buf_init(&raw, 100);
	assert_false(http_basic_auth_parse(sb.data, &raw, &user, &pass));
	buf_free(&raw);
	buf_free(&sb);
}

static void test_write_helpers(void **state)
{
	(void)state;
	struct buf sb;
	buf_init(&sb, 0);
	assert_true(
	    http_write_response_head(&sb, 200, "text/xml", 12, true, "Server: Medusa/1.12\r\n"));
	assert_string_equal(sb.data, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
				     "12\r\nServer: Medusa/1.12\r\n\r\n");
	buf_reset(&sb);
	assert_true(http_write_response_head(&sb, 404, NULL, -1, false, NULL));
	assert_string_equal(sb.data, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n"
				     "Connection: close\r\n\r\n");
	buf_reset(&sb);
	http_write_chunk(&sb, "hello world!", 12);
	http_write_chunk(&sb, NULL, 0);
	assert_string_equal(sb.data, "c\r\nhello world!\r\n0\r\n\r\n");
	/* what we write, we read */
	struct http_parser p;
	http_parser_init(&p, HTTP_RESPONSE, NULL);
	char msg[128];
	snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
		 sb.data);
	size_t used;
	assert_int_equal(http_parser_feed(&p, msg, strlen(msg), &used), HTTP_DONE);
	assert_memory_equal(p.body.data, "hello world!", 12);
	http_parser_free(&p);
	buf_free(&sb);
}

static void test_percent_decode(void **state)
{
	char out[16];
	http_percent_decode(out, sizeof(out), "a%20b+c%3a%zz%4", 15, false);
	assert_string_equal(out, "a b+c:%zz%4");
	http_percent_decode(out, sizeof(out), "a%20b+c", 7, true);
	assert_string_equal(out, "a b c");
	char small[4];
	http_percent_decode(small, sizeof(small), "abcdef", 6, false);
	assert_string_equal(small, "abc");
	char same[] = "x%2Fy";
	http_percent_decode(same, sizeof(same), same, strlen(same), false);
	assert_string_equal(same, "x/y");
}

static void test_media_type(void **state)
{
	(void)state;
	assert_true(http_media_type_is("text/xml", "text/xml"));
	assert_true(http_media_type_is("Text/XML; charset=utf-8", "text/xml"));
	assert_true(http_media_type_is("text/xml ;charset=utf-8", "text/xml"));
	assert_false(http_media_type_is(NULL, "text/xml"));
	assert_false(http_media_type_is("", "text/xml"));
	/* what a page of another site can send without a preflight */
	assert_false(http_media_type_is("text/plain", "text/xml"));
	assert_false(http_media_type_is("text/plain;charset=UTF-8", "text/xml"));
	assert_false(http_media_type_is("application/x-www-form-urlencoded", "text/xml"));
	assert_false(http_media_type_is("multipart/form-data; boundary=x", "text/xml"));
	assert_false(http_media_type_is("text/xmlx", "text/xml"));
	assert_false(http_media_type_is("text/xm", "text/xml"));
}

/* The verdict of http_cross_site on a request with these extra header lines. */
static const char *cross_site(const char *headers)
{
	static struct http_parser p;
	static bool inited;
	char req[1024];
	size_t used;
	if (inited)
		http_parser_free(&p);
	http_parser_init(&p, HTTP_REQUEST, NULL);
	inited = true;
	snprintf(req, sizeof(req), "GET /index.html?action=stop HTTP/1.1\r\n%s\r\n", headers);
	assert_int_equal(feed_all(&p, req, strlen(req), &used), HTTP_DONE);
	return http_cross_site(&p);
}

static void test_cross_site(void **state)
{
	(void)state;
	/* not a browser, or a browser telling it is the page itself or the user */
	assert_null(cross_site(""));
	assert_null(cross_site("Host: 127.0.0.1:9001\r\n"));
	assert_null(cross_site("Sec-Fetch-Site: same-origin\r\n"));
	assert_null(cross_site("Sec-Fetch-Site: none\r\n"));
	assert_null(cross_site("Host: 127.0.0.1:9001\r\nOrigin: http://127.0.0.1:9001\r\n"
			       "Sec-Fetch-Site: same-origin\r\n"));
	assert_null(cross_site("Host: Box:9001\r\nOrigin: http://box:9001\r\n"));
	assert_null(cross_site("Host: box\r\nOrigin: https://box\r\n"));
	assert_null(cross_site("Host: [::1]:9001\r\nReferer: http://[::1]:9001/index.html?x\r\n"));
	assert_null(cross_site("Host: box:9001\r\nReferer: http://box:9001\r\n"));
	assert_null(cross_site("Host: box\r\nOrigin:\r\nReferer: \r\n"));
	/* another origin, by any of the three */
	assert_string_equal(cross_site("Sec-Fetch-Site: cross-site\r\n"), "Sec-Fetch-Site");
	assert_string_equal(cross_site("Sec-Fetch-Site: same-site\r\n"), "Sec-Fetch-Site");
	assert_string_equal(cross_site("Sec-Fetch-Site: whatever\r\n"), "Sec-Fetch-Site");
	assert_string_equal(cross_site("Host: box:9001\r\nOrigin: http://box:9002\r\n"), "Origin");
	assert_string_equal(cross_site("Host: box:9001\r\nOrigin: http://box:90011\r\n"), "Origin");
	assert_string_equal(cross_site("Host: box\r\nOrigin: http://evil.example\r\n"), "Origin");
	assert_string_equal(cross_site("Host: box\r\nOrigin: null\r\n"), "Origin");
	assert_string_equal(cross_site("Host: box\r\nOrigin: ftp://box\r\n"), "Origin");
	assert_string_equal(cross_site("Origin: http://box\r\n"), "Origin"); /* no Host */
	assert_string_equal(cross_site("Host: box\r\nReferer: http://evil.example/box\r\n"),
			    "Referer");
	assert_string_equal(cross_site("Host: box\r\nReferer: http://box.evil.example/\r\n"),
			    "Referer");
	assert_string_equal(cross_site("Host: box\r\nReferer: http://boxx/\r\n"), "Referer");
	/* one foreign signal is enough */
	assert_string_equal(cross_site("Host: box\r\nSec-Fetch-Site: same-origin\r\n"
				       "Referer: http://evil.example/\r\n"),
			    "Referer");
	cross_site("");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percent_decode),
	    cmocka_unit_test(test_media_type),
	    cmocka_unit_test(test_cross_site),
	    cmocka_unit_test(test_request_whole),
	    cmocka_unit_test(test_request_bytewise_and_pipelined),
	    cmocka_unit_test(test_request_errors),
	    cmocka_unit_test(test_response_chunked_streaming),
	    cmocka_unit_test(test_response_until_close_and_errors),
	    cmocka_unit_test(test_basic_auth),
	    cmocka_unit_test(test_write_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
