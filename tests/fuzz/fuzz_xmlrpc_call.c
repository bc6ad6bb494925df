/* libFuzzer target: the XML-RPC methodCall decoder the server runs on every
 * request body. Whatever it accepts must encode again (int32 overflow aside),
 * and after one trip (XML normalizes CR in text, as with Python) encoding
 * and decoding must be a fixed point. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xmlrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct xr_limits roomy = {
    .max_depth = 64, .max_values = 1u << 20, .max_bytes = 1u << 26};

static bool encode(const struct xr_call *call, struct buf *out)
{
	const struct xr_value *params[64];
	size_t n = xr_len(call->params);
	if (n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		params[i] = xr_item(call->params, i);
	return xr_encode_call(out, call->method, params, n);
}

/* Decodes what we encoded and encodes it again; it must always work. */
static void trip(const struct buf *in, struct buf *out)
{
	struct xr_call call;
	char err[256];
	if (!xr_parse_call(in->data, in->len, &roomy, &call, err, sizeof(err)) ||
	    !encode(&call, out))
		__builtin_trap();
	xr_call_free(&call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_limits lim = {.max_depth = 16, .max_values = 2000, .max_bytes = 64 * 1024};
	struct xr_call call;
	char err[256] = "";
	if (!xr_parse_call((const char *)data, size, &lim, &call, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	struct buf first, second, third;
	buf_init(&first, 0);
	buf_init(&second, 0);
	buf_init(&third, 0);
	if (encode(&call, &first)) {
		trip(&first, &second);
		trip(&second, &third);
		if (second.len != third.len || memcmp(second.data, third.data, second.len))
			__builtin_trap();
	}
	buf_free(&first);
	buf_free(&second);
	buf_free(&third);
	xr_call_free(&call);
	return 0;
}
