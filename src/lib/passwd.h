/* Users and groups read from /etc/passwd and /etc/group directly, so a static build needs no NSS.
 */
#ifndef PIDVISOR_PASSWD_H
#define PIDVISOR_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

struct user_info {
	uid_t uid;
	gid_t gid;
	char name[256];
	char home[1024];
	gid_t groups[256]; /* supplementary groups, the primary one included */
	size_t ngroups;
};

/* name or numeric uid (digits only, below 2^32 - 1). Returns 0, or -1 if unknown; a uid with no
 * entry is taken with gid = uid. Lines of any length. The _in forms read other files (tests). */
int user_lookup(const char *spec, struct user_info *out);
int user_lookup_in(const char *passwd_path, const char *group_path, const char *spec,
		   struct user_info *out);
/* group name or number -> gid; -1 if unknown */
int group_lookup(const char *spec, gid_t *out);
int group_lookup_in(const char *group_path, const char *spec, gid_t *out);

/* Why this process cannot take ui's uid as a program's user= (setgroups, setgid, setuid), or
 * NULL when it can or already runs as that uid. The reason, written to why, names the uid and
 * the missing capabilities: "pidvisor runs as uid 10001, not root, without CAP_SETUID and
 * CAP_SETGID". A non-root pidvisor is refused even with the capabilities, as supervisord. */
const char *user_switch_refused(const struct user_info *ui, char *why, size_t n);

#endif
