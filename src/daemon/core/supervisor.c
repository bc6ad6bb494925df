#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_output.h"
#include "deps.h"
#include "fcgi.h"
#include "mainlog.h"
#include "ready.h"
#include "reap.h"
#include "schedule.h"
#include "signals.h"
#include "stdout_sink.h"
#include "supervisor_internal.h"

extern char **environ;

#define LEFTOVER_GRACE 1.0

static void shutdown_progress(struct supervisor *sv);
static void reload_progress(struct supervisor *sv);

static unsigned pid_hash(pid_t pid)
{
	return (unsigned)pid % PID_BUCKETS;
}

void supervisor_pid_add(struct supervisor *sv, struct process *p)
{
	unsigned h = pid_hash(p->pid);
	p->pid_next = sv->pids[h];
	sv->pids[h] = p;
}

void supervisor_pid_del(struct supervisor *sv, struct process *p)
{
	for (struct process **pp = &sv->pids[pid_hash(p->pid)]; *pp; pp = &(*pp)->pid_next)
		if (*pp == p) {
			*pp = p->pid_next;
			p->pid_next = NULL;
			return;
		}
}

static struct process *pid_find(struct supervisor *sv, pid_t pid)
{
	for (struct process *p = sv->pids[pid_hash(pid)]; p; p = p->pid_next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static void reap(struct supervisor *sv)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		struct process *p = pid_find(sv, pid);
		if (p) {
			process_exited(p, status);
		} else if (health_reaped(pid, status)) {
			continue;
		} else if (log_enabled(LOG_LEVEL_DEBUG)) {
			char text[64];
			describe_status(status, text, sizeof(text));
			log_debug("reaped unknown pid %d (%s)", (int)pid, text);
		}
	}
	supervisor_progress(sv);
}

void supervisor_progress(struct supervisor *sv)
{
	if (sv->mood < MOOD_RUNNING)
		shutdown_progress(sv);
	else if (sv->pending)
		reload_progress(sv);
}

/* NULL when memory runs out. */
static struct process *process_new(struct supervisor *sv, struct pgroup *g, struct proc_conf *pc)
{
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = pc;
	p->group = g;
	p->sv = sv;
	p->stdin_fd = -1;
	fsm_init(&p->fsm);
	fsm_params_from_conf(&p->params, pc);
	ev_init(&p->timer, process_timer_cb);
	output_name_auto_logs(p);
	if (schedule_attach(p) < 0) {
		output_free(p);
		free(p);
		return NULL;
	}
	resources_added(p);
	return p;
}

static int group_name_width(const struct pgroup *g)
{
	int w = 0;
	for (size_t j = 0; j < g->nprocs; j++) {
		int n = (int)strlen(g->procs[j]->conf->name);
		if (n > w)
			w = n;
	}
	return w;
}

static void process_free(struct supervisor *sv, struct process *p);

/* Its processes (those made), fcgi socket and config reference. */
static void group_free(struct supervisor *sv, struct pgroup *g)
{
	for (size_t i = 0; i < g->nprocs; i++)
		process_free(sv, g->procs[i]);
	free(g->procs);
	fcgi_free(g->fcgi);
	group_conf_unref(g->conf);
	free(g);
}

/* A group's processes and fcgi socket, not yet in sv->groups; NULL when memory runs out. */
static struct pgroup *group_new(struct supervisor *sv, struct group_conf *gc)
{
	struct pgroup *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	group_conf_ref(gc);
	g->conf = gc;
	g->procs = calloc(gc->nprocs ? gc->nprocs : 1, sizeof(*g->procs));
	bool ok = g->procs && fcgi_new(gc, &g->fcgi) == 0;
	for (size_t i = 0; ok && i < gc->nprocs; i++) {
		g->procs[i] = process_new(sv, g, gc->procs[i]);
		ok = g->procs[i] != NULL;
		g->nprocs += ok;
	}
	if (ok)
		return g;
	group_free(sv, g);
	return NULL;
}

