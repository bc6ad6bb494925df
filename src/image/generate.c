/* Stack model → build contexts. Layout of a Dockerfile: what RUN needs first (ENV, WORKDIR),
 * then packages, files, run, pidvisor (roots), the layer's programs, metadata, and last the
 * --check-config step, so a broken config or a missing command fails the build. */
#include "generate.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "deploy.h"
#include "json.h"
#include "plan.h"
#include "util.h"

/* The commands per package manager: one RUN, caches removed in the same layer. */
static const struct pm_commands {
	const char *install; /* followed by the packages */
	const char *cleanup; /* NULL: the install leaves no cache */
} pm_commands[] = {
    [PM_APT] = {"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
		"--no-install-recommends",
		/* a base made with debootstrap or mmdebstrap, unlike Docker's official image, keeps
		 * the .debs and apt's binary caches: clean removes both */
		"apt-get clean && rm -rf /var/lib/apt/lists/*"},
    [PM_APK] = {"apk add --no-cache", NULL},
    [PM_DNF] = {"dnf install -y --setopt=install_weak_deps=False",
		"dnf clean all && rm -rf /var/cache/dnf"},
    [PM_YUM] = {"yum install -y", "yum clean all && rm -rf /var/cache/yum"},
};

#define PIDVISOR_PATH "/usr/bin/pidvisor"
#define CONF_DIR      "/etc/supervisor/conf.d"
#define MAIN_CONF     "/etc/supervisor/supervisord.conf"
/* Writable by whichever user the container starts as (an image's `user`), like /tmp: the socket
 * itself is 0700. */
#define RUN_DIR "/run/pidvisor"
#define SOCKET	RUN_DIR "/supervisor.sock"
/* A hardened image's: `docker run --read-only --tmpfs /run` mounts an empty root-owned /run,
 * which hides RUN_DIR from a non-root user; /tmp (a tmpfs or emptyDir too) stays 1777. */
#define HARDENED_SOCKET	 "/tmp/pidvisor.sock"
#define HARDENED_PIDFILE "/tmp/pidvisor.pid"

/* Added to every program that does not set them, so its output reaches `docker logs`. */
static const char *const log_defaults[][2] = {
    {"stdout_logfile", "/dev/stdout"},
    {"stdout_logfile_maxbytes", "0"},
    {"stderr_logfile", "/dev/stderr"},
    {"stderr_logfile_maxbytes", "0"},
};

static const char *const main_conf_defaults[][2] = {
    {"nodaemon", "true"},
    {"logfile", "/dev/stdout"},
    {"logfile_maxbytes", "0"},
    {"pidfile", RUN_DIR "/pidvisor.pid"},
};

static bool is_root(const struct stack *st, size_t i)
{
	return st->images[i].parent < 0;
}

/* Dockerfile double-quoted string (ENV, LABEL): backslash and quote escaped; $ left to the
 * builder. It has no escape for a line break: the stack loader refuses values with one. */
static void put_quoted(struct buf *sb, const char *s)
{
	buf_putc(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(sb, '\\');
		buf_putc(sb, *s);
	}
	buf_putc(sb, '"');
}

/* A string of an instruction's JSON (exec) form: invalid JSON would make it shell form. */
static void put_json(struct buf *sb, const char *s)
{
	json_string(sb, s, strlen(s));
}

static void put_pairs(struct buf *sb, const char *instr, const struct smap *m)
{
	if (!m->n)
		return;
	buf_puts(sb, instr);
	for (size_t i = 0; i < m->n; i++) {
		buf_puts(sb, i ? " \\\n    " : " ");
		buf_printf(sb, "%s=", m->v[i].k.s);
		put_quoted(sb, m->v[i].v.s);
	}
	buf_putc(sb, '\n');
}

static void put_run(struct buf *sb, const char *const *cmds, size_t n)
{
	if (!n)
		return;
	buf_puts(sb, "RUN ");
	for (size_t i = 0; i < n; i++)
		buf_printf(sb, "%s%s", i ? " \\\n && " : "", cmds[i]);
	buf_putc(sb, '\n');
}

