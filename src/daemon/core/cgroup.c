#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* the leaf pidvisor itself moves into on v2, and the prefix of each program's cgroup */
#define SELF_LEAF      "pidvisor"
#define PROGRAM_PREFIX "program-"

static const char *const controller_names[CG_NCONTROLLERS] = {"memory", "cpu"};

/* Whether the comma list [s, s + n) holds word. */
static bool list_has(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (const char *end = s + n; s < end;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t len = (size_t)((comma ? comma : end) - s);
		if (len == w && strncmp(s, word, w) == 0)
			return true;
		s += len + 1;
	}
	return false;
}

static const char *line_end(const char *line)
{
	const char *nl = strchr(line, '\n');
	return nl ? nl : line + strlen(line);
}

int cg_parse_self(const char *text, const char *controller, char *path, size_t n)
{
	for (const char *line = text; *line;) {
		const char *end = line_end(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		size_t len = c2 ? (size_t)(end - c2 - 1) : 0;
		bool match = c2 && (controller ? list_has(c1 + 1, (size_t)(c2 - c1 - 1), controller)
					       : c1 - line == 1 && *line == '0' && c2 == c1 + 1);
		if (match && c2[1] == '/' && len < n) {
			memcpy(path, c2 + 1, len);
			path[len] = '\0';
			return 0;
		}
		line = *end ? end + 1 : end;
	}
	return -1;
}

/* mountinfo's octal escapes (\040 for a space) undone, from a field of len bytes. */
static bool unescape(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= n)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* The n-th space-separated field of [line, end): its start and length; false past the end. */
static bool field(const char *line, const char *end, int i, const char **at, size_t *len)
{
	const char *s = line;
	for (; i > 0 && s < end; i--) {
		s = memchr(s, ' ', (size_t)(end - s));
		if (!s)
			return false;
		s++;
	}
	if (s >= end)
		return false;
	const char *sp = memchr(s, ' ', (size_t)(end - s));
	*at = s;
	*len = (size_t)((sp ? sp : end) - s);
	return true;
}

/* path below root, the mount's own root: the rest of it ("" for the root itself), or NULL. */
static const char *below(const char *path, const char *root)
{
	if (strcmp(root, "/") == 0)
		return strcmp(path, "/") == 0 ? "" : path;
	size_t r = strlen(root);
	if (strncmp(path, root, r) != 0 || (path[r] != '/' && path[r] != '\0'))
		return NULL;
	return path + r;
}

int cg_parse_mount(const char *mountinfo, const char *controller, const char *path, char *dir,
		   size_t n)
{
	for (const char *line = mountinfo; *line;) {
		const char *ln = line, *end = line_end(line), *sep = strstr(line, " - ");
		const char *at, *fs, *opts;
		size_t len, fslen, optslen;
		char root[PATH_MAX], point[PATH_MAX];
		line = *end ? end + 1 : end;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		 */
		if (!sep || sep > end || !field(sep + 3, end, 0, &fs, &fslen) ||
		    !field(sep + 3, end, 2, &opts, &optslen))
			continue;
		bool v2 = fslen == 7 && strncmp(fs, "cgroup2", 7) == 0;
		bool v1 = fslen == 6 && strncmp(fs, "cgroup", 6) == 0;
		if (controller ? !v1 || !list_has(opts, optslen, controller) : !v2)
			continue;
		if (!field(ln, sep, 3, &at, &len) || !unescape(at, len, root, sizeof(root)) ||
		    !field(ln, sep, 4, &at, &len) || !unescape(at, len, point, sizeof(point)))
			continue;
		const char *rest = below(path, root);
		if (!rest)
			continue;
		if ((size_t)snprintf(dir, n, "%s%s", point, rest) >= n)
			return -1;
		return 0;
	}
	return -1;
}

/* Writes text to dir/file in one write, as cgroup files want: 0, or an errno. */
static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	size_t len = strlen(text);
	int e = write(fd, text, len) == (ssize_t)len ? 0 : errno ? errno : EIO;
	close(fd);
	return e;
}

static bool writable(const char *dir, char *why, size_t n)
{
	if (access(dir, W_OK) == 0)
		return true;
	snprintf(why, n, "%s is not writable: %s", dir, strerror(errno));
	return false;
}

/* Writes enable to dir's cgroup.subtree_control: 0, or an errno. Right after the last process
 * left dir the kernel may still say EBUSY for a moment (crun retries too): a few tries, 100 ms at
 * the most, once at start-up. */
static int hand_down(const char *dir, const char *enable)
{
	int e = write_file(dir, "cgroup.subtree_control", enable);
	for (int i = 0; e == EBUSY && i < 20; i++) {
		nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
		e = write_file(dir, "cgroup.subtree_control", enable);
	}
	return e;
}

