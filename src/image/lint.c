/* The lint rules of docs/stack-file.md, on stack files and on hand-written Dockerfiles. Shell
 * commands are looked at word by word, not parsed: good enough for the mistakes it hunts. */
#include "lint.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "copy.h"
#include "deploy.h"
#include "util.h"
#include "values.h"

/* Package installs: the manager word, the verb that installs, and what cleans its cache in the
 * same RUN (NULL: the verb needs `flag` instead). */
static const struct installer {
	const char *tool;
	const char *verb;
	const char *cleanup; /* a substring of the RUN that removes the cache */
	const char *flag;    /* or an option that keeps no cache */
} installers[] = {
    {"apt-get", "install", "/var/lib/apt/lists", NULL},
    {"apt", "install", "/var/lib/apt/lists", NULL},
    {"apk", "add", "/var/cache/apk", "--no-cache"},
    {"yum", "install", "yum clean all", NULL},
    {"dnf", "install", "dnf clean all", NULL},
    {"microdnf", "install", "microdnf clean all", NULL},
};

/* Commands every distribution's base image has, so a program may run them with no package. */
static const char *const base_commands[] = {"sh",  "bash", "dash", "sleep", "cat", "tail",
					    "env", "true", "echo", "tee",   "nice"};

/* Commands whose package has another name: command (version suffix removed) → package prefix. */
static const char *const providers[][2] = {
    {"sshd", "openssh-server"}, {"php-fpm", "php"},
    {"java", "openjdk-"},	{"java", "default-jre"},
    {"catalina.sh", "tomcat"},	{"redis-server", "redis"},
    {"cron", "cron"},		{"rsyslogd", "rsyslog"},
    {"postgres", "postgresql"}, {"mysqld", "mariadb-server"},
    {"mysqld", "mysql-server"}, {"httpd", "apache2"},
    {"apache2", "apache2"},	{"dockerd", "docker"},
    {"node", "nodejs"},
};

static const char *const secret_words[] = {"password", "passwd", "secret"};

static bool is_separator(const char *w)
{
	return !strcmp(w, "&&") || !strcmp(w, "||") || !strcmp(w, ";") || !strcmp(w, "|");
}

static void split_words(const char *cmd, struct strvec *words)
{
	const char *p = cmd;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - s);
		bool semi = n > 1 && s[n - 1] == ';'; /* "update;" is "update" then ";" */
		sv_push(words, xstrndup(s, semi ? n - 1 : n));
		if (semi)
			sv_push(words, xstrdup(";"));
	}
}

/* The installer a shell command runs to install packages, or NULL. */
static const struct installer *installs(const char *cmd)
{
	struct strvec w = {0};
	split_words(cmd, &w);
	const struct installer *found = NULL;
	for (size_t i = 0; i < w.n && !found; i++)
		for (size_t k = 0; k < ARRAY_SIZE(installers) && !found; k++) {
			if (strcmp(w.v[i], installers[k].tool) != 0)
				continue;
			for (size_t j = i + 1; j < w.n && !is_separator(w.v[j]); j++)
				if (strcmp(w.v[j], installers[k].verb) == 0)
					found = &installers[k];
		}
	sv_free(&w);
	return found;
}

/* What in a shell command sets a password, or NULL. */
static const char *sets_password(const char *cmd)
{
	struct strvec w = {0};
	split_words(cmd, &w);
	const char *what = NULL;
	for (size_t i = 0; i < w.n && !what; i++) {
		const char *x = w.v[i];
		const char *eq = strchr(x, '=');
		if (!strcmp(x, "chpasswd") || !strcmp(x, "chpasswd;"))
			what = "chpasswd";
		else if (!strcmp(x, "passwd") && ((i > 0 && !strcmp(w.v[i - 1], "|")) ||
						  (i + 1 < w.n && !strcmp(w.v[i + 1], "--stdin"))))
			what = "passwd reading stdin";
		else if (eq && eq[1] && (strcasestr(x, "password") || strcasestr(x, "passwd")) &&
			 (size_t)(strcasestr(x, "pass") - x) < (size_t)(eq - x))
			what = "a PASSWORD= value";
	}
	sv_free(&w);
	return what;
}

