/* supervisord's process state machine, transition by transition, with no fork and no clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fsm.h"

static struct fsm_params params(void)
{
	struct fsm_params p = {
	    .autostart = true,
	    .autorestart = AUTORESTART_UNEXPECTED,
	    .startsecs = 1,
	    .startretries = 3,
	    .stopsignal = 15,
	    .stopwaitsecs = 10,
	};
	parse_exitcodes("0", &p.exitcodes);
	return p;
}

static struct fsm_actions step(struct fsm *f, const struct fsm_params *p, enum fsm_event_type t,
			       double now)
{
	struct fsm_event ev = {.type = t, .now = now, .may_start = true};
	struct fsm_actions a;
	fsm_step(f, p, &ev, &a);
	return a;
}

static struct fsm_actions exited(struct fsm *f, const struct fsm_params *p, double now, int status)
{
	struct fsm_event ev = {
	    .type = FSM_EXITED, .now = now, .exitstatus = status, .may_start = true};
	struct fsm_actions a;
	fsm_step(f, p, &ev, &a);
	return a;
}

/* STOPPED -> STARTING (start request) -> spawned -> RUNNING after startsecs */
static struct fsm running(const struct fsm_params *p)
{
	struct fsm f = {.state = PS_STOPPED};
	struct fsm_actions a = step(&f, p, FSM_START, 100);
	assert_true(a.flags & FSM_DO_SPAWN);
	step(&f, p, FSM_SPAWNED, 100);
	step(&f, p, FSM_TICK, 101);
	assert_int_equal(f.state, PS_RUNNING);
	return f;
}

static void test_autostart_only_before_the_first_start(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	struct fsm_actions a = step(&f, &p, FSM_TICK, 10);
	assert_int_equal(f.state, PS_STARTING);
	assert_true(a.flags & FSM_DO_SPAWN);
	assert_true(f.ever_started);

	/* stopped by request later: autostart does not start it again */
	struct fsm g = {.state = PS_STOPPED, .ever_started = true};
	a = step(&g, &p, FSM_TICK, 10);
	assert_int_equal(g.state, PS_STOPPED);
	assert_false(a.flags & FSM_DO_SPAWN);

	p.autostart = false;
	struct fsm h = {.state = PS_STOPPED};
	a = step(&h, &p, FSM_TICK, 10);
	assert_int_equal(h.state, PS_STOPPED);
	fsm_free(&f);
	fsm_free(&g);
	fsm_free(&h);
}

static void test_starting_to_running_after_startsecs(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 100);
	step(&f, &p, FSM_SPAWNED, 100);
	assert_true(fsm_deadline(&f, &p) == 101);
	step(&f, &p, FSM_TICK, 100.5);
	assert_int_equal(f.state, PS_STARTING);
	struct fsm_actions a = step(&f, &p, FSM_TICK, 101);
	assert_int_equal(f.state, PS_RUNNING);
	assert_int_equal(a.note, NOTE_RUNNING);
	assert_true(fsm_deadline(&f, &p) == 0);

	/* startsecs=0: RUNNING on the first look */
	p.startsecs = 0;
	struct fsm g = {.state = PS_STOPPED};
	step(&g, &p, FSM_TICK, 5);
	step(&g, &p, FSM_SPAWNED, 5);
	step(&g, &p, FSM_TICK, 5);
	assert_int_equal(g.state, PS_RUNNING);
	fsm_free(&f);
	fsm_free(&g);
}

static void test_exit_before_startsecs_is_backoff_whatever_the_code(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 100);
	step(&f, &p, FSM_SPAWNED, 100);
	struct fsm_actions a = exited(&f, &p, 100.2, 0);
	assert_int_equal(f.state, PS_BACKOFF);
	assert_int_equal(a.note, NOTE_EXITED_TOO_QUICKLY);
	assert_string_equal(f.spawnerr, "Exited too quickly (process log may have details)");
	assert_int_equal(f.backoff, 1);
	assert_true(f.delay == 101.2);
	assert_int_equal(f.exitstatus, 0);
	fsm_free(&f);
}