/* v2: pidvisor into the leaf, then the controllers offered handed down; why says what failed. */
static void enter_leaf_v2(const char *dir, const char *enable, char *why, size_t n)
{
	char leaf[PATH_MAX + 16];
	int e;
	snprintf(leaf, sizeof(leaf), "%s/" SELF_LEAF, dir);
	if (!writable(dir, why, n))
		return;
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		snprintf(why, n, "cannot make %s: %s", leaf, strerror(errno));
	else if ((e = write_file(leaf, "cgroup.procs", "0")))
		snprintf(why, n, "cannot move pidvisor into %s: %s", leaf, strerror(e));
	else if ((e = hand_down(dir, enable)))
		snprintf(why, n, "cannot write '%s' to %s/cgroup.subtree_control: %s%s", enable,
			 dir, strerror(e),
			 e == EBUSY ? " (other processes are in that cgroup)" : "");
}

static void setup_v2(struct cg_host *h, const char *dir, const bool offered[])
{
	char why[CG_WHY_MAX] = "", enable[32] = "";
	for (int c = 0; c < CG_NCONTROLLERS; c++)
		if (offered[c])
			snprintf(enable + strlen(enable), sizeof(enable) - strlen(enable), "%s+%s",
				 *enable ? " " : "", controller_names[c]);
	enter_leaf_v2(dir, enable, why, sizeof(why));
	for (int c = 0; c < CG_NCONTROLLERS; c++) {
		if (!offered[c])
			continue;
		if (*why) {
			snprintf(h->why[c], sizeof(h->why[c]), "%s", why);
			continue;
		}
		h->ver[c] = CG_V2;
		snprintf(h->dir[c], sizeof(h->dir[c]), "%s", dir);
	}
}

static void setup_v1(struct cg_host *h, enum cg_controller c, const char *fsroot,
		     const char *self_cgroup, const char *mountinfo)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *name = controller_names[c];
	if (cg_parse_self(self_cgroup, name, path, sizeof(path)) < 0) {
		snprintf(h->why[c], sizeof(h->why[c]),
			 "no cgroup v2 offers %s and /proc/self/cgroup names no v1 %s hierarchy",
			 name, name);
		return;
	}
	if (cg_parse_mount(mountinfo, name, path, dir, sizeof(dir)) < 0) {
		snprintf(h->why[c], sizeof(h->why[c]),
			 "no mount of the cgroup v1 %s hierarchy holds %s", name, path);
		return;
	}
	char full[PATH_MAX];
	if ((size_t)snprintf(full, sizeof(full), "%s%s", fsroot, dir) >= sizeof(full) ||
	    !writable(full, h->why[c], sizeof(h->why[c])))
		return;
	h->ver[c] = CG_V1;
	snprintf(h->dir[c], sizeof(h->dir[c]), "%s", full);
}

void cg_detect(struct cg_host *h, const char *fsroot, const char *self_cgroup,
	       const char *mountinfo)
{
	char path[PATH_MAX], dir[PATH_MAX], full[PATH_MAX], ctl[256];
	bool offered[CG_NCONTROLLERS] = {false}, any = false;
	*h = (struct cg_host){0};
	if (cg_parse_self(self_cgroup, NULL, path, sizeof(path)) == 0 &&
	    cg_parse_mount(mountinfo, NULL, path, dir, sizeof(dir)) == 0 &&
	    (size_t)snprintf(full, sizeof(full), "%s%s", fsroot, dir) < sizeof(full)) {
		char file[PATH_MAX + 32];
		snprintf(file, sizeof(file), "%s/cgroup.controllers", full);
		if (read_small_file(file, ctl, sizeof(ctl)) >= 0) {
			for (char *nl; (nl = strchr(ctl, '\n'));)
				*nl = ' ';
			for (int c = 0; c < CG_NCONTROLLERS; c++) {
				char word[16];
				snprintf(word, sizeof(word), " %s ", controller_names[c]);
				char padded[sizeof(ctl) + 2];
				snprintf(padded, sizeof(padded), " %s ", ctl);
				offered[c] = strstr(padded, word) != NULL;
				any |= offered[c];
			}
		}
	}
	if (any)
		setup_v2(h, full, offered);
	for (int c = 0; c < CG_NCONTROLLERS; c++)
		if (!offered[c])
			setup_v1(h, (enum cg_controller)c, fsroot, self_cgroup, mountinfo);
}

bool cg_program_dir(const struct cg_host *h, enum cg_controller c, const char *name, char *buf,
		    size_t n)
{
	if (!*h->dir[c])
		return false;
	if (h->instance > 0)
		return (size_t)snprintf(buf, n, "%s/" PROGRAM_PREFIX "%s@%d", h->dir[c], name,
					(int)h->instance) < n;
	return (size_t)snprintf(buf, n, "%s/" PROGRAM_PREFIX "%s", h->dir[c], name) < n;
}