struct pgroup *supervisor_add_group(struct supervisor *sv, struct group_conf *gc)
{
	struct pgroup *g = group_new(sv, gc);
	struct pgroup **groups = g ? try_grow(sv->groups, sv->ngroups, sizeof(*sv->groups)) : NULL;
	if (!groups) {
		if (g)
			group_free(sv, g);
		log_error("out of memory: process group %s not added", gc->name);
		return NULL;
	}
	sv->groups = groups;
	/* keep groups sorted by priority, then name; searched from the end, as the config's
	 * groups come sorted (20,000 groups at start-up are each added in constant time) */
	size_t at = sv->ngroups;
	while (at > 0 && (sv->groups[at - 1]->conf->priority > gc->priority ||
			  (sv->groups[at - 1]->conf->priority == gc->priority &&
			   strcmp(sv->groups[at - 1]->conf->name, gc->name) > 0)))
		at--;
	memmove(sv->groups + at + 1, sv->groups + at, (sv->ngroups - at) * sizeof(*sv->groups));
	sv->groups[at] = g;
	sv->ngroups++;
	deps_stale(sv);
	int width = group_name_width(g);
	if (width > sv->name_width)
		sv->name_width = width; /* child_output.c aligns "name | " prefixes to it */
	if (sv->bus.group_changed)
		sv->bus.group_changed(sv->bus.ctx, g, true);
	return g;
}

static void process_free(struct supervisor *sv, struct process *p)
{
	ev_timer_stop(sv->loop, &p->timer);
	schedule_detach(p);
	if (p->pid > 0)
		supervisor_pid_del(sv, p);
	health_free(p);
	resources_removed(p);
	output_free(p);
	ready_free(p);
	fsm_free(&p->fsm);
	free(p);
}

void supervisor_remove_group(struct supervisor *sv, struct pgroup *g)
{
	if (sv->bus.group_changed)
		sv->bus.group_changed(sv->bus.ctx, g, false);
	for (size_t i = 0; i < sv->ngroups; i++)
		if (sv->groups[i] == g) {
			memmove(sv->groups + i, sv->groups + i + 1,
				(sv->ngroups - i - 1) * sizeof(*sv->groups));
			sv->ngroups--;
			break;
		}
	deps_stale(sv);
	for (size_t i = 0; i < g->nprocs; i++)
		if (sv->on_process_gone)
			sv->on_process_gone(sv, g->procs[i]);
	group_free(sv, g);
}

struct pgroup *supervisor_find_group(struct supervisor *sv, const char *name)
{
	for (size_t i = 0; i < sv->ngroups; i++)
		if (strcmp(sv->groups[i]->conf->name, name) == 0)
			return sv->groups[i];
	return NULL;
}

struct process *supervisor_find(struct supervisor *sv, const char *group, const char *name)
{
	struct pgroup *g = supervisor_find_group(sv, group);
	if (!g)
		return NULL;
	for (size_t i = 0; i < g->nprocs; i++)
		if (strcmp(g->procs[i]->conf->name, name) == 0)
			return g->procs[i];
	return NULL;
}

bool supervisor_start_process(struct supervisor *sv, struct process *p)
{
	if (sv->mood < MOOD_RUNNING || proc_state_running(p->fsm.state) || p->pid > 0)
		return false;
	struct fsm_event ev = {.type = FSM_START, .now = ev_now(sv->loop), .may_start = true};
	process_drive(p, &ev, "", 0);
	return true;
}

bool supervisor_stop_process(struct supervisor *sv, struct process *p)
{
	if (!proc_state_running(p->fsm.state) && p->fsm.state != PS_STOPPING)
		return false;
	struct fsm_event ev = {.type = FSM_STOP, .now = ev_now(sv->loop)};
	process_drive(p, &ev, "", 0);
	/* supervisord says this while a stop request waits (not at shutdown: see above) */
	if (sv->mood == MOOD_RUNNING && p->fsm.state == PS_STOPPING)
		log_info("waiting for %s to stop", p->conf->name);
	return true;
}

/* supervisord's stop_all() for one group: RUNNING/STARTING are stopped, BACKOFF gives up. */
static void group_stop_all(struct supervisor *sv, struct pgroup *g)
{
	for (size_t i = 0; i < g->nprocs; i++) {
		struct process *p = g->procs[i];
		if (p->fsm.state == PS_RUNNING || p->fsm.state == PS_STARTING) {
			supervisor_stop_process(sv, p);
		} else if (p->fsm.state == PS_BACKOFF) {
			struct fsm_event ev = {.type = FSM_GIVE_UP, .now = ev_now(sv->loop)};
			process_drive(p, &ev, "", 0);
		}
	}
}