static void test_backoff_retries_then_fatal(void **state)
{
	struct fsm_params p = params(); /* startretries = 3: four spawns in all */
	struct fsm f = {.state = PS_STOPPED};
	double now = 100;
	int spawns = 0;
	double expected_wait[] = {1, 2, 3};
	for (int attempt = 0; attempt < 4; attempt++) {
		struct fsm_actions a = step(&f, &p, FSM_TICK, now);
		assert_true(a.flags & FSM_DO_SPAWN);
		spawns++;
		step(&f, &p, FSM_SPAWNED, now);
		exited(&f, &p, now + 0.1, 1);
		if (attempt < 3) {
			assert_int_equal(f.state, PS_BACKOFF);
			assert_int_equal(f.backoff, attempt + 1);
			/* not before the delay: 1 s, then 2 s, then 3 s */
			double wait = expected_wait[attempt];
			assert_true(fsm_deadline(&f, &p) == now + 0.1 + wait);
			a = step(&f, &p, FSM_TICK, now + 0.1 + wait - 0.01);
			assert_false(a.flags & FSM_DO_SPAWN);
			now = now + 0.1 + wait;
		}
	}
	/* the fourth failure: backoff 4 > startretries 3 */
	struct fsm_actions a = step(&f, &p, FSM_TICK, now + 0.2);
	assert_int_equal(f.state, PS_FATAL);
	assert_int_equal(a.note, NOTE_GAVE_UP);
	assert_int_equal(spawns, 4);
	assert_int_equal(f.backoff, 0);
	/* FATAL stays FATAL */
	a = step(&f, &p, FSM_TICK, now + 100);
	assert_int_equal(f.state, PS_FATAL);
	assert_false(a.flags & FSM_DO_SPAWN);
	fsm_free(&f);
}

static void test_backoff_delays(void **state)
{
	struct fsm_params p = params();
	p.backoff_max = 60;
	double linear[] = {1, 2, 3, 4}, expo[] = {1, 2, 4, 8, 16, 32, 60, 60};
	for (int i = 0; i < 4; i++)
		assert_true(fsm_backoff_delay(&p, i + 1) == linear[i]);
	assert_true(fsm_backoff_delay(&p, 100) == 100); /* supervisord's, exactly */
	p.retry_forever = true;
	assert_true(fsm_backoff_delay(&p, 100) == 60); /* capped when it never gives up */
	p.retry_forever = false;
	p.exponential = true;
	for (int i = 0; i < 8; i++)
		assert_true(fsm_backoff_delay(&p, i + 1) == expo[i]);
	assert_true(fsm_backoff_delay(&p, 1000000) == 60);
}

static void test_retry_forever_never_gives_up(void **state)
{
	struct fsm_params p = params(); /* startretries = 3 */
	p.retry_forever = true;
	p.exponential = true;
	p.backoff_max = 8;
	struct fsm f = {.state = PS_STOPPED};
	double now = 100;
	for (int attempt = 0; attempt < 20; attempt++) {
		struct fsm_actions a = step(&f, &p, FSM_TICK, now);
		assert_true(a.flags & FSM_DO_SPAWN);
		step(&f, &p, FSM_SPAWNED, now);
		exited(&f, &p, now + 0.1, 1);
		assert_int_equal(f.state, PS_BACKOFF);
		double wait = fsm_deadline(&f, &p) - (now + 0.1);
		assert_true(wait == fsm_backoff_delay(&p, attempt + 1));
		assert_true(wait <= 8);
		now += 0.1 + wait;
	}
	fsm_free(&f);
}

