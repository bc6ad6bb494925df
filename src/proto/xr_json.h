/* XML-RPC values as JSON: `ctl status --json` and the web API's /api/processes give the same
 * process structs in the same shape. */
#ifndef PIDVISOR_XR_JSON_H
#define PIDVISOR_XR_JSON_H

#include "buf.h"
#include "xmlrpc.h"

/* Structs become objects, arrays arrays, ints and doubles numbers, bools true/false, strings
 * (base64 and datetime too) strings, nil null. */
void xr_to_json(struct buf *b, const struct xr_value *v);

/* A process-info struct as a JSON object that starts with "namespec" ("group:name", or
 * "name" when the group has the process's name), then every member. */
void xr_process_json(struct buf *b, const struct xr_value *info);

#endif
