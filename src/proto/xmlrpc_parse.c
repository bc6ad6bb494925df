/* XML-RPC decoder on expat: a tag table says where each element may appear,
 * a frame stack builds the values, and every limit is checked as it goes. */
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base64.h"
#include "xmlrpc.h"

enum tag {
	T_ROOT,
	T_METHODCALL,
	T_METHODRESPONSE,
	T_METHODNAME,
	T_PARAMS,
	T_PARAM,
	T_FAULT,
	T_VALUE,
	T_INT,
	T_BOOLEAN,
	T_STRING,
	T_DOUBLE,
	T_BASE64,
	T_DATETIME,
	T_NIL,
	T_ARRAY,
	T_DATA,
	T_STRUCT,
	T_MEMBER,
	T_NAME,
	T_COUNT
};

#define P(t)	    (1u << (t))
#define TYPE_PARENT P(T_VALUE)

static const struct {
	const char *name;
	enum tag tag;
	unsigned parents;
} tags[] = {
    {"methodCall", T_METHODCALL, P(T_ROOT)},
    {"methodResponse", T_METHODRESPONSE, P(T_ROOT)},
    {"methodName", T_METHODNAME, P(T_METHODCALL)},
    {"params", T_PARAMS, P(T_METHODCALL) | P(T_METHODRESPONSE)},
    {"param", T_PARAM, P(T_PARAMS)},
    {"fault", T_FAULT, P(T_METHODRESPONSE)},
    {"value", T_VALUE, P(T_PARAM) | P(T_FAULT) | P(T_DATA) | P(T_MEMBER)},
    {"int", T_INT, TYPE_PARENT},
    {"i4", T_INT, TYPE_PARENT},
    {"i8", T_INT, TYPE_PARENT},
    {"boolean", T_BOOLEAN, TYPE_PARENT},
    {"string", T_STRING, TYPE_PARENT},
    {"double", T_DOUBLE, TYPE_PARENT},
    {"base64", T_BASE64, TYPE_PARENT},
    {"dateTime.iso8601", T_DATETIME, TYPE_PARENT},
    {"nil", T_NIL, TYPE_PARENT},
    {"array", T_ARRAY, TYPE_PARENT},
    {"data", T_DATA, P(T_ARRAY)},
    {"struct", T_STRUCT, TYPE_PARENT},
    {"member", T_MEMBER, P(T_STRUCT)},
    {"name", T_NAME, P(T_MEMBER)},
};

struct frame {
	enum tag tag;
	struct xr_value *val; /* value being built, or the array/struct container */
	char *name;	      /* member name */
};

struct decoder {
	XML_Parser xp;
	const struct xr_limits *lim;
	enum tag root; /* the one document element accepted */
	struct frame *frames;
	size_t nframes, max_frames, depth, nvalues;
	struct buf text;
	char *method;
	struct xr_value *params;
	struct xr_value *fault;
	bool seen_body; /* <params> or <fault> */
	char *err;
	size_t errsize;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void stop(struct decoder *d, const char *fmt, ...)
{
	if (d->failed)
		return;
	d->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, d->errsize, fmt, ap);
	va_end(ap);
	XML_StopParser(d->xp, XML_FALSE);
}

