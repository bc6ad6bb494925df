/* XML-RPC codec: Python-exact encodings, decoding of every type, malformed
 * documents and limits. Expected bytes were produced by xmlrpc.client.dumps
 * (Python 3.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xmlrpc.h"

#define RESP(body)                                                                                 \
	"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" body                        \
	"</param>\n</params>\n</methodResponse>\n"

static void assert_response(struct xr_value *v, const char *expected)
{
	struct buf sb;
	buf_init(&sb, 0);
	assert_true(xr_encode_response(&sb, v));
	assert_string_equal(sb.data, expected);
	/* and it decodes back to something that encodes the same */
	struct xr_response r;
	char err[128];
	assert_true(xr_parse_response(sb.data, sb.len, NULL, &r, err, sizeof(err)));
	struct buf again;
	buf_init(&again, 0);
	assert_true(xr_encode_response(&again, r.value));
	assert_string_equal(again.data, expected);
	xr_response_free(&r);
	buf_free(&again);
	buf_free(&sb);
	xr_free(v);
}

static void test_encode_scalars(void **state)
{
	(void)state;
	assert_response(xr_int(5), RESP("<value><int>5</int></value>\n"));
	assert_response(xr_int(-2147483648LL), RESP("<value><int>-2147483648</int></value>\n"));
	assert_response(xr_int(0), RESP("<value><int>0</int></value>\n"));
	assert_response(xr_bool(true), RESP("<value><boolean>1</boolean></value>\n"));
	assert_response(xr_string("a<b>&c"),
			RESP("<value><string>a&lt;b&gt;&amp;c</string></value>\n"));
	assert_response(xr_double(1.5), RESP("<value><double>1.5</double></value>\n"));
	assert_response(
	    xr_datetime("20261123T03:44:05"),
	    RESP("<value><dateTime.iso8601>20261123T03:44:05</dateTime.iso8601></value>\n"));
	assert_response(xr_base64("", 0), RESP("<value><base64>\n</base64></value>\n"));
	char hello[111];
	for (int i = 0; i < 10; i++)
		memcpy(hello + 11 * i, "hello world", 11);
	assert_response(
	    xr_base64(hello, 110),
	    RESP("<value><base64>\n"
		 "aGVsbG8gd29ybGRoZWxsbyB3b3JsZGhlbGxvIHdvcmxkaGVsbG8gd29ybGRoZWxsbyB3b3JsZGhl\n"
		 "bGxvIHdvcmxkaGVsbG8gd29ybGRoZWxsbyB3b3JsZGhlbGxvIHdvcmxkaGVsbG8gd29ybGQ=\n"
		 "</base64></value>\n"));
}

static void test_encode_int_overflow(void **state)
{
	(void)state;
	struct buf sb;
	buf_init(&sb, 0);
	struct xr_value *v = xr_int(2147483648LL);
	assert_false(xr_encode_response(&sb, v));
	xr_free(v);
	buf_free(&sb);
}

static void test_encode_containers(void **state)
{
	(void)state;
	struct xr_value *a = xr_array();
	assert_true(xr_array_add(a, xr_int(1)));
	assert_true(xr_array_add(a, xr_string("x")));
	assert_response(a, RESP("<value><array><data>\n<value><int>1</int></value>\n"
				"<value><string>x</string></value>\n</data></array></value>\n"));
	struct xr_value *st = xr_struct(), *inner = xr_array();
	assert_true(xr_array_add(inner, xr_bool(true)));
	assert_true(xr_struct_set(st, "a", xr_int(1)));
	assert_true(xr_struct_set(st, "b", inner));
	assert_response(st,
			RESP("<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int>"
			     "</value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n"
			     "<value><boolean>1</boolean></value>\n</data></array></value>\n"
			     "</member>\n</struct></value>\n"));
	assert_response(xr_array(), RESP("<value><array><data>\n</data></array></value>\n"));
}