/* An environment variable naming a password or secret (a *_FILE pointing at one is fine). */
static bool secret_name(const char *key)
{
	size_t n = strlen(key);
	if (n > 5 && strcasecmp(key + n - 5, "_FILE") == 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(secret_words); i++)
		if (strcasestr(key, secret_words[i]))
			return true;
	return false;
}

static void lint_run(const struct stack *st, const struct image *im, struct diag *d)
{
	for (size_t k = 0; k < im->run.n; k++) {
		const struct sval *c = &im->run.v[k];
		const struct installer *in = installs(c->s);
		if (in)
			stack_error(d, st, c->line, im->name.s, "run",
				    "'%s %s' in run: list the packages in `packages:`, which "
				    "cleans the caches in the same layer",
				    in->tool, in->verb);
		const char *pw = sets_password(c->s);
		if (pw)
			stack_error(d, st, c->line, im->name.s, "run",
				    "%s sets a password in run: it stays in the image's history; "
				    "set it when the container starts",
				    pw);
	}
	for (size_t k = 0; k < im->env.n; k++)
		if (secret_name(im->env.v[k].k.s))
			stack_error(d, st, im->env.v[k].k.line, im->name.s, "env",
				    "%s names a password or secret: ENV stays in the image; pass "
				    "it at run time (or a *_FILE path)",
				    im->env.v[k].k.s);
}

/* "php-fpm8.2" → "php-fpm", "python3.11" → "python": version digits and dots at the end. */
static char *unversioned(const char *name)
{
	char *s = xstrdup(name);
	size_t n = strlen(s);
	while (n > 1 && (isdigit((unsigned char)s[n - 1]) || s[n - 1] == '.'))
		s[--n] = '\0';
	return s;
}

static bool package_provides(const char *pkg, const char *cmd)
{
	char *p = unversioned(pkg), *c = unversioned(cmd);
	bool yes = strcmp(p, c) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(providers) && !yes; i++)
		yes = strcmp(providers[i][0], c) == 0 &&
		      strncmp(pkg, providers[i][1], strlen(providers[i][1])) == 0;
	free(p);
	free(c);
	return yes;
}

static bool path_under(const char *path, const char *dest)
{
	size_t n = strlen(dest);
	if (strcmp(path, dest) == 0)
		return true;
	return strncmp(path, dest, n) == 0 && (dest[n - 1] == '/' || path[n] == '/');
}

/* Whether the chain ending at image i installs cmd (an absolute path or a name in PATH). */
static bool chain_provides(const struct stack *st, int i, const char *cmd)
{
	const char *slash = strrchr(cmd, '/');
	const char *name = slash ? slash + 1 : cmd;
	for (size_t k = 0; k < ARRAY_SIZE(base_commands); k++)
		if (strcmp(base_commands[k], name) == 0)
			return true;
	for (int j = i; j >= 0; j = st->images[j].parent) {
		const struct image *im = &st->images[j];
		for (size_t k = 0; k < im->packages.n; k++)
			if (package_provides(im->packages.v[k].s, name))
				return true;
		for (size_t k = 0; k < im->files.n && slash; k++)
			if (path_under(cmd, im->files.v[k].v.s))
				return true;
		for (size_t k = 0; k < im->run.n; k++) /* made by a run command */
			if (strstr(im->run.v[k].s, slash ? cmd : name))
				return true;
	}
	return false;
}