static void test_startretries_zero_gives_up_at_once(void **state)
{
	struct fsm_params p = params();
	p.startretries = 0;
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 1);
	step(&f, &p, FSM_SPAWNED, 1);
	exited(&f, &p, 1.1, 1);
	assert_int_equal(f.state, PS_BACKOFF);
	step(&f, &p, FSM_TICK, 1.1);
	assert_int_equal(f.state, PS_FATAL);
	fsm_free(&f);
}

static void test_spawn_error_is_backoff(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 1);
	struct fsm_event ev = {
	    .type = FSM_SPAWN_FAILED, .now = 1, .error = "can't find command 'x'"};
	struct fsm_actions a;
	fsm_step(&f, &p, &ev, &a);
	assert_int_equal(f.state, PS_BACKOFF);
	assert_int_equal(a.note, NOTE_SPAWN_ERROR);
	assert_string_equal(f.spawnerr, "can't find command 'x'");
	assert_false(f.alive);
	/* autorestart does not matter in BACKOFF */
	p.autorestart = AUTORESTART_FALSE;
	a = step(&f, &p, FSM_TICK, 2);
	assert_true(a.flags & FSM_DO_SPAWN);
	step(&f, &p, FSM_SPAWNED, 2);
	assert_string_equal(f.spawnerr, "");
	fsm_free(&f);
}

/* supervisord keeps the whole message: a PATH_MAX path in it is not cut */
static void test_spawn_error_is_kept_whole(void **state)
{
	struct fsm_params p = params();
	struct fsm f;
	fsm_init(&f);
	assert_int_equal(f.state, PS_STOPPED);
	assert_string_equal(f.spawnerr, "");
	static char path[PATH_MAX], msg[FSM_SPAWNERR_MAX + 100];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	snprintf(msg, sizeof(msg), "command at '%s' is not executable", path);
	step(&f, &p, FSM_TICK, 1);
	struct fsm_event ev = {.type = FSM_SPAWN_FAILED, .now = 1, .error = msg};
	struct fsm_actions a;
	fsm_step(&f, &p, &ev, &a);
	assert_int_equal(strlen(f.spawnerr), strlen(msg));
	assert_string_equal(f.spawnerr, msg);
	/* the next failure replaces it, even when its text is the old one's */
	step(&f, &p, FSM_TICK, 3);
	ev = (struct fsm_event){.type = FSM_SPAWN_FAILED, .now = 3, .error = f.spawnerr};
	fsm_step(&f, &p, &ev, &a);
	assert_string_equal(f.spawnerr, msg);
	/* longer than any pidvisor makes: bounded */
	memset(msg, 'b', sizeof(msg) - 1);
	step(&f, &p, FSM_TICK, 6);
	ev.now = 6, ev.error = msg;
	fsm_step(&f, &p, &ev, &a);
	assert_int_equal(strlen(f.spawnerr), FSM_SPAWNERR_MAX - 1);
	assert_memory_equal(f.spawnerr, msg, FSM_SPAWNERR_MAX - 1);
	fsm_free(&f);
	assert_string_equal(f.spawnerr, "");
}