static void put_packages(struct buf *sb, const struct image *im)
{
	if (!im->packages.n || im->pm == PM_NONE)
		return;
	const struct pm_commands *c = &pm_commands[im->pm];
	struct buf install = {0};
	buf_puts(&install, c->install);
	for (size_t i = 0; i < im->packages.n; i++)
		buf_printf(&install, " %s", im->packages.v[i].s);
	const char *cmds[] = {install.data, c->cleanup};
	put_run(sb, cmds, c->cleanup ? 2 : 1);
	buf_free(&install);
}

static bool needs_json(const char *s)
{
	return strpbrk(s, " \t\"\\") != NULL || s[0] == '-'; /* not taken for a --flag */
}

static const char *base_name(const char *path)
{
	const char *end = path + strlen(path);
	while (end > path + 1 && end[-1] == '/')
		end--;
	const char *b = end;
	while (b > path && b[-1] != '/')
		b--;
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%.*s", (int)(end - b), b);
	return buf;
}

/* Where files entry k goes in the context: files/K/BASENAME, so names never collide. */
static char *context_file(const struct image *im, size_t k)
{
	return xasprintf("files/%zu/%s", k, base_name(im->files.v[k].k.s));
}

static void put_copy(struct buf *sb, const char *src, const char *dst)
{
	if (needs_json(src) || needs_json(dst)) {
		buf_puts(sb, "COPY [");
		put_json(sb, src);
		buf_puts(sb, ", ");
		put_json(sb, dst);
		buf_puts(sb, "]\n");
	} else {
		buf_printf(sb, "COPY %s %s\n", src, dst);
	}
}

static void put_files(struct buf *sb, const struct image *im)
{
	for (size_t k = 0; k < im->files.n; k++) {
		const char *dst = im->files.v[k].v.s;
		char *src = context_file(im, k);
		/* a destination ending in / keeps the name, for directories too */
		char *full = dst[strlen(dst) - 1] == '/'
				 ? xasprintf("%s%s", dst, base_name(im->files.v[k].k.s))
				 : xstrdup(dst);
		put_copy(sb, src, full);
		free(src);
		free(full);
	}
}

static void put_json_array(struct buf *sb, const char *const *v, size_t n)
{
	buf_putc(sb, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(sb, ", ");
		put_json(sb, v[i]);
	}
	buf_putc(sb, ']');
}