static bool group_stopped(const struct pgroup *g)
{
	for (size_t i = 0; i < g->nprocs; i++)
		if (!proc_state_stopped(g->procs[i]->fsm.state) || g->procs[i]->pid > 0)
			return false;
	return true;
}

static void finish_stopping(struct supervisor *sv)
{
	double now = ev_now(sv->loop);
	if (have_children()) {
		if (!sv->leftovers_signalled) {
			sv->leftovers_signalled = true;
			sv->leftovers_deadline = now + LEFTOVER_GRACE;
			log_info("stopping leftover processes");
			signal_leftovers(sv->is_pid1, SIGTERM);
			signal_leftovers(sv->is_pid1, SIGCONT);
		} else if (now >= sv->leftovers_deadline) {
			/* on every pass: as a subreaper, a leftover's own children become ours only
			 * once it has died */
			if (!sv->leftovers_killed)
				log_warn("killing leftover processes with SIGKILL");
			sv->leftovers_killed = true;
			signal_leftovers(sv->is_pid1, SIGKILL);
		}
		ev_timer_set(&sv->shutdown_timer, 0.05, 0);
		ev_timer_start(sv->loop, &sv->shutdown_timer);
		return;
	}
	ev_timer_stop(sv->loop, &sv->shutdown_timer);
	ev_break(sv->loop, EVBREAK_ALL);
}

/* The next group to stop: reverse priority, but a group that programs still running in other
 * groups depend on waits for them (dependents first); if every group left waits on another,
 * priority decides. */
static struct pgroup *next_to_stop(struct supervisor *sv)
{
	struct pgroup *fallback = NULL;
	for (size_t i = sv->ngroups; i > 0; i--) {
		struct pgroup *g = sv->groups[i - 1];
		if (group_stopped(g))
			continue;
		if (!deps_live_dependents(sv, g))
			return g;
		if (!fallback)
			fallback = g;
	}
	return fallback;
}

/* supervisord's "waiting for a, b to die": every program not yet stopped, at most every 3 s. */
static void shutdown_report(struct supervisor *sv)
{
	double now = ev_now(sv->loop);
	if (sv->last_shutdown_report && now < sv->last_shutdown_report + 3)
		return;
	struct buf names = {0};
	for (size_t i = 0; i < sv->ngroups; i++) {
		struct pgroup *g = sv->groups[i];
		for (size_t j = 0; j < g->nprocs; j++)
			if (!proc_state_stopped(g->procs[j]->fsm.state))
				buf_printf(&names, "%s%s", names.len ? ", " : "",
					   g->procs[j]->conf->name);
	}
	if (names.len && !names.failed) {
		log_info("waiting for %s to die", names.data);
		sv->last_shutdown_report = now;
	}
	buf_free(&names);
}

/* Groups stop one at a time, each fully before the next. */
static void shutdown_progress(struct supervisor *sv)
{
	if (sv->mood != MOOD_SHUTDOWN)
		return;
	for (struct pgroup *g; (g = next_to_stop(sv));) {
		group_stop_all(sv, g);
		if (!group_stopped(g)) {
			shutdown_report(sv);
			/* wake up regularly to say what we wait for, as supervisord does */
			if (!ev_is_active(&sv->shutdown_timer)) {
				ev_timer_set(&sv->shutdown_timer, 1.0, 0);
				ev_timer_start(sv->loop, &sv->shutdown_timer);
			}
			return;
		}
	}
	finish_stopping(sv);
}

static void shutdown_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct supervisor *sv = container_of(t, struct supervisor, shutdown_timer);
	(void)loop;
	(void)revents;
	shutdown_progress(sv);
}

void supervisor_shutdown(struct supervisor *sv)
{
	if (sv->mood == MOOD_SHUTDOWN)
		return;
	sv->mood = MOOD_SHUTDOWN;
	if (sv->bus.supervisor_state)
		sv->bus.supervisor_state(sv->bus.ctx, EV_SUPERVISOR_STATE_CHANGE_STOPPING);
	config_free(sv->pending);
	sv->pending = NULL;
	shutdown_progress(sv);
}

