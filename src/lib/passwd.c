#include "passwd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool numeric(const char *s, unsigned long *out)
{
	char *end;
	if (!*s)
		return false;
	*out = strtoul(s, &end, 10);
	return *end == '\0';
}

static void add_member_groups(const char *group_path, struct user_info *u)
{
	FILE *f = fopen(group_path, "r");
	char line[8192];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && u->ngroups < ARRAY_SIZE(u->groups)) {
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
	fclose(f);
}

int user_lookup_in(const char *passwd_path, const char *group_path, const char *spec,
		   struct user_info *out)
{
	unsigned long want_uid = 0;
	bool by_uid = numeric(spec, &want_uid);
	FILE *f = fopen(passwd_path, "r");
	char line[8192];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!f) {
		if (!by_uid)
			return -1;
		/* No passwd file (scratch images): a bare uid still works, with gid = uid. */
		out->uid = (uid_t)want_uid;
		out->gid = (gid_t)want_uid;
		snprintf(out->name, sizeof(out->name), "%lu", want_uid);
		out->groups[out->ngroups++] = out->gid;
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
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
		break;
	}
	fclose(f);
	if (rc < 0 && by_uid) {
		out->uid = (uid_t)want_uid;
		out->gid = (gid_t)want_uid;
		snprintf(out->name, sizeof(out->name), "%lu", want_uid);
		out->groups[out->ngroups++] = out->gid;
		return 0;
	}
	if (rc == 0)
		add_member_groups(group_path, out);
	return rc;
}

int user_lookup(const char *spec, struct user_info *out)
{
	return user_lookup_in("/etc/passwd", "/etc/group", spec, out);
}

int group_lookup(const char *spec, gid_t *out)
{
	unsigned long gid;
	if (numeric(spec, &gid)) {
		*out = (gid_t)gid;
		return 0;
	}
	FILE *f = fopen("/etc/group", "r");
	char line[8192];
	int rc = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fld[4];
		if (split_fields(line, fld, 4) >= 3 && strcmp(fld[0], spec) == 0 &&
		    numeric(fld[2], &gid)) {
			*out = (gid_t)gid;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}