static void put_list(struct buf *sb, const char *instr, const struct slist *l, bool json)
{
	if (!l->n)
		return;
	const char **v = xcalloc(l->n, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = l->v[i].s;
	buf_printf(sb, "%s ", instr);
	if (json) {
		put_json_array(sb, v, l->n);
	} else {
		for (size_t i = 0; i < l->n; i++)
			buf_printf(sb, "%s%s", i ? " " : "", v[i]);
	}
	buf_putc(sb, '\n');
	free(v);
}

static void put_healthcheck(struct buf *sb, const struct healthcheck *h)
{
	if (h->none)
		return;
	struct health_timing t = health_timing(h);
	buf_printf(sb, "HEALTHCHECK --interval=%s --timeout=%s --start-period=%s --retries=%s ",
		   t.interval, t.timeout, t.start_period, t.retries);
	const char **v = xcalloc(h->programs.n + 2, sizeof(*v));
	v[0] = "pidvisor";
	v[1] = "check";
	for (size_t i = 0; i < h->programs.n; i++)
		v[i + 2] = h->programs.v[i].s;
	buf_puts(sb, "CMD ");
	put_json_array(sb, v, h->programs.n + 2);
	buf_putc(sb, '\n');
	free(v);
}

/* The user image i runs as (its `user`, the nearest ancestor's, HARDENED_USER when hardened),
 * or NULL for root. */
static const char *runtime_user(const struct stack *st, int i)
{
	if (i < 0)
		return NULL;
	for (int j = i; j >= 0; j = st->images[j].parent)
		if (st->images[j].user.s)
			return st->images[j].user.s;
	return image_hardened(st, (size_t)i) ? HARDENED_USER : NULL;
}

static bool is_root_user(const char *user)
{
	return !user || strcmp(user, "root") == 0 || strcmp(user, "0") == 0 ||
	       strncmp(user, "0:", 2) == 0 || strncmp(user, "root:", 5) == 0;
}

/* A root writes the main conf; so does an image that hardens (or un-hardens) its parent's
 * chain, for the socket's and pidfile's place. */
static bool writes_main_conf(const struct stack *st, size_t i)
{
	return is_root(st, i) ||
	       image_hardened(st, i) != image_hardened(st, (size_t)st->images[i].parent);
}

static void put_root_parts(struct buf *sb)
{
	buf_printf(sb, "COPY --from=%s %s %s\n", PIDVISOR_IMAGE, PIDVISOR_PATH, PIDVISOR_PATH);
	buf_printf(sb,
		   "RUN ln -sf pidvisor /usr/bin/supervisord && ln -sf pidvisor "
		   "/usr/bin/supervisorctl && mkdir -p %s %s && chmod 1777 %s\n",
		   CONF_DIR, RUN_DIR, RUN_DIR);
	buf_printf(sb, "COPY supervisord.conf %s\n", MAIN_CONF);
}

char *generate_dockerfile(const struct stack *st, size_t i, const char *tag_prefix)
{
	const struct image *im = &st->images[i];
	struct buf sb = {0};
	buf_printf(&sb,
		   "# Generated by pidvisor-image from %s (image %s, line %d): edit that file.\n",
		   st->path, im->name.s, im->name.line);
	buf_printf(&sb, "FROM %s%s\n", is_root(st, i) ? "" : tag_prefix,
		   is_root(st, i) ? im->from.s : st->images[im->parent].name.s);
	const char *up = is_root(st, i) ? NULL : runtime_user(st, im->parent);
	bool switched = !is_root_user(up);
	if (switched)
		buf_puts(&sb, "USER root\n"); /* packages and run need root; set back below */
	put_pairs(&sb, "ENV", &im->env);
	if (im->workdir.s)
		buf_printf(&sb, "WORKDIR %s\n", im->workdir.s);
	put_packages(&sb, im);
	put_files(&sb, im);
	const char **cmds = xcalloc(im->run.n + 1, sizeof(*cmds));
	for (size_t k = 0; k < im->run.n; k++)
		cmds[k] = im->run.v[k].s;
	put_run(&sb, cmds, im->run.n);
	free(cmds);
	if (is_root(st, i))
		put_root_parts(&sb);
	else if (writes_main_conf(st, i))
		buf_printf(&sb, "COPY supervisord.conf %s\n", MAIN_CONF);
	char *conf = layer_conf_name(st, i);
	buf_printf(&sb, "COPY %s %s/%s\n", conf, CONF_DIR, conf);
	free(conf);
	put_pairs(&sb, "LABEL", &im->labels);
	put_list(&sb, "EXPOSE", &im->expose, false);
	put_list(&sb, "VOLUME", &im->volumes, true);
	if (is_root(st, i)) {
		buf_printf(&sb, "ENTRYPOINT [\"%s\"]\n", PIDVISOR_PATH);
		buf_puts(&sb, "STOPSIGNAL SIGTERM\n");
		put_healthcheck(&sb, &im->health);
	}
	const char *user = runtime_user(st, (int)i);
	if (user && (switched || im->user.s || !up || strcmp(user, up) != 0))
		buf_printf(&sb, "USER %s\n", user);
	buf_printf(&sb, "RUN [\"%s\", \"--check-config\"]\n", PIDVISOR_PATH);
	return buf_xsteal(&sb);
}

char *layer_conf_name(const struct stack *st, size_t i)
{
	char *flat = image_flat_name(st->images[i].name.s);
	char *name = xasprintf("%02d-%s.conf", st->images[i].depth * 10, flat);
	free(flat);
	return name;
}

static bool has_key(const struct smap *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].k.s, key) == 0)
			return true;
	return false;
}