static void lint_commands(const struct stack *st, int i, struct diag *d)
{
	const struct image *im = &st->images[i];
	for (size_t p = 0; p < im->nprograms; p++)
		for (size_t k = 0; k < im->programs[p].keys.n; k++) {
			const struct spair *kv = &im->programs[p].keys.v[k];
			if (strcmp(kv->k.s, "command") != 0 || strpbrk(kv->v.s, "%$"))
				continue;
			struct strvec argv = {0};
			char *why = NULL;
			if (split_command(kv->v.s, &argv, &why) == 0 && argv.n &&
			    !chain_provides(st, i, argv.v[0])) {
				char *where =
				    xasprintf("programs.%s.command", im->programs[p].name.s);
				stack_error(d, st, kv->v.line, im->name.s, where,
					    "'%s' is not installed by this image or the images "
					    "beneath it: no package or files entry provides it",
					    argv.v[0]);
				free(where);
			}
			free(why);
			sv_free(&argv);
		}
}

/* Which images run hardened or are beneath one that does (chains in a cycle left out): each
 * image marked once, so a long chain costs its length. Malloc'd. */
static bool *under_hardened(const struct stack *st)
{
	bool *under = xcalloc(st->n ? st->n : 1, sizeof(*under));
	for (size_t i = 0; i < st->n; i++) {
		if (st->images[i].root < 0 || !image_hardened(st, i))
			continue;
		for (int k = (int)i; k >= 0 && !under[k]; k = st->images[k].parent)
			under[k] = true;
	}
	return under;
}

static bool has_capability(const struct image *im, const char *cap)
{
	for (size_t k = 0; k < im->deploy.capabilities.n; k++)
		if (strcmp(im->deploy.capabilities.v[k].s, cap) == 0)
			return true;
	return false;
}

static void lint_privileged_ports(const struct stack *st, const struct image *im,
				  const struct slist *ports, const char *key, struct diag *d)
{
	for (size_t k = 0; k < ports->n; k++) {
		const char *colon = strchr(ports->v[k].s, ':');
		long port = atol(colon ? colon + 1 : ports->v[k].s);
		if (port < 1024 && !has_capability(im, "NET_BIND_SERVICE"))
			stack_error(
			    d, st, ports->v[k].line, im->name.s, key,
			    "hardened: port %ld is below 1024, which a non-root user binds "
			    "only with deploy.capabilities: [NET_BIND_SERVICE] (and a binary "
			    "that keeps it) or a port of 1024 and more",
			    port);
	}
}

/* What stops image j from running as a non-root user on a read-only root with no
 * capabilities, when it or an image built on it is hardened. */
static void lint_hardened(const struct stack *st, const struct image *im, struct diag *d)
{
	if (im->user.s &&
	    (strcmp(im->user.s, "root") == 0 || strcmp(im->user.s, "0") == 0 ||
	     strncmp(im->user.s, "0:", 2) == 0 || strncmp(im->user.s, "root:", 5) == 0))
		stack_error(d, st, im->user.line, im->name.s, "user",
			    "hardened: '%s' is root; hardened images run as a non-root user",
			    im->user.s);
	else if (im->user.s && !isdigit((unsigned char)im->user.s[0]))
		stack_error(d, st, im->user.line, im->name.s, "user",
			    "hardened: '%s' is a name; Kubernetes' runAsNonRoot needs a numeric "
			    "UID[:GID] to tell it is not root",
			    im->user.s);
	for (size_t p = 0; p < im->nprograms; p++) {
		const struct program *pr = &im->programs[p];
		for (size_t k = 0; k < pr->keys.n; k++) {
			const struct spair *kv = &pr->keys.v[k];
			char *where = xasprintf("programs.%s.%s", pr->name.s, kv->k.s);
			if (strcmp(kv->k.s, "user") == 0)
				stack_error(d, st, kv->v.line, im->name.s, where,
					    "hardened: switching to '%s' needs root (CAP_SETUID); "
					    "set the image's `user` instead",
					    kv->v.s);
			else if (strcmp(kv->k.s, "command") == 0 && strstr(kv->v.s, "sshd"))
				stack_error(
				    d, st, kv->v.line, im->name.s, where,
				    "hardened: sshd needs root (privilege separation, logins "
				    "as other users) and port 22; use `kubectl exec` or "
				    "`docker exec`, or do not harden this image");
			free(where);
		}
	}
	lint_privileged_ports(st, im, &im->expose, "expose", d);
	lint_privileged_ports(st, im, &im->deploy.ports, "deploy.ports", d);
	for (size_t k = 0; k < im->deploy.volumes.n; k++)
		if (strchr("/.~", im->deploy.volumes.v[k].s[0]))
			stack_error(d, st, im->deploy.volumes.v[k].line, im->name.s,
				    "deploy.volumes",
				    "hardened: '%s' mounts a host path, which Pod Security "
				    "\"restricted\" refuses (hostPath): use a named volume",
				    im->deploy.volumes.v[k].s);
}