static void test_encode_fault_and_call(void **state)
{
	(void)state;
	struct buf sb;
	buf_init(&sb, 0);
	assert_true(xr_encode_fault(&sb, XR_BAD_NAME, "BAD_NAME: foo"));
	assert_string_equal(
	    sb.data, "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n"
		     "<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n"
		     "<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string>"
		     "</value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
	buf_reset(&sb);
	assert_true(xr_encode_call(&sb, "supervisor.getVersion", NULL, 0));
	assert_string_equal(sb.data, "<?xml version='1.0'?>\n<methodCall>\n<methodName>"
				     "supervisor.getVersion</methodName>\n<params>\n</params>\n"
				     "</methodCall>\n");
	buf_reset(&sb);
	struct xr_value *name = xr_string("foo"), *wait = xr_bool(true);
	const struct xr_value *params[] = {name, wait};
	assert_true(xr_encode_call(&sb, "supervisor.startProcess", params, 2));
	assert_string_equal(
	    sb.data, "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess"
		     "</methodName>\n<params>\n<param>\n<value><string>foo</string></value>\n"
		     "</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n"
		     "</params>\n</methodCall>\n");
	xr_free(name);
	xr_free(wait);
	buf_free(&sb);
}

static void test_double_repr(void **state)
{
	(void)state;
	static const struct {
		double d;
		const char *repr;
	} cases[] = {
	    {1.0, "1.0"},
	    {0.1, "0.1"},
	    {1e16, "1e+16"},
	    {1e15, "1000000000000000.0"},
	    {1.5e-5, "1.5e-05"},
	    {0.0001, "0.0001"},
	    {-0.0, "-0.0"},
	    {123456789.125, "123456789.125"},
	    {1e300, "1e+300"},
	    {2.5e-300, "2.5e-300"},
	    {1.0 / 3, "0.3333333333333333"},
	    {100.0, "100.0"},
	    {9.999e15, "9999000000000000.0"},
	    {12345678901234567.0, "1.2345678901234568e+16"},
	};
	char buf[40];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xr_format_double(buf, sizeof(buf), cases[i].d);
		assert_string_equal(buf, cases[i].repr);
	}
}

static bool parse_call(const char *xml, struct xr_call *c)
{
	char err[128];
	return xr_parse_call(xml, strlen(xml), NULL, c, err, sizeof(err));
}

static void test_parse_call(void **state)
{
	(void)state;
	struct xr_call c;
	assert_true(
	    parse_call("<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion"
		       "</methodName>\n<params>\n</params>\n</methodCall>\n",
		       &c));
	assert_string_equal(c.method, "supervisor.getVersion");
	assert_int_equal(xr_len(c.params), 0);
	xr_call_free(&c);

	/* no <params>, untyped value, every type */
	assert_true(parse_call("<methodCall><methodName>a.b</methodName></methodCall>", &c));
	assert_int_equal(xr_len(c.params), 0);
	xr_call_free(&c);
	assert_true(parse_call(
	    "<methodCall><methodName>a.b</methodName><params>"
	    "<param><value>plain &amp; text</value></param>"
	    "<param><value><i4> -7 </i4></value></param>"
	    "<param><value><boolean>0</boolean></value></param>"
	    "<param><value><double>2.5</double></value></param>"
	    "<param><value><base64>aGk=</base64></value></param>"
	    "<param><value><dateTime.iso8601>20260101T00:00:00</dateTime.iso8601></value></param>"
	    "<param><value><array><data><value><int>1</int></value><value/></data></array></value>"
	    "</param>"
	    "<param><value><struct><member><name>k</name><value><string>v</string></value></member>"
	    "</struct></value></param>"
	    "<param><value></value></param>"
	    "</params></methodCall>",
	    &c));
	assert_int_equal(xr_len(c.params), 9);
	const struct xr_value *p = xr_item(c.params, 0);
	assert_int_equal(p->type, XR_STRING);
	assert_string_equal(p->u.str.ptr, "plain & text");
	assert_int_equal(xr_item(c.params, 1)->u.i, -7);
	assert_int_equal(xr_item(c.params, 2)->type, XR_BOOL);
	assert_false(xr_item(c.params, 2)->u.b);
	assert_true(xr_item(c.params, 3)->u.d == 2.5);
	assert_int_equal(xr_item(c.params, 4)->type, XR_BASE64);
	assert_memory_equal(xr_item(c.params, 4)->u.str.ptr, "hi", 2);
	assert_string_equal(xr_item(c.params, 5)->u.str.ptr, "20260101T00:00:00");
	const struct xr_value *arr = xr_item(c.params, 6);
	assert_int_equal(xr_len(arr), 2);
	assert_int_equal(xr_item(arr, 1)->type, XR_STRING);
	assert_string_equal(xr_member_str(xr_item(c.params, 7), "k", NULL), "v");
	assert_string_equal(xr_item(c.params, 8)->u.str.ptr, "");
	xr_call_free(&c);
}