static void put_ini_section(struct buf *sb, const char *section, const struct smap *keys,
			    const char *const (*dflt)[2], size_t ndflt)
{
	buf_printf(sb, "\n[%s]\n", section);
	for (size_t i = 0; i < keys->n; i++)
		buf_printf(sb, "%s=%s\n", keys->v[i].k.s, keys->v[i].v.s);
	for (size_t i = 0; i < ndflt; i++)
		if (!has_key(keys, dflt[i][0]))
			buf_printf(sb, "%s=%s\n", dflt[i][0], dflt[i][1]);
}

char *generate_layer_conf(const struct stack *st, size_t i)
{
	const struct image *im = &st->images[i];
	struct buf sb = {0};
	buf_printf(&sb, "; Generated by pidvisor-image from %s (image %s): edit that file.\n",
		   st->path, im->name.s);
	for (size_t k = 0; k < im->nprograms; k++) {
		char *sec = xasprintf("program:%s", im->programs[k].name.s);
		put_ini_section(&sb, sec, &im->programs[k].keys, log_defaults,
				ARRAY_SIZE(log_defaults));
		free(sec);
	}
	for (size_t k = 0; k < im->ngroups; k++) {
		const struct group *g = &im->groups[k];
		buf_printf(&sb, "\n[group:%s]\nprograms=", g->name.s);
		for (size_t p = 0; p < g->programs.n; p++)
			buf_printf(&sb, "%s%s", p ? "," : "", g->programs.v[p].s);
		buf_putc(&sb, '\n');
		if (g->priority.s)
			buf_printf(&sb, "priority=%s\n", g->priority.s);
	}
	return buf_xsteal(&sb);
}

char *generate_main_conf(const struct stack *st, size_t i)
{
	const struct image *im = &st->images[i];
	bool hardened = image_hardened(st, i);
	const char *sock = hardened ? HARDENED_SOCKET : SOCKET;
	struct buf sb = {0};
	buf_printf(&sb, "; Generated by pidvisor-image from %s (image %s): edit that file.\n",
		   st->path, im->name.s);
	const char *defaults[ARRAY_SIZE(main_conf_defaults)][2];
	memcpy(defaults, main_conf_defaults, sizeof(defaults));
	for (size_t k = 0; k < ARRAY_SIZE(defaults) && hardened; k++)
		if (strcmp(defaults[k][0], "pidfile") == 0)
			defaults[k][1] = HARDENED_PIDFILE;
	const struct image *root = &st->images[im->root >= 0 ? im->root : (int)i];
	put_ini_section(&sb, "supervisord", &root->supervisord, (const char *const(*)[2])defaults,
			ARRAY_SIZE(defaults));
	buf_printf(&sb, "\n[unix_http_server]\nfile=%s\nchmod=0700\n", sock);
	buf_printf(&sb, "\n[supervisorctl]\nserverurl=unix://%s\n", sock);
	buf_printf(&sb, "\n[include]\nfiles=%s/*.conf\n", CONF_DIR);
	return buf_xsteal(&sb);
}

char *context_dir(const struct stack *st, size_t i, const char *outdir)
{
	char *flat = image_flat_name(st->images[i].name.s);
	char *dir = xasprintf("%s/%s", outdir, flat);
	free(flat);
	return dir;
}

static int put_text(const char *dir, const char *name, char *text, struct diag *d)
{
	char *path = xasprintf("%s/%s", dir, name);
	const char *failed;
	int rc = write_file(path, text, 0644, &failed);
	if (rc)
		diag_add(d, DIAG_ERROR, failed, 0, NULL, NULL, "cannot write: %s", strerror(errno));
	free(path);
	free(text);
	return rc;
}