static void test_running_exit_and_autorestart(void **state)
{
	struct fsm_params p = params();
	parse_exitcodes("0,2", &p.exitcodes);

	/* unexpected (default): an expected code is not restarted */
	struct fsm f = running(&p);
	struct fsm_actions a = exited(&f, &p, 200, 2);
	assert_int_equal(f.state, PS_EXITED);
	assert_int_equal(a.note, NOTE_EXITED_EXPECTED);
	a = step(&f, &p, FSM_TICK, 200);
	assert_int_equal(f.state, PS_EXITED);

	/* an unexpected code is restarted, with spawnerr set */
	fsm_free(&f);
	f = running(&p);
	a = exited(&f, &p, 200, 3);
	assert_int_equal(a.note, NOTE_EXITED_UNEXPECTED);
	assert_string_equal(f.spawnerr, "Bad exit code 3");
	assert_int_equal(f.exitstatus, 3);
	a = step(&f, &p, FSM_TICK, 200);
	assert_int_equal(f.state, PS_STARTING);
	assert_true(a.flags & FSM_DO_SPAWN);

	/* a signal death is exit status -1: always unexpected */
	fsm_free(&f);
	f = running(&p);
	exited(&f, &p, 200, -1);
	assert_int_equal(f.exitstatus, -1);
	a = step(&f, &p, FSM_TICK, 200);
	assert_true(a.flags & FSM_DO_SPAWN);

	/* true: always restarted */
	p.autorestart = AUTORESTART_TRUE;
	fsm_free(&f);
	f = running(&p);
	exited(&f, &p, 200, 0);
	a = step(&f, &p, FSM_TICK, 200);
	assert_true(a.flags & FSM_DO_SPAWN);

	/* false: never */
	p.autorestart = AUTORESTART_FALSE;
	fsm_free(&f);
	f = running(&p);
	exited(&f, &p, 200, 9);
	a = step(&f, &p, FSM_TICK, 200);
	assert_int_equal(f.state, PS_EXITED);
	assert_false(a.flags & FSM_DO_SPAWN);
	fsm_free(&f);
}

/* startsecs=0 and an instant exit is EXITED, not BACKOFF: without a pace it would be restarted
 * in a tight loop. Automatic restarts wait FSM_RESTART_INTERVAL from the last start. */
static void test_crash_loop_is_paced(void **state)
{
	struct fsm_params p = params();
	p.startsecs = 0;
	p.autorestart = AUTORESTART_TRUE;
	struct fsm f = {.state = PS_STOPPED};
	double t = 50;
	int spawns = 0;

	/* drive it as the supervisor does: tick at each deadline, exit 1 ms after each spawn */
	while (spawns < 50) {
		struct fsm_actions a = step(&f, &p, FSM_TICK, t);
		if (a.flags & FSM_DO_SPAWN) {
			spawns++;
			step(&f, &p, FSM_SPAWNED, t);
			a = exited(&f, &p, t + 0.001, 1);
			assert_int_equal(f.state, PS_EXITED);
			assert_int_equal(a.note, NOTE_EXITED_UNEXPECTED);
			assert_true(fsm_deadline(&f, &p) == f.laststart + FSM_RESTART_INTERVAL);
			/* nothing before the deadline */
			a = step(&f, &p, FSM_TICK, t + 0.1);
			assert_false(a.flags & FSM_DO_SPAWN);
			assert_int_equal(f.state, PS_EXITED);
		}
		double next = fsm_deadline(&f, &p);
		assert_true(next > t);
		t = next;
	}
	/* 50 starts took 49 intervals: five a second, no faster */
	assert_true(f.laststart - 50 > 49 * FSM_RESTART_INTERVAL - 1e-6);
	assert_true(f.laststart - 50 < 49 * FSM_RESTART_INTERVAL + 1e-6);
	assert_int_equal(f.backoff, 0); /* never BACKOFF, never FATAL: as supervisord */
	fsm_free(&f);
}