/* `ssh-keygen -A` in a build: every container of the image has the same host keys. */
static void lint_host_keys(const struct stack *st, const struct image *im, struct diag *d)
{
	for (size_t k = 0; k < im->run.n; k++) {
		const char *c = im->run.v[k].s, *at = strstr(c, "ssh-keygen");
		if (at && strstr(at, " -A"))
			stack_error(d, st, im->run.v[k].line, im->name.s, "run",
				    "'ssh-keygen -A' at build time bakes one set of host keys into "
				    "the image, shared by every container: make them when the "
				    "container starts");
	}
}

void lint_stack(const struct stack *st, struct diag *d)
{
	bool *hardened = under_hardened(st);
	for (size_t i = 0; i < st->n; i++) {
		const struct image *im = &st->images[i];
		lint_run(st, im, d);
		lint_host_keys(st, im, d);
		if (hardened[i])
			lint_hardened(st, im, d);
		if (im->parent < 0 && im->health.none)
			stack_error(d, st, im->key_line[IK_HEALTHCHECK], im->name.s, "healthcheck",
				    "none on a root: docker cannot tell when the containers of "
				    "this stack are healthy");
		if (im->root >= 0)
			lint_commands(st, (int)i, d);
	}
	free(hardened);
}

struct instr {
	char *keyword; /* upper case */
	char *args;
	int line;
};

