#include "xmlrpc.h"
#include "utf8.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

const struct xr_limits xr_default_limits = {
    .max_depth = 32,
    .max_values = 100000,
    .max_bytes = 1024 * 1024,
};

static struct xr_value *new_value(enum xr_type type)
{
	struct xr_value *v = calloc(1, sizeof(*v));
	if (v)
		v->type = type;
	return v;
}

struct xr_value *xr_nil(void)
{
	return new_value(XR_NIL);
}

struct xr_value *xr_int(long long i)
{
	struct xr_value *v = new_value(XR_INT);
	if (v)
		v->u.i = i;
	return v;
}

struct xr_value *xr_bool(bool b)
{
	struct xr_value *v = new_value(XR_BOOL);
	if (v)
		v->u.b = b;
	return v;
}

struct xr_value *xr_double(double d)
{
	struct xr_value *v = new_value(XR_DOUBLE);
	if (v)
		v->u.d = d;
	return v;
}

static struct xr_value *new_text(enum xr_type type, const char *s, size_t len)
{
	struct xr_value *v = new_value(type);
	if (!v)
		return NULL;
	v->u.str.ptr = malloc(len + 1);
	if (!v->u.str.ptr) {
		free(v);
		return NULL;
	}
	if (len)
		memcpy(v->u.str.ptr, s, len);
	v->u.str.ptr[len] = '\0';
	v->u.str.len = len;
	return v;
}

struct xr_value *xr_string(const char *s)
{
	return new_text(XR_STRING, s, strlen(s));
}

struct xr_value *xr_string_len(const char *s, size_t len)
{
	return new_text(XR_STRING, s, len);
}

struct xr_value *xr_base64(const void *data, size_t len)
{
	return new_text(XR_BASE64, data, len);
}

struct xr_value *xr_datetime(const char *iso)
{
	return new_text(XR_DATETIME, iso, strlen(iso));
}

struct xr_value *xr_raw(char *data, size_t len)
{
	struct xr_value *v = data ? new_value(XR_RAW) : NULL;
	if (!v) {
		free(data);
		return NULL;
	}
	v->u.str.ptr = data;
	v->u.str.len = len;
	return v;
}

struct xr_value *xr_array(void)
{
	return new_value(XR_ARRAY);
}

struct xr_value *xr_struct(void)
{
	return new_value(XR_STRUCT);
}

static bool grow(void **items, size_t *cap, size_t len, size_t size)
{
	if (len < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*items, ncap * size);
	if (!p)
		return false;
	*items = p;
	*cap = ncap;
	return true;
}

bool xr_array_add(struct xr_value *array, struct xr_value *item)
{
	if (!array || !item || array->type != XR_ARRAY ||
	    !grow((void **)&array->u.array.items, &array->u.array.cap, array->u.array.len,
		  sizeof(item))) {
		if (array)
			array->incomplete = true;
		xr_free(item);
		return false;
	}
	array->u.array.items[array->u.array.len++] = item;
	return true;
}

bool xr_struct_set(struct xr_value *st, const char *name, struct xr_value *value)
{
	char *copy = strdup(name);
	if (!st || !value || !copy || st->type != XR_STRUCT ||
	    !grow((void **)&st->u.st.members, &st->u.st.cap, st->u.st.len,
		  sizeof(struct xr_member))) {
		if (st)
			st->incomplete = true;
		free(copy);
		xr_free(value);
		return false;
	}
	st->u.st.members[st->u.st.len++] = (struct xr_member){copy, value};
	return true;
}

void xr_free(struct xr_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case XR_STRING:
	case XR_BASE64:
	case XR_DATETIME:
	case XR_RAW:
		free(v->u.str.ptr);
		break;
	case XR_ARRAY:
		for (size_t i = 0; i < v->u.array.len; i++)
			xr_free(v->u.array.items[i]);
		free(v->u.array.items);
		break;
	case XR_STRUCT:
		for (size_t i = 0; i < v->u.st.len; i++) {
			free(v->u.st.members[i].name);
			xr_free(v->u.st.members[i].value);
		}
		free(v->u.st.members);
		break;
	default:
		break;
	}
	free(v);
}