static void test_restart_pace_leaves_other_restarts_alone(void **state)
{
	struct fsm_params p = params();
	p.autorestart = AUTORESTART_TRUE;

	/* ran longer than the interval: restarted on the same tick, no timer */
	struct fsm f = running(&p);
	exited(&f, &p, 100 + FSM_RESTART_INTERVAL, 1);
	assert_true(fsm_deadline(&f, &p) == 0);
	struct fsm_actions a = step(&f, &p, FSM_TICK, 100 + FSM_RESTART_INTERVAL);
	assert_true(a.flags & FSM_DO_SPAWN);

	/* a start request is not delayed */
	p.startsecs = 0;
	fsm_free(&f);
	f = (struct fsm){.state = PS_STOPPED};
	step(&f, &p, FSM_START, 7);
	step(&f, &p, FSM_SPAWNED, 7);
	exited(&f, &p, 7.01, 0);
	a = step(&f, &p, FSM_START, 7.02);
	assert_true(a.flags & FSM_DO_SPAWN);
	assert_int_equal(f.state, PS_STARTING);

	/* the clock went back an hour since the start: still at most one interval */
	fsm_free(&f);
	f = (struct fsm){.state = PS_STOPPED};
	step(&f, &p, FSM_START, 3608);
	step(&f, &p, FSM_SPAWNED, 3608);
	exited(&f, &p, 8, 1);
	assert_true(fsm_deadline(&f, &p) <= 8 + FSM_RESTART_INTERVAL);
	a = step(&f, &p, FSM_TICK, 8 + FSM_RESTART_INTERVAL);
	assert_true(a.flags & FSM_DO_SPAWN);

	/* not restarting: the timer fires once and is not armed again */
	p.autorestart = AUTORESTART_FALSE;
	fsm_free(&f);
	f = (struct fsm){.state = PS_STOPPED};
	step(&f, &p, FSM_START, 9);
	step(&f, &p, FSM_SPAWNED, 9);
	exited(&f, &p, 9.01, 0);
	double at = fsm_deadline(&f, &p);
	a = step(&f, &p, FSM_TICK, at);
	assert_false(a.flags & FSM_DO_SPAWN);
	assert_true(fsm_deadline(&f, &p) == 0);

	/* shutting down at the deadline: no restart, and no timer left to spin on */
	p.autorestart = AUTORESTART_TRUE;
	fsm_free(&f);
	f = (struct fsm){.state = PS_STOPPED};
	step(&f, &p, FSM_START, 9);
	step(&f, &p, FSM_SPAWNED, 9);
	exited(&f, &p, 9.01, 0);
	struct fsm_event ev = {.type = FSM_TICK, .now = fsm_deadline(&f, &p), .may_start = false};
	fsm_step(&f, &p, &ev, &a);
	assert_false(a.flags & FSM_DO_SPAWN);
	assert_int_equal(f.state, PS_EXITED);
	assert_true(fsm_deadline(&f, &p) == 0);
	fsm_free(&f);
}

static void test_exit_from_running_resets_backoff(void **state)
{
	struct fsm_params p = params();
	struct fsm f = running(&p);
	f.backoff = 2;
	exited(&f, &p, 300, 1);
	assert_int_equal(f.backoff, 0);
	fsm_free(&f);
}

static void test_stop_signals_then_sigkill(void **state)
{
	struct fsm_params p = params();
	struct fsm f = running(&p);
	struct fsm_actions a = step(&f, &p, FSM_STOP, 500);
	assert_int_equal(f.state, PS_STOPPING);
	assert_true(a.flags & FSM_DO_SIGNAL);
	assert_int_equal(a.signal, 15);
	assert_false(a.to_group);
	assert_true(fsm_deadline(&f, &p) == 510);

	a = step(&f, &p, FSM_TICK, 509);
	assert_false(a.flags & FSM_DO_SIGNAL);
	a = step(&f, &p, FSM_TICK, 510);
	assert_true(a.flags & FSM_DO_SIGNAL);
	assert_int_equal(a.signal, 9);
	assert_int_equal(a.note, NOTE_KILLING);
	assert_int_equal(f.state, PS_STOPPING);	  /* state unchanged by the SIGKILL */
	assert_true(fsm_deadline(&f, &p) == 520); /* and again every stopwaitsecs */

	a = exited(&f, &p, 511, -1);
	assert_int_equal(f.state, PS_STOPPED);
	assert_int_equal(a.note, NOTE_STOPPED);
	assert_false(f.killing);
	/* a stopped process is not restarted, whatever autorestart says */
	p.autorestart = AUTORESTART_TRUE;
	a = step(&f, &p, FSM_TICK, 600);
	assert_int_equal(f.state, PS_STOPPED);
	fsm_free(&f);
}