/* Once every group the new config replaces has stopped: swap them, start the new ones. */
static void reload_progress(struct supervisor *sv)
{
	bool waiting = false;
	for (size_t i = 0; i < sv->ngroups; i++) {
		struct pgroup *g = sv->groups[i];
		if (!g->replaced || group_stopped(g))
			continue;
		group_stop_all(sv, g);
		if (!group_stopped(g))
			waiting = true;
	}
	if (waiting)
		return;
	for (size_t i = sv->ngroups; i > 0; i--)
		if (sv->groups[i - 1]->replaced) {
			log_info("removed process group %s", sv->groups[i - 1]->conf->name);
			supervisor_remove_group(sv, sv->groups[i - 1]);
		}
	struct config *old = sv->cfg;
	sv->cfg = sv->pending;
	sv->pending = NULL;
	if (sv->latest != old)
		config_free(sv->latest);
	sv->latest = NULL;
	log_set_level(sv->cfg->sd.loglevel);
	/* running groups hold references to their own configs: freeing the old file is safe */
	config_free(old);
	if (sv->on_reload)
		sv->on_reload(sv);
	for (size_t i = 0; i < sv->cfg->ngroups; i++) {
		if (supervisor_find_group(sv, sv->cfg->groups[i]->name))
			continue;
		struct pgroup *g = supervisor_add_group(sv, sv->cfg->groups[i]);
		if (!g)
			continue; /* said */
		log_info("added process group %s", g->conf->name);
		for (size_t j = 0; j < g->nprocs; j++)
			process_tick(g->procs[j]);
	}
	log_info("reloaded configuration from %s", sv->config_path);
}

int supervisor_reload(struct supervisor *sv, char **why)
{
	struct diag d = {0};
	if (why)
		*why = NULL;
	if (sv->mood < MOOD_RUNNING) {
		log_warn("ignoring reload request while shutting down");
		return -1;
	}
	struct config *c = config_load(sv->config_path, sv->overrides, &d);
	struct buf errs = {0};
	for (size_t i = 0; i < d.n; i++) {
		bool err = d.items[i].level == DIAG_ERROR;
		log_msg(err ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "%s", d.items[i].text);
		if (err)
			buf_printf(&errs, "%s%s", errs.len ? "; " : "", d.items[i].text);
	}
	diag_free(&d);
	if (!c) {
		log_error("the new configuration has errors; keeping the running one");
		if (why)
			*why = buf_xsteal(&errs);
		buf_free(&errs);
		return -1;
	}
	buf_free(&errs);
	/* a reload during a reload: the newest file wins */
	config_free(sv->pending);
	sv->pending = c;
	/* A group an earlier reload is already stopping stays replaced, even when the newest
	 * file has it as it was: its programs were told to stop, and coming back as a new group
	 * is what starts them again (unmarked, it would be left STOPPED). */
	for (size_t i = 0; i < sv->ngroups; i++) {
		struct pgroup *g = sv->groups[i];
		struct group_conf *ng = config_find_group(c, g->conf->name);
		g->replaced = g->replaced || !ng || !group_conf_equal(g->conf, ng);
	}
	reload_progress(sv);
	return 0;
}

static void forward_signal(struct supervisor *sv, int sig)
{
	bool any = false;
	for (size_t i = 0; i < sv->ngroups; i++)
		for (size_t j = 0; j < sv->groups[i]->nprocs; j++) {
			struct process *p = sv->groups[i]->procs[j];
			if (!(p->conf->forward_signals & (1ULL << sig)) || p->pid <= 0 ||
			    !proc_state_signallable(p->fsm.state))
				continue;
			any = true;
			if (kill(p->pid, sig) == 0)
				log_info("forwarded SIG%s to %s", signal_name(sig), p->conf->name);
		}
	if (!any)
		log_debug("received SIG%s; no program asks for it (forward_signals)",
			  signal_name(sig));
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct supervisor *sv = w->data;
	(void)loop;
	(void)revents;
	switch (w->signum) {
	case SIGCHLD:
		reap(sv);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (sv->mood != MOOD_SHUTDOWN)
			log_warn("received SIG%s indicating exit request", signal_name(w->signum));
		supervisor_shutdown(sv);
		break;
	case SIGHUP:
		if (sv->mood < MOOD_RUNNING) {
			log_warn(
			    "ignored SIGHUP indicating restart request (shutdown in progress)");
			break;
		}
		log_warn("received SIGHUP indicating restart request");
		supervisor_reload(sv, NULL);
		break;
	case SIGUSR2:
		log_info("received SIGUSR2 indicating log reopen request");
		log_reopen();
		log_info("supervisord logreopen");
		for (size_t i = 0; i < sv->ngroups; i++)
			for (size_t j = 0; j < sv->groups[i]->nprocs; j++)
				output_reopen(sv->groups[i]->procs[j]);
		break;
	default:
		forward_signal(sv, w->signum);
		break;
	}
}