struct xr_value *xr_copy(const struct xr_value *v)
{
	struct xr_value *c = NULL;
	switch (v->type) {
	case XR_STRING:
	case XR_BASE64:
	case XR_DATETIME:
	case XR_RAW:
		return new_text(v->type, v->u.str.ptr, v->u.str.len);
	case XR_ARRAY:
		c = xr_array();
		for (size_t i = 0; c && i < v->u.array.len; i++)
			if (!xr_array_add(c, xr_copy(v->u.array.items[i])))
				break;
		break;
	case XR_STRUCT:
		c = xr_struct();
		for (size_t i = 0; c && i < v->u.st.len; i++)
			if (!xr_struct_set(c, v->u.st.members[i].name,
					   xr_copy(v->u.st.members[i].value)))
				break;
		break;
	default:
		c = new_value(v->type);
		if (c)
			c->u = v->u;
		return c;
	}
	if (c && c->incomplete) {
		xr_free(c);
		return NULL;
	}
	return c;
}

const struct xr_value *xr_member(const struct xr_value *st, const char *name)
{
	if (!st || st->type != XR_STRUCT)
		return NULL;
	/* Python dicts keep the last duplicate key. */
	for (size_t i = st->u.st.len; i-- > 0;)
		if (strcmp(st->u.st.members[i].name, name) == 0)
			return st->u.st.members[i].value;
	return NULL;
}

const struct xr_value *xr_item(const struct xr_value *array, size_t i)
{
	if (!array || array->type != XR_ARRAY || i >= array->u.array.len)
		return NULL;
	return array->u.array.items[i];
}

size_t xr_len(const struct xr_value *array)
{
	return array && array->type == XR_ARRAY ? array->u.array.len : 0;
}

long long xr_member_int(const struct xr_value *st, const char *name, long long def)
{
	const struct xr_value *v = xr_member(st, name);
	if (v && v->type == XR_INT)
		return v->u.i;
	if (v && v->type == XR_BOOL)
		return v->u.b;
	return def;
}

const char *xr_member_str(const struct xr_value *st, const char *name, const char *def)
{
	const struct xr_value *v = xr_member(st, name);
	return v && v->type == XR_STRING ? v->u.str.ptr : def;
}

bool xr_member_bool(const struct xr_value *st, const char *name, bool def)
{
	const struct xr_value *v = xr_member(st, name);
	if (v && v->type == XR_BOOL)
		return v->u.b;
	if (v && v->type == XR_INT)
		return v->u.i != 0;
	return def;
}

/* What XML 1.0 allows in character data (Char), of one decoded character. */
static bool xml_char(const unsigned char *u, size_t n)
{
	if (n == 1)
		return u[0] >= 0x20 || u[0] == '\t' || u[0] == '\n' || u[0] == '\r';
	/* U+FFFE and U+FFFF */
	return !(n == 3 && u[0] == 0xEF && u[1] == 0xBF && u[2] >= 0xBE);
}

/* xmlrpc.client.escape: &, < and > are replaced. What it would let through but no XML parser
 * takes (bytes that are not UTF-8, control characters, U+FFFE/U+FFFF) becomes U+FFFD, byte by
 * byte, so every answer is well formed whatever a log holds. */
static void escape(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len;) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (u[0] >= 0x20 && u[0] < 0x80 && u[0] != '&' && u[0] != '<' && u[0] != '>') {
			i++; /* the common case */
			continue;
		}
		size_t n = utf8_char(s + i, len - i);
		const char *rep = !n || !xml_char(u, n) ? "\xEF\xBF\xBD"
				  : u[0] == '&'		? "&amp;"
				  : u[0] == '<'		? "&lt;"
				  : u[0] == '>'		? "&gt;"
							: NULL;
		if (!rep) {
			i += n;
			continue;
		}
		buf_append(out, s + start, i - start);
		buf_puts(out, rep);
		i += n ? n : 1;
		start = i;
	}
	buf_append(out, s + start, len - start);
}

