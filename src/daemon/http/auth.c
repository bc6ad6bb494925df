#include "auth.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "sha1.h"

/* Compares all of both strings whatever they hold, so the time taken does not tell how much
 * of a guess was right. */
static bool equal_in_constant_time(const char *a, const char *b, bool ignore_case)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned diff = na != nb;
	for (size_t i = 0; i < nb; i++) {
		unsigned char x = (unsigned char)a[i < na ? i : 0], y = (unsigned char)b[i];
		if (ignore_case) {
			x = (unsigned char)tolower(x);
			y = (unsigned char)tolower(y);
		}
		diff |= (unsigned)(x ^ y);
	}
	return !diff;
}

static bool password_matches(const char *configured, const char *given)
{
	if (strncmp(configured, "{SHA}", 5) != 0)
		return equal_in_constant_time(configured, given, false);
	uint8_t md[20];
	char hex[41];
	sha1(given, strlen(given), md);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return equal_in_constant_time(configured + 5, hex, true);
}

bool auth_allows(const struct http_server_conf *conf, const char *authorization)
{
	if (!conf->username)
		return true;
	const char *h = authorization;
	struct buf raw;
	const char *user, *pass;
	buf_init(&raw, h ? strlen(h) + 1 : 1);
	bool ok = h && http_basic_auth_parse(h, &raw, &user, &pass) &&
		  strcmp(user, conf->username) == 0 &&
		  password_matches(conf->password ? conf->password : "", pass);
	buf_free(&raw);
	return ok;
}
