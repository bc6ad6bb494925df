/*
 * A cgroup per program, for the limits the kernel enforces (memory_max, cpu_max). pidvisor uses
 * one when it owns a writable cgroup subtree: cgroup v2 delegated to it or mounted rw in a
 * private namespace, or writable v1 memory and cpu hierarchies (hybrid hosts). Where they are
 * comes from /proc/self/cgroup and /proc/self/mountinfo only. On v2, pidvisor first moves itself
 * into a leaf, pidvisor/ (no process may sit in a cgroup that hands controllers down), then
 * enables +memory +cpu; each program's cgroup is program-<name>/ beside it. On v1 it is
 * program-<name>/ under pidvisor's own cgroup of each hierarchy. pidvisor other than PID 1 (on a
 * host, where another pidvisor may have been started from the same cgroup) names them
 * program-<name>@<its pid>/, so that two never share a program's cgroup: its limits, its
 * processes, its OOM kills, its removal.
 *
 * Bounds: one cgroup per program with a limit (two on v1, one per hierarchy), made or reused at
 * each spawn and removed when the program is removed or pidvisor exits.
 *
 * A leaf of core: paths and numbers, no processes. Every path is under fsroot ("" for the real
 * system), so the unit tests run the v1 and v2 logic in a temp dir.
 */
#ifndef PIDVISOR_CGROUP_H
#define PIDVISOR_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum cg_version { CG_NONE, CG_V1, CG_V2 };
enum cg_controller { CG_MEMORY, CG_CPU, CG_NCONTROLLERS };

#define CG_WHY_MAX	 (PATH_MAX + 256)
#define CG_CPU_PERIOD_US 100000 /* cpu.max's and cpu.cfs_period_us's period */

struct cg_host {
	enum cg_version ver[CG_NCONTROLLERS]; /* each controller's, CG_NONE when unused */
	/* per controller: the directory program cgroups go in (fsroot included), or "" with why
	 * it cannot be used */
	char dir[CG_NCONTROLLERS][PATH_MAX];
	char why[CG_NCONTROLLERS][CG_WHY_MAX];
	pid_t instance; /* 0: program-<name>/ (PID 1); else program-<name>@<instance>/ */
};

/* A program's cgroups while it is spawned: the cgroup.procs the child writes itself into. */
struct cg_join {
	int fd[CG_NCONTROLLERS]; /* -1: none (v2: the same cgroup for both, in fd[CG_MEMORY]) */
};

/* The pure part. The cgroup of pidvisor for controller ("memory", "cpu"; NULL: the v2 line
 * "0::") from /proc/self/cgroup's text, into path: 0, or -1 when there is no such line. */
int cg_parse_self(const char *text, const char *controller, char *path, size_t n);
/* Where that cgroup is in the file system, from /proc/self/mountinfo's text: the mount point of
 * the cgroup2 mount (controller NULL) or of the v1 mount with that controller, joined with the
 * path below the mount's root. 0, or -1 when no mount holds it. */
int cg_parse_mount(const char *mountinfo, const char *controller, const char *path, char *dir,
		   size_t n);

/* Fills h: which version, and for each controller its directory or why not. On v2 this moves
 * the calling process into the leaf pidvisor/ and enables the controllers. */
void cg_detect(struct cg_host *h, const char *fsroot, const char *self_cgroup,
	       const char *mountinfo);
/* The directory of name's cgroup for controller (h->instance's), into buf; false when it has
 * none. */
bool cg_program_dir(const struct cg_host *h, enum cg_controller c, const char *name, char *buf,
		    size_t n);
/* Makes or reuses name's cgroups, writes the limits (memory in bytes, cpu in thousandths of a
 * CPU; 0: none, which also clears what a reused cgroup had) and opens their cgroup.procs into
 * j. 0, or -1 with err saying what failed (j then holds nothing open). */
int cg_program_enter(const struct cg_host *h, const char *name, long long memory,
		     long long cpu_milli, struct cg_join *j, char *err, size_t n);
/* In the child between fork and exec, async-signal-safe: joins j's cgroups. 0, or an errno. */
int cg_join_self(const struct cg_join *j);
/* In the parent after the spawn: puts pid there too (a no-op when the child did, and the way a
 * failure is seen when it did not), then closes j. 0, or an errno (ESRCH, already gone, is 0). */
int cg_join_done(struct cg_join *j, pid_t pid);
/* How many times the OOM killer has acted in name's memory cgroup; -1 when it cannot tell. */
long long cg_oom_kills(const struct cg_host *h, const char *name);
/* Removes name's cgroups (they must hold no process): 0, or -1 (errno) when one stays. */
int cg_program_remove(const struct cg_host *h, const char *name);
/* "cgroup v2", "cgroup v1 memory", ... for the log. */
const char *cg_describe(const struct cg_host *h, enum cg_controller c);

#endif