void xr_format_double(char *buf, size_t size, double d)
{
	if (isnan(d)) {
		snprintf(buf, size, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, d < 0 ? "-inf" : "inf");
		return;
	}
	/* Shortest digits that read back as d, then Python's 'r' layout:
	 * positional for exponents in [-4, 16), scientific otherwise. */
	char sci[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	const char *s = sci;
	bool neg = *s == '-';
	if (neg)
		s++;
	char digits[24];
	size_t nd = 0;
	for (; *s && *s != 'e'; s++)
		if (*s != '.' && nd < sizeof(digits) - 1)
			digits[nd++] = *s;
	digits[nd] = '\0';
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	int exp = atoi(s + 1);
	struct buf out;
	buf_init(&out, 64);
	if (neg)
		buf_putc(&out, '-');
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			buf_puts(&out, "0.");
			for (int i = -1; i > exp; i--)
				buf_putc(&out, '0');
			buf_puts(&out, digits);
		} else {
			for (int i = 0; i <= exp; i++)
				buf_putc(&out, (size_t)i < nd ? digits[i] : '0');
			buf_putc(&out, '.');
			buf_puts(&out, (size_t)exp + 1 < nd ? digits + exp + 1 : "0");
		}
	} else {
		buf_putc(&out, digits[0]);
		if (nd > 1) {
			buf_putc(&out, '.');
			buf_puts(&out, digits + 1);
		}
		buf_printf(&out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	snprintf(buf, size, "%s", out.data ? out.data : "");
	buf_free(&out);
}

/* Literal text without strlen: encoding is on the path of every status request. */
#define PUT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

bool xr_encode_value(struct buf *out, const struct xr_value *v)
{
	char num[40];
	if (v->incomplete)
		return false;
	switch (v->type) {
	case XR_NIL:
		PUT(out, "<value><nil/></value>");
		break;
	case XR_INT:
		if (v->u.i > 2147483647LL || v->u.i < -2147483648LL)
			return false;
		PUT(out, "<value><int>");
		buf_put_int(out, v->u.i);
		PUT(out, "</int></value>\n");
		break;
	case XR_BOOL:
		if (v->u.b)
			PUT(out, "<value><boolean>1</boolean></value>\n");
		else
			PUT(out, "<value><boolean>0</boolean></value>\n");
		break;
	case XR_DOUBLE:
		xr_format_double(num, sizeof(num), v->u.d);
		buf_printf(out, "<value><double>%s</double></value>\n", num);
		break;
	case XR_STRING:
		PUT(out, "<value><string>");
		escape(out, v->u.str.ptr, v->u.str.len);
		PUT(out, "</string></value>\n");
		break;
	case XR_DATETIME:
		PUT(out, "<value><dateTime.iso8601>");
		escape(out, v->u.str.ptr, v->u.str.len);
		PUT(out, "</dateTime.iso8601></value>\n");
		break;
	case XR_BASE64:
		PUT(out, "<value><base64>\n");
		base64_encode(out, v->u.str.ptr, v->u.str.len, 76);
		PUT(out, "</base64></value>\n");
		break;
	case XR_RAW:
		buf_append(out, v->u.str.ptr, v->u.str.len);
		break;
	case XR_ARRAY:
		PUT(out, "<value><array><data>\n");
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!xr_encode_value(out, v->u.array.items[i]))
				return false;
		PUT(out, "</data></array></value>\n");
		break;
	case XR_STRUCT:
		PUT(out, "<value><struct>\n");
		for (size_t i = 0; i < v->u.st.len; i++) {
			PUT(out, "<member>\n<name>");
			escape(out, v->u.st.members[i].name, strlen(v->u.st.members[i].name));
			PUT(out, "</name>\n");
			if (!xr_encode_value(out, v->u.st.members[i].value))
				return false;
			PUT(out, "</member>\n");
		}
		PUT(out, "</struct></value>\n");
		break;
	}
	return !out->failed;
}

