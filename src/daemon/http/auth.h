/* HTTP Basic auth for the control server, as supervisord checks it. */
#ifndef PIDVISOR_AUTH_H
#define PIDVISOR_AUTH_H

#include <stdbool.h>

#include "config.h"

/* Whether a request with this Authorization header (NULL: none) may use a server configured as
 * conf: any request when it has no username, else the username and the password (plain, or
 * {SHA} followed by the hex SHA-1 of it). */
bool auth_allows(const struct http_server_conf *conf, const char *authorization);

#endif