static const int handled_signals[] = {
    SIGCHLD, SIGTERM,  SIGINT,	  SIGQUIT, SIGHUP,  SIGUSR2, /* pidvisor's own */
    SIGUSR1, SIGWINCH, SIGALRM,	  SIGPWR,  SIGURG,  SIGTSTP, SIGTTIN,
    SIGTTOU, SIGCONT,  SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, /* forwardable */
};

int supervisor_init(struct supervisor *sv, struct ev_loop *loop, struct config *cfg)
{
	sv->loop = loop;
	sv->cfg = cfg;
	sv->mood = MOOD_RUNNING;
	sv->is_pid1 = getpid() == 1;
	sv->start_wall = time(NULL);
	for (char **e = environ; e && *e; e++)
		sv_push(&sv->env, xstrdup(*e));
	if (cfg->unix_server.enabled && cfg->unix_server.file)
		sv->server_url = xasprintf("unix://%s", cfg->unix_server.file);
	else if (cfg->inet_server.enabled && cfg->inet_server.port) {
		const char *port = cfg->inet_server.port;
		const char *colon = strrchr(port, ':');
		sv->server_url = xasprintf(
		    "http://%s%s", colon && colon != port && port[0] != '*' ? "" : "localhost:",
		    colon ? (colon != port && port[0] != '*' ? port : colon + 1) : port);
	}
	if (!sv->is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(handled_signals); i++) {
		ev_signal *w = &sv->sigs[sv->nsigs++];
		ev_signal_init(w, signal_cb, handled_signals[i]);
		w->data = sv;
		ev_signal_start(loop, w);
		/* signal watchers must not keep the loop alive on their own */
		ev_unref(loop);
	}
	ev_init(&sv->shutdown_timer, shutdown_timer_cb);
	if (!cfg->sd.nocleanup)
		output_cleanup_auto_logs(&cfg->sd);
	for (size_t i = 0; i < cfg->ngroups; i++)
		if (!supervisor_add_group(sv, cfg->groups[i]))
			return -1;
	return 0;
}

int supervisor_run(struct supervisor *sv)
{
	if (sv->bus.supervisor_state)
		sv->bus.supervisor_state(sv->bus.ctx, EV_SUPERVISOR_STATE_CHANGE_RUNNING);
	/* every group in ascending priority, in one pass: supervisord does not wait between them */
	for (size_t i = 0; i < sv->ngroups; i++)
		for (size_t j = 0; j < sv->groups[i]->nprocs; j++)
			process_tick(sv->groups[i]->procs[j]);
	/* the loop must run even with nothing active: signals decide when it ends */
	ev_ref(sv->loop);
	ev_run(sv->loop, 0);
	return sv->exit_status;
}

void supervisor_free(struct supervisor *sv)
{
	while (sv->ngroups)
		supervisor_remove_group(sv, sv->groups[sv->ngroups - 1]);
	free(sv->groups);
	deps_free(sv);
	for (size_t i = 0; i < sv->nsigs; i++) {
		ev_ref(sv->loop);
		ev_signal_stop(sv->loop, &sv->sigs[i]);
	}
	ev_timer_stop(sv->loop, &sv->shutdown_timer);
	sv_free(&sv->env);
	free(sv->server_url);
	config_free(sv->pending);
	if (sv->latest != sv->cfg)
		config_free(sv->latest);
	sv->latest = NULL;
}