static const char xml_header[] = "<?xml version='1.0'?>\n";

bool xr_encode_call(struct buf *out, const char *method, const struct xr_value *const *params,
		    size_t nparams)
{
	buf_puts(out, xml_header);
	buf_puts(out, "<methodCall>\n<methodName>");
	escape(out, method, strlen(method));
	buf_puts(out, "</methodName>\n<params>\n");
	for (size_t i = 0; i < nparams; i++) {
		buf_puts(out, "<param>\n");
		if (!xr_encode_value(out, params[i]))
			return false;
		buf_puts(out, "</param>\n");
	}
	buf_puts(out, "</params>\n</methodCall>\n");
	return !out->failed;
}

bool xr_encode_response(struct buf *out, const struct xr_value *result)
{
	buf_puts(out, xml_header);
	buf_puts(out, "<methodResponse>\n<params>\n<param>\n");
	if (!xr_encode_value(out, result))
		return false;
	buf_puts(out, "</param>\n</params>\n</methodResponse>\n");
	return !out->failed;
}

bool xr_encode_fault(struct buf *out, int code, const char *string)
{
	struct xr_value *st = xr_struct();
	bool ok = xr_struct_set(st, "faultCode", xr_int(code)) &&
		  xr_struct_set(st, "faultString", xr_string(string));
	if (ok) {
		buf_puts(out, xml_header);
		buf_puts(out, "<methodResponse>\n<fault>\n");
		ok = xr_encode_value(out, st);
		buf_puts(out, "</fault>\n</methodResponse>\n");
	}
	xr_free(st);
	return ok && !out->failed;
}

static const struct {
	int code;
	const char *name;
} faults[] = {
    {XR_UNKNOWN_METHOD, "UNKNOWN_METHOD"},
    {XR_INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS"},
    {XR_BAD_ARGUMENTS, "BAD_ARGUMENTS"},
    {XR_SIGNATURE_UNSUPPORTED, "SIGNATURE_UNSUPPORTED"},
    {XR_SHUTDOWN_STATE, "SHUTDOWN_STATE"},
    {XR_BAD_NAME, "BAD_NAME"},
    {XR_BAD_SIGNAL, "BAD_SIGNAL"},
    {XR_NO_FILE, "NO_FILE"},
    {XR_NOT_EXECUTABLE, "NOT_EXECUTABLE"},
    {XR_FAILED, "FAILED"},
    {XR_ABNORMAL_TERMINATION, "ABNORMAL_TERMINATION"},
    {XR_SPAWN_ERROR, "SPAWN_ERROR"},
    {XR_ALREADY_STARTED, "ALREADY_STARTED"},
    {XR_NOT_RUNNING, "NOT_RUNNING"},
    {XR_SUCCESS, "SUCCESS"},
    {XR_ALREADY_ADDED, "ALREADY_ADDED"},
    {XR_STILL_RUNNING, "STILL_RUNNING"},
    {XR_CANT_REREAD, "CANT_REREAD"},
};

const char *xr_fault_name(int code)
{
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (faults[i].code == code)
			return faults[i].name;
	return "UNKNOWN";
}

int xr_fault_code(const char *name)
{
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(faults[i].name, name) == 0)
			return faults[i].code;
	return -1;
}

bool xr_fault_string(struct buf *out, int code, const char *detail)
{
	buf_puts(out, xr_fault_name(code));
	if (detail)
		buf_printf(out, ": %s", detail);
	return !out->failed;
}