static void test_stopasgroup_and_killasgroup_aim(void **state)
{
	struct fsm_params p = params();
	p.stopasgroup = true;
	p.killasgroup = true;
	struct fsm f = running(&p);
	struct fsm_actions a = step(&f, &p, FSM_STOP, 500);
	assert_true(a.to_group);
	a = step(&f, &p, FSM_TICK, 510);
	assert_true(a.to_group);

	p.stopasgroup = false;
	p.killasgroup = true;
	fsm_free(&f);
	f = running(&p);
	a = step(&f, &p, FSM_STOP, 500);
	assert_false(a.to_group);
	a = step(&f, &p, FSM_TICK, 510);
	assert_true(a.to_group);
	fsm_free(&f);
}

static void test_stop_while_starting(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 1);
	step(&f, &p, FSM_SPAWNED, 1);
	struct fsm_actions a = step(&f, &p, FSM_STOP, 1.2);
	assert_int_equal(f.state, PS_STOPPING);
	assert_true(a.flags & FSM_DO_SIGNAL);
	/* an exit after a stop request is STOPPED, not BACKOFF */
	exited(&f, &p, 1.3, -1);
	assert_int_equal(f.state, PS_STOPPED);
	fsm_free(&f);
}

static void test_stop_from_backoff_is_stopped(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 1);
	step(&f, &p, FSM_SPAWNED, 1);
	exited(&f, &p, 1.1, 1);
	assert_int_equal(f.state, PS_BACKOFF);
	struct fsm_actions a = step(&f, &p, FSM_STOP, 1.2);
	assert_int_equal(f.state, PS_STOPPED);
	assert_int_equal(a.note, NOTE_STOPPED_FROM_BACKOFF);
	assert_false(a.flags & FSM_DO_SIGNAL);
	/* the backoff count is kept (supervisord resets it only on RUNNING, exit, FATAL) */
	assert_int_equal(f.backoff, 1);
	fsm_free(&f);
}

static void test_stop_when_not_running_does_nothing(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_EXITED, .ever_started = true};
	struct fsm_actions a = step(&f, &p, FSM_STOP, 1);
	assert_int_equal(f.state, PS_EXITED);
	assert_int_equal(a.flags, 0);
	fsm_free(&f);
}

static void test_start_request(void **state)
{
	struct fsm_params p = params();
	p.autostart = false;
	enum proc_state from[] = {PS_STOPPED, PS_EXITED, PS_FATAL};
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		struct fsm f = {.state = from[i], .ever_started = from[i] != PS_STOPPED};
		struct fsm_actions a = step(&f, &p, FSM_START, 50);
		assert_int_equal(f.state, PS_STARTING);
		assert_true(a.flags & FSM_DO_SPAWN);
		assert_true(f.laststart == 50);
	}
	/* BACKOFF is in supervisord's running set: only its retry timer spawns again */
	struct fsm b = {.state = PS_BACKOFF, .ever_started = true, .backoff = 1, .delay = 99};
	struct fsm_actions r = step(&b, &p, FSM_START, 50);
	assert_int_equal(b.state, PS_BACKOFF);
	assert_false(r.flags & FSM_DO_SPAWN);
	/* RUNNING: refused (the caller answers ALREADY_STARTED) */
	struct fsm g = running(&p);
	struct fsm_actions a = step(&g, &p, FSM_START, 50);
	assert_int_equal(g.state, PS_RUNNING);
	assert_false(a.flags & FSM_DO_SPAWN);
	fsm_free(&b);
	fsm_free(&g);
}

static void test_nothing_starts_while_shutting_down(void **state)
{
	struct fsm_params p = params();
	p.autorestart = AUTORESTART_TRUE;
	struct fsm f = running(&p);
	exited(&f, &p, 10, 1);
	struct fsm_event ev = {.type = FSM_TICK, .now = 10, .may_start = false};
	struct fsm_actions a;
	fsm_step(&f, &p, &ev, &a);
	assert_int_equal(f.state, PS_EXITED);
	struct fsm g = {.state = PS_STOPPED};
	fsm_step(&g, &p, &ev, &a);
	assert_int_equal(g.state, PS_STOPPED);
	fsm_free(&f);
	fsm_free(&g);
}

