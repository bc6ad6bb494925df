#include "client_config.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wbuf.h"

/* What the file says, before expansion. */
struct raw_config {
	bool has_ctl_section;
	char *serverurl, *username, *password, *prompt;
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
	struct wbuf in, res;
	wb_init(&in, 0);
	wb_init(&res, 0);
	const char *home = getenv("HOME");
	char cwd[PATH_MAX];
	if (p[0] == '~' && (p[1] == '/' || !p[1]) && home)
		wb_printf(&in, "%s%s", home, p + 1);
	else if (p[0] != '/' && getcwd(cwd, sizeof(cwd)))
		wb_printf(&in, "%s/%s", cwd, p);
	else
		wb_puts(&in, p);
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
		wb_printf(&res, "/%s", seg);
	}
	if (!res.len)
		wb_putc(&res, '/');
	wb_free(&in);
	return res.data;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Python's `value % expansions` for %(name)s and %%; names are ENV_<VAR> and,
 * where supervisorctl offers it, here. NULL with err set on an unknown name. */
static char *expand(const char *value, const char *key, const char *here, char *err, size_t errsize)
{
	struct wbuf sb;
	wb_init(&sb, 0);
	for (const char *p = value; *p; p++) {
		if (*p != '%') {
			wb_putc(&sb, *p);
			continue;
		}
		if (p[1] == '%') {
			wb_putc(&sb, '%');
			p++;
			continue;
		}
		const char *close = p[1] == '(' ? strchr(p, ')') : NULL;
		if (!close || close[1] != 's') {
			snprintf(err, errsize, "Format string '%s' for '%s' is badly formatted",
				 value, key);
			wb_free(&sb);
			return NULL;
		}
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(close - p - 2), p + 2);
		const char *v = NULL;
		if (strcmp(name, "here") == 0)
			v = here;
		else if (strncmp(name, "ENV_", 4) == 0)
			v = getenv(name + 4);
		if (!v) {
			extern char **environ;
			struct wbuf names;
			wb_init(&names, 0);
			size_t n = 0;
			for (char **e = environ; *e; e++)
				n++;
			char **list = calloc(n + 1, sizeof(char *));
			size_t k = 0;
			for (char **e = environ; list && *e; e++)
				if (asprintf(&list[k], "ENV_%.*s", (int)strcspn(*e, "="), *e) >= 0)
					k++;
			if (here && list && asprintf(&list[k], "here") >= 0)
				k++;
			if (list)
				qsort(list, k, sizeof(char *), cmp_cstr);
			for (size_t j = 0; j < k; j++) {
				wb_printf(&names, "%s%s", j ? ", " : "", list[j]);
				free(list[j]);
			}
			free(list);
			snprintf(
			    err, errsize,
			    "Format string '%s' for '%s' contains names ('%s') which cannot be "
			    "expanded. Available names: %s",
			    value, key, name, names.data ? names.data : "");
			wb_free(&names);
			wb_free(&sb);
			return NULL;
		}
		wb_puts(&sb, v);
		p = close + 1;
	}
	if (!sb.data)
		wb_puts(&sb, "");
	return sb.data;
}

/* The minimal RawConfigParser reader this client needs: sections, `k = v` or
 * `k: v`, lowercased keys, full-line and whitespace-led inline comments,
 * indented continuation lines. To be replaced by the daemon's src/ini.h. */
static bool read_config(const char *path, struct raw_config *cfg, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errsize, "could not %s config file %s",
			 errno == ENOENT ? "find" : "read", path);
		return false;
	}
	char *line = NULL, section[256] = "", key[256] = "";
	char **slot = NULL;
	size_t cap = 0;
	int lineno = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *s = line;
		bool indented = isspace((unsigned char)*s);
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == ';' || *s == '#')
			continue;
		for (char *c = s + 1; *c; c++)
			if ((*c == ';' || *c == '#') && isspace((unsigned char)c[-1])) {
				*c = '\0';
				break;
			}
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		if (indented && slot && *slot) {
			char *joined;
			if (asprintf(&joined, "%s\n%s", *slot, s) >= 0) {
				free(*slot);
				*slot = joined;
			}
			continue;
		}
		if (*s == '[' && s[n - 1] == ']') {
			snprintf(section, sizeof(section), "%.*s", (int)n - 2, s + 1);
			if (strcmp(section, "supervisorctl") == 0)
				cfg->has_ctl_section = true;
			slot = NULL;
			continue;
		}
		size_t klen = strcspn(s, "=:");
		if (!*section || !s[klen]) {
			snprintf(err, errsize, "%s:%d: %s", path, lineno,
				 *section ? "expected 'key = value'"
					  : "no section header before it");
			ok = false;
			break;
		}
		char *value = s + klen + 1;
		while (klen && isspace((unsigned char)s[klen - 1]))
			klen--;
		snprintf(key, sizeof(key), "%.*s", (int)klen, s);
		for (char *c = key; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		while (isspace((unsigned char)*value))
			value++;
		static const char *const ctl_keys[] = {"serverurl", "username", "password",
						       "prompt"};
		char **ctl_slots[] = {&cfg->serverurl, &cfg->username, &cfg->password,
				      &cfg->prompt};
		slot = NULL;
		if (strcmp(section, "supervisorctl") == 0) {
			for (size_t k = 0; k < 4; k++)
				if (strcmp(key, ctl_keys[k]) == 0)
					slot = ctl_slots[k];
		} else if (strcmp(section, "unix_http_server") == 0 && strcmp(key, "file") == 0) {
			slot = &cfg->unix_file;
		}
		if (slot)
			replace(slot, value);
	}
	free(line);
	fclose(f);
	return ok;
}

bool client_config_load(const char *configfile, const char *argv0, struct client_config *out,
			char *err, size_t errsize)
{
	char *path = configfile ? strdup(configfile) : NULL;
	if (!path) {
		char exe[PATH_MAX];
		ssize_t n = (strcmp(argv0, "ctl") == 0 || strcmp(argv0, "check") == 0)
				? readlink("/proc/self/exe", exe, sizeof(exe) - 1)
				: -1;
		if (n > 0)
			exe[n] = '\0';
		else
			snprintf(exe, sizeof(exe), "%s", argv0);
		char *d1 = strdup(exe);
		char *d2 = d1 ? strdup(dirname(d1)) : NULL;
		const char *h = d2 ? dirname(d2) : ".";
		char p1[PATH_MAX + 32], p2[PATH_MAX + 32];
		snprintf(p1, sizeof(p1), "%s/etc/supervisord.conf", h);
		snprintf(p2, sizeof(p2), "%s/supervisord.conf", h);
		const char *search[] = {p1,
					p2,
					"supervisord.conf",
					"etc/supervisord.conf",
					"/etc/supervisord.conf",
					"/etc/supervisor/supervisord.conf"};
		for (size_t i = 0; i < sizeof(search) / sizeof(search[0]) && !path; i++)
			if (access(search[i], F_OK) == 0)
				path = strdup(search[i]);
		free(d1);
		free(d2);
	}
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
		char **fields[] = {&cfg.serverurl, &cfg.prompt, &cfg.username, &cfg.password};
		static const char *const keys[] = {"supervisorctl.serverurl",
						   "supervisorctl.prompt", "supervisorctl.username",
						   "supervisorctl.password"};
		for (size_t i = 0; ok && i < 4; i++) {
			if (!*fields[i])
				continue;
			char *v = expand(*fields[i], keys[i], i == 0 ? here : NULL, err, errsize);
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
	memset(cfg, 0, sizeof(*cfg));
}
