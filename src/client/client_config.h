/* Where the control clients (`ctl`, `check`) find the server: supervisorctl's
 * config search and its [supervisorctl] section. Nothing else of the file is
 * interpreted. */
#ifndef PIDVISOR_CLIENT_CONFIG_H
#define PIDVISOR_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct client_config {
	char *serverurl; /* NULL: not configured; unix:// paths normalized */
	char *username, *password, *prompt;
	char *timeout; /* pidvisor ctl's (an extension), as written; check ignores it */
};

/* configfile NULL: search like supervisorctl (H = dirname(dirname(argv0)),
 * where argv0 "ctl" or "check" stands for /proc/self/exe): H/etc/supervisord.conf,
 * H/supervisord.conf, ./supervisord.conf, ./etc/supervisord.conf,
 * /etc/supervisord.conf, /etc/supervisor/supervisord.conf; none found is not
 * an error. A file without [supervisorctl] is an error unless it has
 * [unix_http_server] file= (pidvisor extension: that socket is used).
 * %(here)s (serverurl only) and %(ENV_X)s are expanded. On false, err holds
 * supervisorctl's message (without "Error: "). */
bool client_config_load(const char *configfile, const char *argv0, struct client_config *out,
			char *err, size_t errsize);
void client_config_free(struct client_config *cfg);

#endif