static void test_give_up_at_shutdown(void **state)
{
	struct fsm_params p = params();
	struct fsm f = {.state = PS_STOPPED};
	step(&f, &p, FSM_TICK, 1);
	step(&f, &p, FSM_SPAWNED, 1);
	exited(&f, &p, 1.1, 1);
	struct fsm_actions a = step(&f, &p, FSM_GIVE_UP, 1.2);
	assert_int_equal(f.state, PS_FATAL);
	assert_int_equal(a.note, NOTE_GAVE_UP);
	/* only BACKOFF gives up */
	struct fsm g = running(&p);
	step(&g, &p, FSM_GIVE_UP, 2);
	assert_int_equal(g.state, PS_RUNNING);
	fsm_free(&f);
	fsm_free(&g);
}

static void test_kill_failure_is_unknown(void **state)
{
	struct fsm_params p = params();
	struct fsm f = running(&p);
	step(&f, &p, FSM_STOP, 3);
	struct fsm_actions a = step(&f, &p, FSM_KILL_FAILED, 3);
	assert_int_equal(f.state, PS_UNKNOWN);
	assert_int_equal(a.note, NOTE_UNKNOWN);
	assert_false(f.killing);
	fsm_free(&f);
}

static void test_state_names_and_sets(void **state)
{
	assert_string_equal(proc_state_name(PS_STOPPED), "STOPPED");
	assert_string_equal(proc_state_name(PS_BACKOFF), "BACKOFF");
	assert_string_equal(proc_state_name(PS_UNKNOWN), "UNKNOWN");
	assert_int_equal(PS_EXITED, 100);
	assert_int_equal(PS_FATAL, 200);
	assert_true(proc_state_running(PS_BACKOFF));
	assert_false(proc_state_running(PS_STOPPING));
	assert_true(proc_state_stopped(PS_UNKNOWN));
	assert_false(proc_state_stopped(PS_STOPPING));
	assert_true(proc_state_signallable(PS_STOPPING));
	assert_false(proc_state_signallable(PS_BACKOFF));
}

/* A ready= program spawned at `now`, STARTING. */
static struct fsm ready_spawned(const struct fsm_params *p, double now)
{
	struct fsm f = {.state = PS_STOPPED};
	step(&f, p, FSM_START, now);
	step(&f, p, FSM_SPAWNED, now);
	assert_int_equal(f.state, PS_STARTING);
	return f;
}

/* ready=: STARTING until the program says so, RUNNING once ready and startsecs passed */
static void test_ready_waits_for_the_program(void **state)
{
	struct fsm_params p = params();
	p.need_ready = true;
	p.ready_timeout = 60;
	struct fsm f = ready_spawned(&p, 100);
	step(&f, &p, FSM_TICK, 105);
	assert_int_equal(f.state, PS_STARTING);
	assert_true(fsm_deadline(&f, &p) == 160);
	step(&f, &p, FSM_READY, 106);
	assert_int_equal(f.state, PS_RUNNING);
	assert_true(f.ready);

	/* ready early: startsecs still applies */
	struct fsm g = ready_spawned(&p, 100);
	step(&g, &p, FSM_READY, 100.5);
	assert_int_equal(g.state, PS_STARTING);
	assert_true(fsm_deadline(&g, &p) == 101);
	struct fsm_actions a = step(&g, &p, FSM_TICK, 101);
	assert_int_equal(g.state, PS_RUNNING);
	assert_int_equal(a.note, NOTE_RUNNING);

	/* a new spawn forgets the last run's readiness */
	struct fsm_event ev = {.type = FSM_SPAWNED, .now = 200};
	fsm_step(&g, &p, &ev, &a);
	assert_false(g.ready);
	fsm_free(&f);
	fsm_free(&g);
}