static struct frame *top(struct decoder *d)
{
	return &d->frames[d->nframes - 1];
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct decoder *d = ud;
	if (d->failed)
		return;
	enum tag parent = d->nframes ? top(d)->tag : T_ROOT;
	size_t i;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcmp(tags[i].name, name) == 0)
			break;
	if (i == sizeof(tags) / sizeof(tags[0])) {
		stop(d, "unknown tag <%s>", name);
		return;
	}
	enum tag t = tags[i].tag;
	if (!(tags[i].parents & P(parent)) || (parent == T_ROOT && t != d->root)) {
		stop(d, "<%s> is not allowed here", name);
		return;
	}
	if (parent == T_VALUE && top(d)->val) {
		stop(d, "<value> holds more than one value");
		return;
	}
	if (d->nframes >= d->max_frames) {
		stop(d, "XML nested too deeply");
		return;
	}
	if (t == T_VALUE && (++d->depth > d->lim->max_depth || ++d->nvalues > d->lim->max_values)) {
		stop(d, "too many or too deeply nested values");
		return;
	}
	if (t == T_PARAMS || t == T_FAULT) {
		if (d->seen_body) {
			stop(d, "more than one <params> or <fault>");
			return;
		}
		d->seen_body = true;
	}
	struct frame f = {t, NULL, NULL};
	if (t == T_ARRAY || t == T_STRUCT) {
		f.val = t == T_ARRAY ? xr_array() : xr_struct();
		if (!f.val) {
			stop(d, "out of memory");
			return;
		}
	}
	d->frames[d->nframes++] = f;
	buf_reset(&d->text);
	(void)attrs;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct decoder *d = ud;
	if (!d->failed && !buf_append(&d->text, s, (size_t)len))
		stop(d, "text too large");
}

static const char *text_trimmed(struct decoder *d, size_t *len)
{
	const char *s = d->text.data ? d->text.data : "";
	size_t n = d->text.len;
	while (n && strchr(" \t\r\n", *s)) {
		s++;
		n--;
	}
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	*len = n;
	return s;
}

static struct xr_value *scalar(struct decoder *d, enum tag t)
{
	size_t n;
	const char *s;
	char buf[64], *end;
	struct buf bytes;
	struct xr_value *v;
	switch (t) {
	case T_STRING:
		return xr_string_len(d->text.data ? d->text.data : "", d->text.len);
	case T_DATETIME:
		s = text_trimmed(d, &n);
		{
			char *iso = strndup(s, n);
			v = iso ? xr_datetime(iso) : NULL;
			free(iso);
			return v;
		}
	case T_NIL:
		return xr_nil();
	case T_BOOLEAN:
		s = text_trimmed(d, &n);
		if (n == 1 && (*s == '0' || *s == '1'))
			return xr_bool(*s == '1');
		stop(d, "bad boolean value");
		return NULL;
	case T_INT:
	case T_DOUBLE:
		s = text_trimmed(d, &n);
		if (n == 0 || n >= sizeof(buf)) {
			stop(d, "bad number");
			return NULL;
		}
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		if (t == T_INT) {
			long long i = strtoll(buf, &end, 10);
			if (*end || errno) {
				stop(d, "bad integer '%s'", buf);
				return NULL;
			}
			return xr_int(i);
		} else {
			double x = strtod(buf, &end);
			if (*end) {
				stop(d, "bad double '%s'", buf);
				return NULL;
			}
			return xr_double(x);
		}
	case T_BASE64:
		buf_init(&bytes, d->lim->max_bytes);
		v = NULL;
		if (base64_decode(&bytes, d->text.data ? d->text.data : "", d->text.len))
			v = xr_base64(bytes.data ? bytes.data : "", bytes.len);
		else
			stop(d, "bad base64 data");
		buf_free(&bytes);
		return v;
	default:
		return NULL;
	}
}

/* Hands a finished value to whatever encloses it. */
static void attach(struct decoder *d, struct xr_value *v)
{
	struct frame *parent = top(d);
	switch (parent->tag) {
	case T_VALUE:
	case T_PARAM:
	case T_FAULT:
	case T_MEMBER:
		if (parent->val) {
			xr_free(v);
			stop(d, "more than one value in <%s>",
			     parent->tag == T_MEMBER ? "member" : "param");
			return;
		}
		parent->val = v;
		return;
	case T_DATA:
		if (!xr_array_add(d->frames[d->nframes - 2].val, v))
			stop(d, "out of memory");
		return;
	default:
		xr_free(v);
		stop(d, "misplaced value");
	}
}