/* The limit files of controller c in dir, for the value v (0: none). */
static int write_limit(const struct cg_host *h, enum cg_controller c, const char *dir, long long v)
{
	char text[64];
	int e;
	if (c == CG_MEMORY) {
		bool v2 = h->ver[c] == CG_V2;
		if (v > 0)
			snprintf(text, sizeof(text), "%lld", v);
		else
			snprintf(text, sizeof(text), "%s", v2 ? "max" : "-1");
		return write_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes", text);
	}
	long long quota = v * CG_CPU_PERIOD_US / 1000;
	if (h->ver[c] == CG_V2) {
		if (v > 0)
			snprintf(text, sizeof(text), "%lld %d", quota, CG_CPU_PERIOD_US);
		else
			snprintf(text, sizeof(text), "max %d", CG_CPU_PERIOD_US);
		return write_file(dir, "cpu.max", text);
	}
	snprintf(text, sizeof(text), "%d", CG_CPU_PERIOD_US);
	if ((e = write_file(dir, "cpu.cfs_period_us", text)))
		return e;
	snprintf(text, sizeof(text), "%lld", v > 0 ? quota : -1);
	return write_file(dir, "cpu.cfs_quota_us", text);
}

int cg_program_enter(const struct cg_host *h, const char *name, long long memory,
		     long long cpu_milli, struct cg_join *j, char *err, size_t n)
{
	const long long limit[CG_NCONTROLLERS] = {memory, cpu_milli};
	char dir[CG_NCONTROLLERS][PATH_MAX + 64];
	for (int c = 0; c < CG_NCONTROLLERS; c++)
		j->fd[c] = -1;
	for (int c = 0; c < CG_NCONTROLLERS; c++) {
		const char *what = "make";
		*dir[c] = '\0';
		/* v1: a hierarchy only for a limit it holds; v2: one cgroup has both */
		if ((h->ver[c] == CG_V1 && limit[c] <= 0) ||
		    !cg_program_dir(h, (enum cg_controller)c, name, dir[c], sizeof(dir[c])))
			continue;
		bool shared = c > 0 && strcmp(dir[c], dir[0]) == 0;
		int e = 0;
		if (!shared && mkdir(dir[c], 0755) < 0 && errno != EEXIST)
			e = errno;
		if (!e) {
			what = "set the limit of";
			e = write_limit(h, (enum cg_controller)c, dir[c], limit[c]);
		}
		if (!e && !shared) {
			char procs[sizeof(dir) + 16];
			what = "open cgroup.procs of";
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir[c]);
			j->fd[c] = open(procs, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			e = j->fd[c] < 0 ? errno : 0;
		}
		if (e) {
			snprintf(err, n, "cannot %s %s: %s", what, dir[c], strerror(e));
			for (int i = 0; i <= c; i++)
				if (j->fd[i] >= 0)
					close(j->fd[i]);
			for (int i = 0; i < CG_NCONTROLLERS; i++)
				j->fd[i] = -1;
			return -1;
		}
	}
	return 0;
}

int cg_join_self(const struct cg_join *j)
{
	for (int c = 0; c < CG_NCONTROLLERS; c++)
		if (j->fd[c] >= 0 && write(j->fd[c], "0", 1) != 1)
			return errno;
	return 0;
}

int cg_join_done(struct cg_join *j, pid_t pid)
{
	char text[32];
	int e = 0;
	int len = snprintf(text, sizeof(text), "%d", (int)pid);
	for (int c = 0; c < CG_NCONTROLLERS; c++) {
		if (j->fd[c] < 0)
			continue;
		if (pid > 0 && !e && write(j->fd[c], text, (size_t)len) != len && errno != ESRCH)
			e = errno;
		close(j->fd[c]);
		j->fd[c] = -1;
	}
	return e;
}

long long cg_oom_kills(const struct cg_host *h, const char *name)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 96], text[1024];
	if (!cg_program_dir(h, CG_MEMORY, name, dir, sizeof(dir)))
		return -1;
	/* v2: memory.events; v1 (4.13 and later): memory.oom_control, both "oom_kill N" */
	snprintf(path, sizeof(path), "%s/%s", dir,
		 h->ver[CG_MEMORY] == CG_V2 ? "memory.events" : "memory.oom_control");
	if (read_small_file(path, text, sizeof(text)) < 0)
		return -1;
	for (const char *line = text; *line;) {
		long long v;
		if (sscanf(line, "oom_kill %lld", &v) == 1)
			return v;
		const char *end = line_end(line);
		line = *end ? end + 1 : end;
	}
	return -1;
}

int cg_program_remove(const struct cg_host *h, const char *name)
{
	char dir[PATH_MAX + 64];
	int e = 0;
	for (int c = 0; c < CG_NCONTROLLERS; c++)
		if (cg_program_dir(h, (enum cg_controller)c, name, dir, sizeof(dir)) &&
		    rmdir(dir) < 0 && errno != ENOENT && !e)
			e = errno;
	errno = e;
	return e ? -1 : 0;
}

const char *cg_describe(const struct cg_host *h, enum cg_controller c)
{
	if (h->ver[c] == CG_V2)
		return "cgroup v2";
	if (h->ver[c] == CG_V1)
		return c == CG_MEMORY ? "cgroup v1 memory" : "cgroup v1 cpu";
	return "no cgroup";
}
