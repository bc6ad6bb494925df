#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int net_literal(const char *host, const char *port, bool passive, struct sockaddr_storage *out,
		socklen_t *len, const char **err)
{
	char *end;
	long p = strtol(port, &end, 10);
	memset(out, 0, sizeof(*out));
	if (!*port || *end || p < 0 || p > 65535) {
		*err = "not a port number";
		return -1;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
	v4->sin_family = AF_INET;
	v4->sin_port = htons((unsigned short)p);
	*len = sizeof(*v4);
	if (!*host || !strcmp(host, "*")) {
		v4->sin_addr.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
		return 0;
	}
	if (!strcmp(host, "localhost") || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		if (!strcmp(host, "localhost"))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	char lit[64];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(lit)) {
		memcpy(lit, host + 1, n - 2);
		lit[n - 2] = '\0';
		host = lit;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((unsigned short)p);
		*len = sizeof(*v6);
		return 0;
	}
	return 1;
}

int net_resolve(const char *host, const char *port, bool passive, struct sockaddr_storage *out,
		socklen_t *len, const char **err)
{
	int rc = net_literal(host, port, passive, out, len, err);
	if (rc <= 0)
		return rc;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		*err = gai_strerror(rc);
		return -1;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

bool net_port_is_loopback(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	if (!colon)
		return false; /* a bare port listens on every address */
	size_t n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	return (n == 9 && !strncmp(spec, "localhost", 9)) || (n == 3 && !strncmp(spec, "::1", 3)) ||
	       (n >= 4 && !strncmp(spec, "127.", 4));
}
