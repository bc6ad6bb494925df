#include "client_config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "expand.h"
#include "inifile.h"

/* What the file says, before expansion. */
struct raw_config {
	bool has_ctl_section;
	char *serverurl, *username, *password, *prompt, *timeout;
	char *unix_file; /* [unix_http_server] file, for the fallback */
};

static void replace(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? strdup(value) : NULL;
}

/* Python's os.path.normpath(abspath(expanduser(p))). */
static char *normalize_path(const char *p)
{
	struct buf in, res;
	buf_init(&in, 0);
	buf_init(&res, 0);
	const char *home = getenv("HOME");
	char cwd[PATH_MAX];
	if (p[0] == '~' && (p[1] == '/' || !p[1]) && home)
		buf_printf(&in, "%s%s", home, p + 1);
	else if (p[0] != '/' && getcwd(cwd, sizeof(cwd)))
		buf_printf(&in, "%s/%s", cwd, p);
	else
		buf_puts(&in, p);
	char *save = NULL;
	for (char *seg = strtok_r(in.data, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			char *slash = res.data ? strrchr(res.data, '/') : NULL;
			if (slash)
				res.len = (size_t)(slash - res.data), *slash = '\0';
			continue;
		}
		buf_printf(&res, "/%s", seg);
	}
	if (!res.len)
		buf_putc(&res, '/');
	buf_free(&in);
	return res.data;
}

/* supervisorctl's expansions: ENV_<VAR> for its environment and, for serverurl only, here.
 * NULL with err set, in supervisorctl's words, on an unknown name or a bad format. */
static char *expand_option(const char *value, const char *option, const char *here, char *err,
			   size_t errsize)
{
	extern char **environ;
	struct expand_ctx ctx = {.here = here, .env = environ, .option = option};
	char *out, *why;
	if (expand(value, &ctx, &out, &why) < 0) {
		snprintf(err, errsize, "%s", why);
		free(why);
		return NULL;
	}
	return out;
}

/* Reads the file with the daemon's INI reader; only the keys the client needs are kept. */
static bool read_config(const char *path, struct raw_config *cfg, char *err, size_t errsize)
{
	if (access(path, R_OK) < 0) {
		snprintf(err, errsize, "could not %s config file %s",
			 errno == ENOENT ? "find" : "read", path);
		return false;
	}
	struct ini_doc doc = {0};
	struct diag d = {0};
	bool ok = ini_load(&doc, path, &d) == 0;
	if (!ok) {
		snprintf(err, errsize, "%s", d.n ? d.items[0].text : path);
	} else {
		static const char *const ctl_keys[] = {"serverurl", "username", "password",
						       "prompt", "timeout"};
		char **ctl_slots[] = {&cfg->serverurl, &cfg->username, &cfg->password, &cfg->prompt,
				      &cfg->timeout};
		cfg->has_ctl_section = ini_find_section(&doc, "supervisorctl") != NULL;
		for (size_t k = 0; k < sizeof(ctl_keys) / sizeof(ctl_keys[0]); k++)
			replace(ctl_slots[k], ini_get(&doc, "supervisorctl", ctl_keys[k]));
		replace(&cfg->unix_file, ini_get(&doc, "unix_http_server", "file"));
	}
	ini_free(&doc);
	diag_free(&d);
	return ok;
}

bool client_config_load(const char *configfile, const char *argv0, struct client_config *out,
			char *err, size_t errsize)
{
	char *path = configfile ? strdup(configfile) : config_search(argv0);
	struct raw_config cfg = {0};
	bool ok = true;
	if (path) {
		char *abs = normalize_path(path);
		char *here = abs ? strdup(dirname(abs)) : NULL;
		ok = read_config(path, &cfg, err, errsize);
		if (ok && !cfg.has_ctl_section && !cfg.unix_file) {
			snprintf(err, errsize, ".ini file does not include supervisorctl section");
			ok = false;
		}
		if (ok && !cfg.has_ctl_section) {
			/* pidvisor extension: the config's own unix socket; a relative
			 * file is relative to the working directory, as in supervisord */
			char *url;
			if (asprintf(&url, "unix://%s", cfg.unix_file) >= 0) {
				replace(&cfg.serverurl, url);
				free(url);
			}
		}
		char **fields[] = {&cfg.serverurl, &cfg.prompt, &cfg.username, &cfg.password,
				   &cfg.timeout};
		static const char *const keys[] = {
		    "supervisorctl.serverurl", "supervisorctl.prompt", "supervisorctl.username",
		    "supervisorctl.password", "supervisorctl.timeout"};
		for (size_t i = 0; ok && i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (!*fields[i])
				continue;
			char *v =
			    expand_option(*fields[i], keys[i], i == 0 ? here : NULL, err, errsize);
			ok = v != NULL;
			free(*fields[i]);
			*fields[i] = v;
		}
		if (ok && cfg.serverurl && strncmp(cfg.serverurl, "unix://", 7) == 0) {
			char *norm = normalize_path(cfg.serverurl + 7), *url;
			if (norm && asprintf(&url, "unix://%s", norm) >= 0) {
				free(cfg.serverurl);
				cfg.serverurl = url;
			}
			free(norm);
		}
		free(abs);
		free(here);
		free(path);
	}
	out->serverurl = cfg.serverurl;
	out->username = cfg.username;
	out->password = cfg.password;
	out->prompt = cfg.prompt;
	out->timeout = cfg.timeout;
	free(cfg.unix_file);
	if (!ok)
		client_config_free(out);
	return ok;
}

void client_config_free(struct client_config *cfg)
{
	free(cfg->serverurl);
	free(cfg->username);
	free(cfg->password);
	free(cfg->prompt);
	free(cfg->timeout);
	memset(cfg, 0, sizeof(*cfg));
}