static void test_parse_response_fault(void **state)
{
	(void)state;
	const char *xml =
	    "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n"
	    "<member>\n<name>faultCode</name>\n<value><int>70</int></value>\n</member>\n"
	    "<member>\n<name>faultString</name>\n<value><string>NOT_RUNNING: x</string>"
	    "</value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
	struct xr_response r;
	char err[128];
	assert_true(xr_parse_response(xml, strlen(xml), NULL, &r, err, sizeof(err)));
	assert_true(r.is_fault);
	assert_int_equal(r.fault_code, XR_NOT_RUNNING);
	assert_string_equal(r.fault_string, "NOT_RUNNING: x");
	assert_null(r.value);
	xr_response_free(&r);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "<methodCall>",
	    "not xml",
	    "<methodCall><params/></methodCall>",	  /* no name */
	    "<methodResponse><params/></methodResponse>", /* as a call */
	    "<methodCall><methodName>a</methodName><params><param><value><int>x</int></value>"
	    "</param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><int>99999999999999999999"
	    "</int></value></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><boolean>2</boolean>"
	    "</value></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><foo/></value></param>"
	    "</params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><int>1</int><int>2</int>"
	    "</value></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><struct><member>"
	    "<value><int>1</int></value></member></struct></value></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param><value><base64>!!</base64>"
	    "</value></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params><param></param></params></methodCall>",
	    "<methodCall><methodName>a</methodName><params></params><params></params></methodCall>",
	    "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>&a;</methodName>"
	    "</methodCall>",
	    "<methodCall><methodName>a</methodName><value/></methodCall>",
	    "<methodCall><methodName>a</methodName></methodCall><extra/>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xr_call c;
		char err[128] = "";
		bool ok = xr_parse_call(bad[i], strlen(bad[i]), NULL, &c, err, sizeof(err));
		if (ok)
			fail_msg("accepted bad input %zu: %s", i, bad[i]);
		assert_true(err[0] != '\0');
	}
	struct xr_response r;
	char err[128];
	const char *two = "<methodResponse><params><param><value>a</value></param><param><value>b"
			  "</value></param></params></methodResponse>";
	assert_false(xr_parse_response(two, strlen(two), NULL, &r, err, sizeof(err)));
	const char *badfault = "<methodResponse><fault><value><int>1</int></value></fault>"
			       "</methodResponse>";
	assert_false(xr_parse_response(badfault, strlen(badfault), NULL, &r, err, sizeof(err)));
}

static void test_limits(void **state)
{
	(void)state;
	struct buf sb;
	buf_init(&sb, 0);
	buf_puts(&sb, "<methodCall><methodName>a</methodName><params><param>");
	for (int i = 0; i < 40; i++)
		buf_puts(&sb, "<value><array><data>");
	for (int i = 0; i < 40; i++)
		buf_puts(&sb, "</data></array></value>");
	buf_puts(&sb, "</param></params></methodCall>");
	struct xr_call c;
	char err[128];
	assert_false(xr_parse_call(sb.data, sb.len, NULL, &c, err, sizeof(err)));
	struct xr_limits deep = xr_default_limits;
	deep.max_depth = 64;
	assert_true(xr_parse_call(sb.data, sb.len, &deep, &c, err, sizeof(err)));
	xr_call_free(&c);

	struct xr_limits small = {.max_depth = 8, .max_values = 3, .max_bytes = 4096};
	const char *four =
	    "<methodCall><methodName>a</methodName><params><param><value><array><data>"
	    "<value>1</value><value>2</value><value>3</value></data></array></value>"
	    "</param></params></methodCall>";
	assert_false(xr_parse_call(four, strlen(four), &small, &c, err, sizeof(err)));
	small.max_values = 4;
	assert_true(xr_parse_call(four, strlen(four), &small, &c, err, sizeof(err)));
	xr_call_free(&c);
	small.max_bytes = 20;
	assert_false(xr_parse_call(four, strlen(four), &small, &c, err, sizeof(err)));
	buf_free(&sb);
}

