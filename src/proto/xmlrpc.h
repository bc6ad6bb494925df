/* XML-RPC values, the expat-based decoder for methodCall/methodResponse, the
 * encoder that writes exactly what Python's xmlrpc.client.dumps writes (the
 * bytes supervisord sends), and supervisord's fault-code table. */
#ifndef PIDVISOR_XMLRPC_H
#define PIDVISOR_XMLRPC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum xr_type {
	XR_NIL, /* decoded only; supervisord never sends it */
	XR_INT,
	XR_BOOL,
	XR_DOUBLE,
	XR_STRING,
	XR_BASE64,
	XR_DATETIME, /* text "YYYYMMDDTHH:MM:SS" */
	XR_ARRAY,
	XR_STRUCT,
	XR_RAW, /* <value> elements already encoded, written as they are: never decoded */
};

struct xr_value;

struct xr_member {
	char *name;
	struct xr_value *value;
};

struct xr_value {
	enum xr_type type;
	bool incomplete; /* an add to this container failed: encoding it fails too */
	union {
		long long i;	   /* XR_INT (i4/int/i8 on input, int32 range on output) */
		bool b;		   /* XR_BOOL */
		double d;	   /* XR_DOUBLE */
		struct {	   /* XR_STRING, XR_BASE64 (decoded bytes), XR_DATETIME, XR_RAW */
			char *ptr; /* NUL-terminated; may contain NULs for base64 */
			size_t len;
		} str;
		struct {
			struct xr_value **items;
			size_t len, cap;
		} array;
		struct {
			struct xr_member *members;
			size_t len, cap;
		} st;
	} u;
};

/* Constructors return NULL when malloc fails; containers take ownership of
 * what is added and free it on failure, so calls can be chained: a container
 * that lost an item is marked incomplete and will not encode. */
struct xr_value *xr_nil(void);
struct xr_value *xr_int(long long v);
struct xr_value *xr_bool(bool v);
struct xr_value *xr_double(double v);
struct xr_value *xr_string(const char *s);
struct xr_value *xr_string_len(const char *s, size_t len);
struct xr_value *xr_base64(const void *data, size_t len);
struct xr_value *xr_datetime(const char *iso);
/* Takes data (malloc'd, encoded by xr_encode_value) and frees it, also on failure: a long answer
 * encoded piece by piece, so its values never pile up as trees. */
struct xr_value *xr_raw(char *data, size_t len);
struct xr_value *xr_array(void);
struct xr_value *xr_struct(void);
bool xr_array_add(struct xr_value *array, struct xr_value *item);
bool xr_struct_set(struct xr_value *st, const char *name, struct xr_value *value);
void xr_free(struct xr_value *v);
/* A deep copy, or NULL when memory runs out. */
struct xr_value *xr_copy(const struct xr_value *v);

/* Lookups that tolerate NULL and wrong types (they return NULL/def). */
const struct xr_value *xr_member(const struct xr_value *st, const char *name);
const struct xr_value *xr_item(const struct xr_value *array, size_t i);
size_t xr_len(const struct xr_value *array);
long long xr_member_int(const struct xr_value *st, const char *name, long long def);
const char *xr_member_str(const struct xr_value *st, const char *name, const char *def);
bool xr_member_bool(const struct xr_value *st, const char *name, bool def);

/* Encoding, byte for byte as xmlrpc.client.dumps (Python 3.11) for text XML can carry; what it
 * cannot (not UTF-8, control characters) is written as U+FFFD. Integers outside int32 fail
 * like Python's OverflowError. */
bool xr_encode_value(struct buf *out, const struct xr_value *v);
bool xr_encode_call(struct buf *out, const char *method, const struct xr_value *const *params,
		    size_t nparams);
bool xr_encode_response(struct buf *out, const struct xr_value *result);
bool xr_encode_fault(struct buf *out, int code, const char *string);
/* Python's repr() of a float, e.g. 1.0, 0.1, 1e+16, inf. */
void xr_format_double(char *buf, size_t size, double d);

struct xr_limits {
	size_t max_depth;  /* nesting of <value> */
	size_t max_values; /* total <value> elements */
	size_t max_bytes;  /* input size */
};
/* depth 32, 100000 values, 1 MiB. */
extern const struct xr_limits xr_default_limits;

struct xr_call {
	char *method;
	struct xr_value *params; /* XR_ARRAY, possibly empty */
};

struct xr_response {
	bool is_fault;
	int fault_code;
	char *fault_string;
	struct xr_value *value; /* NULL for a fault */
};

/* Parse a document; false with a reason in err on malformed input, unknown
 * tags, wrong shape or a limit. limits may be NULL. */
bool xr_parse_call(const char *xml, size_t len, const struct xr_limits *limits, struct xr_call *out,
		   char *err, size_t errsize);
bool xr_parse_response(const char *xml, size_t len, const struct xr_limits *limits,
		       struct xr_response *out, char *err, size_t errsize);
void xr_call_free(struct xr_call *c);
void xr_response_free(struct xr_response *r);

/* supervisord's fault codes (supervisor/xmlrpc.py Faults). */
enum xr_fault {
	XR_UNKNOWN_METHOD = 1,
	XR_INCORRECT_PARAMETERS = 2,
	XR_BAD_ARGUMENTS = 3,
	XR_SIGNATURE_UNSUPPORTED = 4,
	XR_SHUTDOWN_STATE = 6,
	XR_BAD_NAME = 10,
	XR_BAD_SIGNAL = 11,
	XR_NO_FILE = 20,
	XR_NOT_EXECUTABLE = 21,
	XR_FAILED = 30,
	XR_ABNORMAL_TERMINATION = 40,
	XR_SPAWN_ERROR = 50,
	XR_ALREADY_STARTED = 60,
	XR_NOT_RUNNING = 70,
	XR_SUCCESS = 80,
	XR_ALREADY_ADDED = 90,
	XR_STILL_RUNNING = 91,
	XR_CANT_REREAD = 92,
};
/* "BAD_NAME" for 10; "UNKNOWN" for codes not in the table (as supervisord). */
const char *xr_fault_name(int code);
/* -1 when the name is not in the table. */
int xr_fault_code(const char *name);
/* faultString the way supervisord builds it: "NAME" or "NAME: detail". */
bool xr_fault_string(struct buf *out, int code, const char *detail);

#endif
