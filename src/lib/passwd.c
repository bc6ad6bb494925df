#include "passwd.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Splits a colon-separated line in place; returns the field count. */
static int split_fields(char *line, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\n")] = '\0';
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* A uid or gid: digits only, and in range. (uid_t)-1 means "no change" to setuid, and a number
 * past 32 bits would wrap around, 4294967296 to root. */
static bool numeric(const char *s, unsigned long *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	*out = strtoul(s, NULL, 10);
	return errno == 0 && *out < (unsigned long)(uid_t)-1;
}

/* Lines of any length: an /etc/group line lists every member, and a fixed buffer would split a
 * long one, losing the members past the split. */
static void add_member_groups(const char *group_path, struct user_info *u)
{
	FILE *f = fopen(group_path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f)
		return;
	while (getline(&line, &cap, f) >= 0 && u->ngroups < ARRAY_SIZE(u->groups)) {
		char *fld[4];
		unsigned long gid;
		if (split_fields(line, fld, 4) < 4 || !numeric(fld[2], &gid) || gid == u->gid)
			continue;
		char *save = NULL;
		for (char *m = strtok_r(fld[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
			if (strcmp(m, u->name) == 0) {
				u->groups[u->ngroups++] = (gid_t)gid;
				break;
			}
	}
	free(line);
	fclose(f);
}

/* A uid with no passwd entry (or no passwd file, as in scratch images): gid = uid. */
static int bare_uid(unsigned long uid, struct user_info *out)
{
	out->uid = (uid_t)uid;
	out->gid = (gid_t)uid;
	snprintf(out->name, sizeof(out->name), "%lu", uid);
	out->groups[out->ngroups++] = out->gid;
	return 0;
}

int user_lookup_in(const char *passwd_path, const char *group_path, const char *spec,
		   struct user_info *out)
{
	unsigned long want_uid = 0;
	bool by_uid = numeric(spec, &want_uid);
	FILE *f = fopen(passwd_path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!f)
		return by_uid ? bare_uid(want_uid, out) : -1;
	while (rc < 0 && getline(&line, &cap, f) >= 0) {
		char *fld[7];
		unsigned long uid, gid;
		if (split_fields(line, fld, 7) < 7 || !numeric(fld[2], &uid) ||
		    !numeric(fld[3], &gid))
			continue;
		if (by_uid ? uid != want_uid : strcmp(fld[0], spec) != 0)
			continue;
		out->uid = (uid_t)uid;
		out->gid = (gid_t)gid;
		snprintf(out->name, sizeof(out->name), "%s", fld[0]);
		snprintf(out->home, sizeof(out->home), "%s", fld[5]);
		out->groups[out->ngroups++] = out->gid;
		rc = 0;
	}
	free(line);
	fclose(f);
	if (rc < 0)
		return by_uid ? bare_uid(want_uid, out) : -1;
	add_member_groups(group_path, out);
	return 0;
}

int user_lookup(const char *spec, struct user_info *out)
{
	return user_lookup_in("/etc/passwd", "/etc/group", spec, out);
}

int group_lookup_in(const char *group_path, const char *spec, gid_t *out)
{
	unsigned long gid;
	if (numeric(spec, &gid)) {
		*out = (gid_t)gid;
		return 0;
	}
	FILE *f = fopen(group_path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	if (!f)
		return -1;
	while (rc < 0 && getline(&line, &cap, f) >= 0) {
		char *fld[4];
		if (split_fields(line, fld, 4) >= 3 && strcmp(fld[0], spec) == 0 &&
		    numeric(fld[2], &gid)) {
			*out = (gid_t)gid;
			rc = 0;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int group_lookup(const char *spec, gid_t *out)
{
	return group_lookup_in("/etc/group", spec, out);
}

/* The effective set's bit for cap; a capget that fails counts as not having it. */
static bool has_capability(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {0};
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

const char *user_switch_refused(const struct user_info *ui, char *why, size_t n)
{
	uid_t uid = getuid();
	if (uid == ui->uid)
		return NULL;
	bool setuid_ok = has_capability(CAP_SETUID), setgid_ok = has_capability(CAP_SETGID);
	if (uid == 0 && setuid_ok && setgid_ok)
		return NULL;
	const char *missing = !setuid_ok && !setgid_ok ? "CAP_SETUID and CAP_SETGID"
			      : !setuid_ok	       ? "CAP_SETUID"
			      : !setgid_ok	       ? "CAP_SETGID"
						       : NULL;
	if (uid == 0)
		snprintf(why, n, "pidvisor runs as root without %s", missing);
	else if (missing)
		snprintf(why, n, "pidvisor runs as uid %u, not root, without %s", (unsigned)uid,
			 missing);
	else
		snprintf(why, n, "pidvisor runs as uid %u, not root", (unsigned)uid);
	return why;
}