static void test_ready_timeout_is_a_failed_start(void **state)
{
	struct fsm_params p = params();
	p.need_ready = true;
	p.ready_timeout = 5;
	struct fsm f = ready_spawned(&p, 100);
	/* EXTEND_TIMEOUT_USEC moves the deadline */
	struct fsm_event ev = {.type = FSM_EXTEND, .now = 104, .extend = 3};
	struct fsm_actions a;
	fsm_step(&f, &p, &ev, &a);
	assert_true(fsm_deadline(&f, &p) == 107);
	a = step(&f, &p, FSM_TICK, 105);
	assert_false(a.flags & FSM_DO_SIGNAL);
	a = step(&f, &p, FSM_TICK, 107);
	assert_int_equal(a.note, NOTE_NOT_READY);
	assert_true(a.flags & FSM_DO_SIGNAL);
	assert_int_equal(a.signal, 15);
	assert_int_equal(f.state, PS_STARTING);
	/* too late to be ready now; stopwaitsecs later, SIGKILL */
	step(&f, &p, FSM_READY, 108);
	assert_int_equal(f.state, PS_STARTING);
	a = step(&f, &p, FSM_TICK, 117);
	assert_int_equal(a.signal, 9);
	exited(&f, &p, 117.5, -1);
	assert_int_equal(f.state, PS_BACKOFF);
	assert_string_equal(f.spawnerr, "not ready within 5 seconds (ready_timeout)");
	assert_int_equal(f.backoff, 1);
	fsm_free(&f);
}

static void test_exit_before_ready_is_a_failed_start(void **state)
{
	struct fsm_params p = params();
	p.need_ready = true;
	p.ready_timeout = 0; /* waits for ever */
	struct fsm f = ready_spawned(&p, 100);
	assert_true(fsm_deadline(&f, &p) == 0);
	exited(&f, &p, 500, 0);
	assert_int_equal(f.state, PS_BACKOFF);
	assert_string_equal(f.spawnerr,
			    "Exited before it was ready (process log may have details)");
	fsm_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_autostart_only_before_the_first_start),
	    cmocka_unit_test(test_starting_to_running_after_startsecs),
	    cmocka_unit_test(test_exit_before_startsecs_is_backoff_whatever_the_code),
	    cmocka_unit_test(test_backoff_retries_then_fatal),
	    cmocka_unit_test(test_startretries_zero_gives_up_at_once),
	    cmocka_unit_test(test_spawn_error_is_backoff),
	    cmocka_unit_test(test_running_exit_and_autorestart),
	    cmocka_unit_test(test_crash_loop_is_paced),
	    cmocka_unit_test(test_restart_pace_leaves_other_restarts_alone),
	    cmocka_unit_test(test_exit_from_running_resets_backoff),
	    cmocka_unit_test(test_stop_signals_then_sigkill),
	    cmocka_unit_test(test_stopasgroup_and_killasgroup_aim),
	    cmocka_unit_test(test_stop_while_starting),
	    cmocka_unit_test(test_stop_from_backoff_is_stopped),
	    cmocka_unit_test(test_stop_when_not_running_does_nothing),
	    cmocka_unit_test(test_start_request),
	    cmocka_unit_test(test_nothing_starts_while_shutting_down),
	    cmocka_unit_test(test_give_up_at_shutdown),
	    cmocka_unit_test(test_kill_failure_is_unknown),
	    cmocka_unit_test(test_state_names_and_sets),
	    cmocka_unit_test(test_backoff_delays),
	    cmocka_unit_test(test_spawn_error_is_kept_whole),
	    cmocka_unit_test(test_retry_forever_never_gives_up),
	    cmocka_unit_test(test_ready_waits_for_the_program),
	    cmocka_unit_test(test_ready_timeout_is_a_failed_start),
	    cmocka_unit_test(test_exit_before_ready_is_a_failed_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