static int copy_files(const struct stack *st, const struct image *im, const char *dir,
		      struct diag *d)
{
	for (size_t k = 0; k < im->files.n; k++) {
		char *src = plan_context_source(st, im, k, d);
		if (!src)
			return -1;
		char *rel = context_file(im, k);
		char *dst = xasprintf("%s/%s", dir, rel);
		char *parent = xstrdup(dst);
		const char *failed;
		int rc = mkdir_p(dirname(parent), &failed);
		if (rc == 0)
			rc = copy_tree(src, dst, &failed);
		if (rc)
			stack_error(d, st, im->files.v[k].k.line, im->name.s, "files", "%s: %s",
				    failed,
				    errno == EINVAL ? "not a regular file, a directory or a "
						      "symbolic link"
						    : strerror(errno));
		free(parent);
		free(dst);
		free(rel);
		free(src);
		if (rc)
			return -1;
	}
	return 0;
}

static int generate_one(const struct stack *st, size_t i, const struct generate_opts *o,
			struct diag *d)
{
	char *dir = context_dir(st, i, o->outdir);
	const char *failed;
	int rc = mkdir_p(dir, &failed);
	if (rc)
		diag_add(d, DIAG_ERROR, failed, 0, NULL, NULL, "cannot create: %s",
			 strerror(errno));
	if (rc == 0)
		rc = put_text(dir, "Dockerfile", generate_dockerfile(st, i, o->tag_prefix), d);
	char *conf = layer_conf_name(st, i);
	if (rc == 0)
		rc = put_text(dir, conf, generate_layer_conf(st, i), d);
	free(conf);
	if (rc == 0 && writes_main_conf(st, i)) {
		rc = put_text(dir, "supervisord.conf", generate_main_conf(st, i), d);
	}
	if (rc == 0)
		rc = copy_files(st, &st->images[i], dir, d);
	free(dir);
	return rc;
}

/* pidvisor's own names in PIDVISOR_IMAGE, as `make image` makes them (packaging/image/). */
static const char *const pidvisor_names[] = {"supervisord", "supervisorctl", "tini", "dumb-init"};

/* The context of PIDVISOR_IMAGE: FROM scratch, /usr/bin/pidvisor and symlinks to it. */
static int generate_pidvisor_context(const char *outdir, const char *pidvisor, struct diag *d)
{
	char *dir = xasprintf("%s/%s", outdir, PIDVISOR_CONTEXT);
	char *bindir = xasprintf("%s/usr/bin", dir);
	char *bin = xasprintf("%s/pidvisor", bindir);
	const char *failed;
	int rc = mkdir_p(bindir, &failed);
	if (rc == 0)
		rc = copy_tree(pidvisor, bin, &failed);
	if (rc)
		diag_add(d, DIAG_ERROR, failed, 0, NULL, NULL, "cannot copy pidvisor: %s",
			 strerror(errno));
	for (size_t k = 0; rc == 0 && k < ARRAY_SIZE(pidvisor_names); k++) {
		char *link = xasprintf("%s/%s", bindir, pidvisor_names[k]);
		if (symlink("pidvisor", link) != 0 && errno != EEXIST) {
			diag_add(d, DIAG_ERROR, link, 0, NULL, NULL, "cannot create: %s",
				 strerror(errno));
			rc = -1;
		}
		free(link);
	}
	if (rc == 0)
		rc = put_text(dir, "Dockerfile",
			      xasprintf("# %s: the static pidvisor and its other names, nothing "
					"else (generated by pidvisor-image)\n"
					"FROM scratch\nCOPY usr/ /usr/\nENTRYPOINT [\"%s\"]\n",
					PIDVISOR_IMAGE, PIDVISOR_PATH),
			      d);
	free(bin);
	free(bindir);
	free(dir);
	return rc;
}

int generate_contexts(const struct stack *st, const size_t *order, size_t n,
		      const struct generate_opts *o, struct diag *d)
{
	bool roots = false;
	for (size_t k = 0; k < n; k++) {
		if (generate_one(st, order[k], o, d) != 0)
			return -1;
		roots = roots || is_root(st, order[k]);
	}
	return roots ? generate_pidvisor_context(o->outdir, o->pidvisor, d) : 0;
}