/* Instructions of a Dockerfile with continuation lines joined; comments dropped. */
static int read_instructions(const char *path, struct instr **out, size_t *n, struct diag *d)
{
	size_t size;
	const char *why;
	char *text = read_regular_file(path, LINT_MAX_DOCKERFILE, &size, &why);
	if (!text) {
		diag_add(d, DIAG_ERROR, path, 0, NULL, NULL, "cannot read: %s", why);
		return -1;
	}
	int lineno = 0;
	struct buf cur = {0};
	int start = 0;
	*out = NULL;
	*n = 0;
	for (char *line = text, *next; line; line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		char *s = str_strip(line);
		if (*s == '#' || (!*s && !cur.len))
			continue;
		if (!cur.len)
			start = lineno;
		size_t len = strlen(s);
		bool more = len && s[len - 1] == '\\';
		buf_append(&cur, s, more ? len - 1 : len);
		buf_putc(&cur, ' ');
		if (more)
			continue;
		char *joined = buf_xsteal(&cur);
		char *args = joined;
		while (*args && !isspace((unsigned char)*args))
			args++;
		char *kw = xstrndup(joined, (size_t)(args - joined));
		for (char *p = kw; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		*out = array_grow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = (struct instr){kw, xstrdup(str_strip(args)), start};
		free(joined);
		memset(&cur, 0, sizeof(cur));
	}
	buf_free(&cur);
	free(text);
	return 0;
}

static void lint_from(const char *path, const struct instr *in, struct strvec *stages,
		      struct diag *d)
{
	struct strvec w = {0};
	split_words(in->args, &w);
	size_t i = 0;
	while (i < w.n && !strncmp(w.v[i], "--", 2))
		i++;
	if (i < w.n) {
		const char *ref = w.v[i];
		bool stage = false;
		for (size_t k = 0; k < stages->n; k++)
			stage |= strcasecmp(stages->v[k], ref) == 0;
		const char *tag = image_tag(ref);
		if (!stage && !strchr(ref, '$') && strcmp(ref, "scratch") != 0 &&
		    !strstr(ref, "@sha256:") && (!*tag || !strcmp(tag, "latest")))
			diag_add(d, DIAG_ERROR, path, in->line, NULL, "FROM",
				 "'%s' is not pinned: name a tag other than latest or a @sha256: "
				 "digest",
				 ref);
		if (i + 2 < w.n && !strcasecmp(w.v[i + 1], "AS"))
			sv_push(stages, xstrdup(w.v[i + 2]));
	}
	sv_free(&w);
}

static void lint_dockerfile_run(const char *path, const struct instr *in, struct diag *d)
{
	const struct installer *ins = installs(in->args);
	if (ins && !strstr(in->args, ins->cleanup) && !(ins->flag && strstr(in->args, ins->flag)))
		diag_add(d, DIAG_ERROR, path, in->line, NULL, "RUN",
			 "'%s %s' leaves its cache in the layer: add %s%s%s in the same RUN",
			 ins->tool, ins->verb, ins->flag ? ins->flag : "",
			 ins->flag ? " or remove " : "", ins->cleanup);
	const char *pw = sets_password(in->args);
	if (pw)
		diag_add(d, DIAG_ERROR, path, in->line, NULL, "RUN",
			 "%s sets a password: it stays in the image's history", pw);
}

static void lint_env(const char *path, const struct instr *in, struct diag *d)
{
	struct strvec w = {0};
	split_words(in->args, &w);
	for (size_t i = 0; i < w.n; i++) {
		char *eq = strchr(w.v[i], '=');
		if (eq)
			*eq = '\0';
		if (secret_name(w.v[i]) && (eq || i == 0))
			diag_add(d, DIAG_ERROR, path, in->line, NULL, in->keyword,
				 "%s names a password or secret: it stays in the image", w.v[i]);
		if (!eq)
			break; /* ENV KEY value: the rest is the value */
	}
	sv_free(&w);
}

int lint_dockerfile(const char *path, struct diag *d)
{
	struct instr *in;
	size_t n;
	if (read_instructions(path, &in, &n, d) != 0)
		return -1;
	struct strvec stages = {0};
	bool health = false;
	int last_from = 1;
	for (size_t i = 0; i < n; i++) {
		const char *kw = in[i].keyword;
		if (!strcmp(kw, "FROM")) {
			lint_from(path, &in[i], &stages, d);
			last_from = in[i].line;
			health = false; /* each stage's own; the last one is the image */
		} else if (!strcmp(kw, "RUN")) {
			if (i > 0 && !strcmp(in[i - 1].keyword, "RUN"))
				diag_add(d, DIAG_ERROR, path, in[i].line, NULL, "RUN",
					 "follows another RUN (line %d): join them with && into "
					 "one layer",
					 in[i - 1].line);
			lint_dockerfile_run(path, &in[i], d);
		} else if (!strcmp(kw, "CMD") || !strcmp(kw, "ENTRYPOINT")) {
			if (in[i].args[0] != '[')
				diag_add(d, DIAG_ERROR, path, in[i].line, NULL, kw,
					 "shell form: the program runs under /bin/sh -c and does "
					 "not get docker stop's signal; use the exec form "
					 "[\"prog\", \"arg\"]");
		} else if (!strcmp(kw, "ENV") || !strcmp(kw, "ARG")) {
			lint_env(path, &in[i], d);
		} else if (!strcmp(kw, "HEALTHCHECK")) {
			health = strncasecmp(in[i].args, "NONE", 4) != 0;
		}
	}
	if (n && !health)
		diag_add(d, DIAG_ERROR, path, last_from, NULL, "HEALTHCHECK",
			 "none: docker cannot tell when the container is healthy; add "
			 "HEALTHCHECK CMD [\"pidvisor\", \"check\"]");
	for (size_t i = 0; i < n; i++) {
		free(in[i].keyword);
		free(in[i].args);
	}
	free(in);
	sv_free(&stages);
	return 0;
}
