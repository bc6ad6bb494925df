/* Address parsing for the control socket and client without NSS for the usual cases, so the
 * static build works in images with no glibc NSS modules. */
#ifndef PIDVISOR_NET_H
#define PIDVISOR_NET_H

#include <stdbool.h>
#include <sys/socket.h>

/* net_resolve without the name lookup: 0 for a literal (with the address), 1 for a name
 * (nothing looked up, *out undefined), -1 with *err for a bad port. */
int net_literal(const char *host, const char *port, bool passive, struct sockaddr_storage *out,
		socklen_t *len, const char **err);

/* host: "", "*" (any), "localhost", an IPv4 or IPv6 literal, or a name (getaddrinfo, so NSS).
 * Returns 0, or -1 with *err pointing at a static message. */
int net_resolve(const char *host, const char *port, bool passive, struct sockaddr_storage *out,
		socklen_t *len, const char **err);

/* Whether an [inet_http_server] port ("host:port", "*:port", "port") listens on loopback
 * only. */
bool net_port_is_loopback(const char *spec);

#endif