/* Each end_* finishes the element of frame f, already off the stack. */
static void end_value(struct decoder *d, struct frame *f)
{
	d->depth--;
	struct xr_value *v = f->val;
	if (!v) /* untyped <value>text</value> is a string */
		v = xr_string_len(d->text.data ? d->text.data : "", d->text.len);
	if (!v) {
		stop(d, "out of memory");
		return;
	}
	attach(d, v);
}

static void end_scalar(struct decoder *d, struct frame *f)
{
	struct xr_value *v = scalar(d, f->tag);
	if (v)
		attach(d, v);
	else
		stop(d, "out of memory");
}

static void end_container(struct decoder *d, struct frame *f)
{
	attach(d, f->val);
}

static void end_name(struct decoder *d, struct frame *f)
{
	if (top(d)->name) {
		stop(d, "<member> with two names");
		return;
	}
	top(d)->name = strdup(d->text.data ? d->text.data : "");
	if (!top(d)->name)
		stop(d, "out of memory");
}

static void end_member(struct decoder *d, struct frame *f)
{
	if (!f->name || !f->val) {
		free(f->name);
		xr_free(f->val);
		stop(d, "<member> needs a <name> and a <value>");
		return;
	}
	if (!xr_struct_set(top(d)->val, f->name, f->val))
		stop(d, "out of memory");
	free(f->name);
}

static void end_param(struct decoder *d, struct frame *f)
{
	if (!f->val) {
		stop(d, "<param> without a <value>");
		return;
	}
	if (!xr_array_add(d->params, f->val))
		stop(d, "out of memory");
}

static void end_fault(struct decoder *d, struct frame *f)
{
	if (!f->val) {
		stop(d, "<fault> without a <value>");
		return;
	}
	d->fault = f->val;
}

static void end_method_name(struct decoder *d, struct frame *f)
{
	if (d->method) {
		stop(d, "more than one <methodName>");
		return;
	}
	d->method = strdup(d->text.data ? d->text.data : "");
	if (!d->method)
		stop(d, "out of memory");
}

/* NULL: nothing to finish (the document, <params>, <data>). */
static void (*const end_element[T_COUNT])(struct decoder *d, struct frame *f) = {
    [T_VALUE] = end_value,	[T_INT] = end_scalar,	 [T_BOOLEAN] = end_scalar,
    [T_STRING] = end_scalar,	[T_DOUBLE] = end_scalar, [T_BASE64] = end_scalar,
    [T_DATETIME] = end_scalar,	[T_NIL] = end_scalar,	 [T_ARRAY] = end_container,
    [T_STRUCT] = end_container, [T_NAME] = end_name,	 [T_MEMBER] = end_member,
    [T_PARAM] = end_param,	[T_FAULT] = end_fault,	 [T_METHODNAME] = end_method_name,
};

static void on_end(void *ud, const XML_Char *name)
{
	struct decoder *d = ud;
	if (d->failed)
		return;
	struct frame f = d->frames[--d->nframes];
	(void)name; /* expat guarantees it matches the start tag */
	if (end_element[f.tag])
		end_element[f.tag](d, &f);
	buf_reset(&d->text);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
		       int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	stop(ud, "DOCTYPE is not allowed");
}

/* Expat salts its hash tables against collision floods, and by default draws a new salt from
 * getrandom for every parser: a system call per request. One secret salt per process serves
 * the same purpose (CPython's pyexpat does the same); 0 leaves expat to draw its own. */
static unsigned long hash_salt(void)
{
	static unsigned long salt;
	if (!salt && getrandom(&salt, sizeof(salt), GRND_NONBLOCK) != (ssize_t)sizeof(salt))
		salt = 0;
	return salt;
}