static void test_fault_table(void **state)
{
	(void)state;
	assert_string_equal(xr_fault_name(10), "BAD_NAME");
	assert_string_equal(xr_fault_name(92), "CANT_REREAD");
	assert_string_equal(xr_fault_name(12345), "UNKNOWN");
	assert_int_equal(xr_fault_code("SUCCESS"), 80);
	assert_int_equal(xr_fault_code("nope"), -1);
	struct buf sb;
	buf_init(&sb, 0);
	xr_fault_string(&sb, XR_BAD_NAME, "foo");
	assert_string_equal(sb.data, "BAD_NAME: foo");
	buf_reset(&sb);
	xr_fault_string(&sb, XR_SHUTDOWN_STATE, NULL);
	assert_string_equal(sb.data, "SHUTDOWN_STATE");
	buf_free(&sb);
}

/* A multicall's answer is encoded piece by piece: a raw value goes out as it is. */
static void test_raw_value(void **state)
{
	struct buf sb;
	buf_init(&sb, 0);
	char *data = strdup("<value><int>7</int></value>\n");
	struct xr_value *arr = xr_array();
	xr_array_add(arr, xr_raw(data, strlen(data)));
	assert_true(xr_encode_value(&sb, arr));
	assert_string_equal(sb.data, "<value><array><data>\n<value><int>7</int></value>\n"
				     "</data></array></value>\n");
	xr_free(arr);
	buf_free(&sb);
	assert_null(xr_raw(NULL, 0));
}

/* An add that fails (here a NULL item, as when malloc fails) leaves the container unable to
 * encode, so a half-built answer is never sent as if it were whole. */
static void test_incomplete_container(void **state)
{
	struct buf sb;
	buf_init(&sb, 0);
	struct xr_value *st = xr_struct(), *arr = xr_array();
	assert_true(xr_struct_set(st, "a", xr_int(1)));
	assert_false(xr_struct_set(st, "b", NULL));
	assert_false(xr_encode_value(&sb, st));
	assert_false(xr_array_add(arr, NULL));
	assert_false(xr_encode_value(&sb, arr));
	struct xr_value *outer = xr_array();
	struct xr_value *inner = xr_array();
	xr_array_add(inner, NULL);
	xr_array_add(outer, inner);
	assert_false(xr_encode_response(&sb, outer));
	xr_free(st);
	xr_free(arr);
	xr_free(outer);
	buf_free(&sb);
}

/* What XML cannot carry becomes U+FFFD, byte by byte; the rest is xmlrpc.client's. */
static void test_string_always_well_formed(void **state)
{
	(void)state;
	assert_response(xr_string_len("a\x01<\xC3\xA9\xFF\x1B[0m\t\xEF\xBF\xBE&", 15),
			RESP("<value><string>a\xEF\xBF\xBD&lt;\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD[0m\t"
			     "\xEF\xBF\xBD&amp;</string></value>\n"));
	assert_response(xr_string_len("x\0y", 3),
			RESP("<value><string>x\xEF\xBF\xBDy</string></value>\n"));
}

static void test_copy(void **state)
{
	(void)state;
	struct xr_value *st = xr_struct(), *arr = xr_array();
	xr_array_add(arr, xr_int(7));
	xr_array_add(arr, xr_string("s"));
	xr_array_add(arr, xr_bool(true));
	xr_array_add(arr, xr_double(1.5));
	xr_struct_set(st, "methodName", xr_string("supervisor.getPID"));
	xr_struct_set(st, "params", arr);
	struct xr_value *c = xr_copy(st);
	xr_free(st);
	assert_non_null(c);
	assert_string_equal(xr_member_str(c, "methodName", ""), "supervisor.getPID");
	const struct xr_value *p = xr_member(c, "params");
	assert_int_equal(xr_len(p), 4);
	assert_int_equal(xr_item(p, 0)->u.i, 7);
	assert_string_equal(xr_item(p, 1)->u.str.ptr, "s");
	assert_true(xr_item(p, 2)->u.b);
	assert_true(xr_item(p, 3)->u.d == 1.5);
	xr_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_scalars),
	    cmocka_unit_test(test_encode_int_overflow),
	    cmocka_unit_test(test_encode_containers),
	    cmocka_unit_test(test_encode_fault_and_call),
	    cmocka_unit_test(test_double_repr),
	    cmocka_unit_test(test_parse_call),
	    cmocka_unit_test(test_parse_response_fault),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_fault_table),
	    cmocka_unit_test(test_raw_value),
	    cmocka_unit_test(test_incomplete_container),
	    cmocka_unit_test(test_string_always_well_formed),
	    cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
