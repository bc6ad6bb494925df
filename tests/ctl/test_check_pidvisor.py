"""pidvisor check against pidvisor (and its modes against supervisord too, where the state
exists there): the probe a HEALTHCHECK or a Kubernetes probe runs every few seconds."""
import subprocess

from harness import PIDVISOR, wait_until

PROGRAMS = """
[program:web]
command=sleep 1000
startsecs=0
[program:migrate]
command=sh -c 'exit 0'
startsecs=0
autorestart=false
[program:manual]
command=sleep 1000
autostart=false
{extra}
"""


def check(conf, *names):
    r = subprocess.run([PIDVISOR, "check", "-c", str(conf), *names], capture_output=True,
                       text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr


def test_healthy_with_a_finished_one_shot(run, tmp_path):
    d = run("pidvisor", PROGRAMS.format(extra=""), control=True)
    d.wait_log(r"exited: migrate \(exit status 0; expected\)")
    d.wait_log(r"success: web entered RUNNING")
    # supervisorctl status exits 3 here (Supervisor #1223); the probe says healthy
    assert subprocess.run(["supervisorctl", "-c", str(d.conf_path), "status"],
                          capture_output=True).returncode == 3
    rc, out = check(d.conf_path)
    assert rc == 0, out
    rc, out = check(d.conf_path, "manual")
    assert rc != 0 and "manual" in out and "STOPPED" in out


def test_unhealthy_when_a_program_is_fatal(run, tmp_path):
    d = run("pidvisor", PROGRAMS.format(extra="[program:broken]\ncommand=/bin/false\n"
                                            "startsecs=3\nstartretries=0\n"), control=True)
    d.wait_log(r"gave up: broken entered FATAL state")
    rc, out = check(d.conf_path)
    assert rc == 1 and "broken" in out and "FATAL" in out, out
    rc, out = check(d.conf_path, "web")
    assert rc == 0, out


def test_cannot_connect(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(f"[supervisorctl]\nserverurl=unix://{tmp_path}/nothing.sock\n")
    rc, out = check(conf)
    assert rc not in (0, 1) and out


# The three modes (docs/pidvisor-check.1), against both servers where the state exists in both.
MODES = """
[program:web]
command=sleep 1000
startsecs=0
{extra}
"""


def probe(d, *args):
    r = subprocess.run([PIDVISOR, "check", "-s", d.url, *args], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def test_an_operators_stop_is_never_a_failure(run, impl, tmp_path):
    d = run(impl, MODES.format(extra=""), control=True)
    d.wait_settled({"web": "RUNNING"})
    r = subprocess.run(["supervisorctl", "-s", d.url, "stop", "web"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    d.wait_settled({"web": "STOPPED"})
    assert probe(d) == (0, "healthy: 1 process\n")
    assert probe(d, "--alive", "web") == (0, "healthy: 1 process\n")
    assert probe(d, "--ready") == (0, "healthy: 1 process\n")


def test_a_restart_loop_is_not_a_failure_while_it_retries(run, impl, tmp_path):
    # crashes before startsecs (STARTING, BACKOFF) and after it (RUNNING, EXITED, STARTING)
    extra = ("[program:crashy]\ncommand=sh -c 'exit 1'\nstartsecs=30\nstartretries=1000\n"
             "[program:flappy]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=0\n")
    d = run(impl, MODES.format(extra=extra), control=True)
    d.wait_log(r"spawned: 'crashy'", count=2, timeout=30)
    d.wait_log(r"exited: flappy \(exit status 3; not expected\)", count=2, timeout=30)
    for _ in range(3):
        assert probe(d) == (0, "healthy: 3 processes\n")
        assert probe(d, "--alive", "crashy", "flappy") == (0, "healthy: 2 processes\n")
        d.wait_log(r"exited: flappy", count=d.log().count("exited: flappy") + 1, timeout=30)
    rc, out = probe(d, "--ready", "crashy")
    assert rc == 1 and out.startswith("unhealthy: crashy is "), out
    assert "FATAL" not in d.log() and "gave up" not in d.log()


def test_fatal_fails_the_default_and_a_named_alive(run, impl, tmp_path):
    extra = "[program:broken]\ncommand=/bin/false\nstartsecs=3\nstartretries=0\n"
    d = run(impl, MODES.format(extra=extra), control=True)
    d.wait_log(r"gave up: broken entered FATAL state")
    d.wait_settled({"web": "RUNNING"})
    assert probe(d) == (1, "unhealthy: broken is FATAL\n")
    assert probe(d, "--ready") == (1, "unhealthy: broken is FATAL\n")
    assert probe(d, "--alive", "broken", "web") == (1, "unhealthy: broken is FATAL\n")
    # not essential: only the answer counts
    assert probe(d, "--alive") == (0, "healthy: 0 processes\n")
    assert probe(d, "--alive", "web") == (0, "healthy: 1 process\n")


def test_an_unexpected_exit_that_stays_fails_once_no_restart_came(run, impl, tmp_path):
    extra = "[program:job]\ncommand=sh -c 'exit 4'\nstartsecs=0\nautorestart=false\n"
    d = run(impl, MODES.format(extra=extra), control=True)
    d.wait_settled({"job": "EXITED", "web": "RUNNING"})
    # EXITED may be a restart in progress for a few seconds; then it is a failure
    wait_until(lambda: probe(d)[0] == 1, timeout=30, what="the exit to count")
    assert probe(d) == (1, "unhealthy: job is EXITED (exit status 4)\n")
    assert probe(d, "--alive", "job") == (0, "healthy: 1 process\n")


def test_unhealthy_fails_the_default_not_alive(run, tmp_path):
    extra = ("[program:sick]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=cmd:false\n"
             "healthcheck_interval=0.1s\nhealthcheck_retries=1\n")
    d = run("pidvisor", MODES.format(extra=extra), control=True)
    d.wait_log(r"sick is unhealthy")
    assert probe(d) == (1, "unhealthy: sick is RUNNING but unhealthy\n")
    assert probe(d, "--alive", "sick") == (0, "healthy: 1 process\n")


def test_waiting_for_depends_on_fails_ready_only(run, tmp_path):
    extra = ("[program:db]\ncommand=sleep 1000\nstartsecs=0\n"
             "healthcheck=cmd:test -e %(here)s/db-up\nhealthcheck_interval=0.1s\n"
             "healthcheck_retries=1000\n"
             "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n")
    d = run("pidvisor", MODES.format(extra=extra), control=True)
    d.wait_log(r"spawned: 'db'")
    wait_until(lambda: "waiting for db" in probe(d, "--ready")[1], timeout=30,
               what="app waiting")
    # db's check has not passed yet: starting, like STARTING
    assert probe(d) == (0, "healthy: 3 processes\n")
    assert probe(d, "--alive", "app", "db") == (0, "healthy: 2 processes\n")
    assert probe(d, "--ready") == (
        1, "unhealthy: app is STOPPED (waiting for db (healthy)), db is RUNNING but starting\n")
    (d.tmp / "db-up").write_text("")
    d.wait_log(r"spawned: 'app'")
    wait_until(lambda: probe(d, "--ready")[0] == 0, timeout=30, what="ready")


def test_alive_and_ready_exclude_each_other(tmp_path):
    r = subprocess.run([PIDVISOR, "check", "--alive", "--ready"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "exclude each other" in r.stderr


def test_on_unhealthy_restart_in_progress_is_not_a_failure(run, tmp_path):
    """The case that had Swarm kill a container pidvisor was healing: the program is unhealthy,
    on_unhealthy=restart restarts it, and the probe runs meanwhile."""
    extra = ("[program:sick]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=cmd:false\n"
             "healthcheck_interval=0.1s\nhealthcheck_retries=1\non_unhealthy=restart\n")
    d = run("pidvisor", MODES.format(extra=extra), control=True)
    for n in range(1, 4):
        d.wait_log(r"sick is unhealthy", count=n, timeout=30)
        assert probe(d) == (0, "healthy: 2 processes\n")
    d.wait_log(r"spawned: 'sick'", count=3, timeout=30)


def test_held_back_by_a_fatal_dependency_fails_every_mode(run, tmp_path):
    extra = ("[program:db]\ncommand=/bin/false\nstartsecs=3\nstartretries=0\n"
             "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n")
    d = run("pidvisor", MODES.format(extra=extra), control=True)
    d.wait_log(r"gave up: db entered FATAL state")
    wait_until(lambda: "not started: db is FATAL" in probe(d, "app")[1], timeout=30,
               what="app held back")
    held = "app is STOPPED (not started: db is FATAL)"
    assert probe(d) == (1, f"unhealthy: {held}, db is FATAL\n")
    assert probe(d, "--ready", "app") == (1, f"unhealthy: {held}\n")
    assert probe(d, "--alive", "app") == (1, f"unhealthy: {held}\n")