static bool decode(struct decoder *d, const char *xml, size_t len, const struct xr_limits *lim,
		   enum tag root, char *err, size_t errsize)
{
	memset(d, 0, sizeof(*d));
	d->lim = lim ? lim : &xr_default_limits;
	d->root = root;
	d->err = err;
	d->errsize = errsize;
	/* array and struct take three elements per level of <value> */
	d->max_frames = d->lim->max_depth * 3 + 8;
	buf_init(&d->text, d->lim->max_bytes);
	if (len > d->lim->max_bytes || len > (size_t)INT32_MAX) {
		snprintf(err, errsize, "XML-RPC document too large");
		return false;
	}
	d->frames = calloc(d->max_frames, sizeof(*d->frames));
	d->params = xr_array();
	d->xp = XML_ParserCreate(NULL);
	if (!d->frames || !d->params || !d->xp) {
		snprintf(err, errsize, "out of memory");
		return false;
	}
	unsigned long salt = hash_salt();
	if (salt)
		XML_SetHashSalt(d->xp, salt);
	XML_SetUserData(d->xp, d);
	XML_SetElementHandler(d->xp, on_start, on_end);
	XML_SetCharacterDataHandler(d->xp, on_text);
	XML_SetStartDoctypeDeclHandler(d->xp, on_doctype);
	if (XML_Parse(d->xp, xml, (int)len, XML_TRUE) != XML_STATUS_OK && !d->failed) {
		snprintf(err, errsize, "XML error at line %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(d->xp),
			 XML_ErrorString(XML_GetErrorCode(d->xp)));
		d->failed = true;
	}
	return !d->failed;
}

static void decoder_free(struct decoder *d)
{
	for (size_t i = 0; i < d->nframes; i++) {
		xr_free(d->frames[i].val);
		free(d->frames[i].name);
	}
	free(d->frames);
	buf_free(&d->text);
	if (d->xp)
		XML_ParserFree(d->xp);
	free(d->method);
	xr_free(d->params);
	xr_free(d->fault);
}

bool xr_parse_call(const char *xml, size_t len, const struct xr_limits *limits, struct xr_call *out,
		   char *err, size_t errsize)
{
	struct decoder d;
	memset(out, 0, sizeof(*out));
	bool ok = decode(&d, xml, len, limits, T_METHODCALL, err, errsize);
	if (ok && !d.method) {
		snprintf(err, errsize, "<methodCall> without <methodName>");
		ok = false;
	}
	if (ok) {
		out->method = d.method;
		out->params = d.params;
		d.method = NULL;
		d.params = NULL;
	}
	decoder_free(&d);
	return ok;
}

bool xr_parse_response(const char *xml, size_t len, const struct xr_limits *limits,
		       struct xr_response *out, char *err, size_t errsize)
{
	struct decoder d;
	memset(out, 0, sizeof(*out));
	bool ok = decode(&d, xml, len, limits, T_METHODRESPONSE, err, errsize);
	if (ok && d.fault) {
		const struct xr_value *code = xr_member(d.fault, "faultCode");
		const struct xr_value *str = xr_member(d.fault, "faultString");
		if (!code || code->type != XR_INT || !str || str->type != XR_STRING) {
			snprintf(err, errsize, "malformed <fault>");
			ok = false;
		} else {
			out->is_fault = true;
			out->fault_code = (int)code->u.i;
			out->fault_string = strdup(str->u.str.ptr);
			ok = out->fault_string != NULL;
		}
	} else if (ok && xr_len(d.params) != 1) {
		snprintf(err, errsize, "<methodResponse> must hold exactly one <param>");
		ok = false;
	} else if (ok) {
		out->value = d.params->u.array.items[0];
		d.params->u.array.len = 0;
	}
	decoder_free(&d);
	return ok;
}

void xr_call_free(struct xr_call *c)
{
	free(c->method);
	xr_free(c->params);
	memset(c, 0, sizeof(*c));
}

void xr_response_free(struct xr_response *r)
{
	free(r->fault_string);
	xr_free(r->value);
	memset(r, 0, sizeof(*r));
}
