"""depends_on as PID 1 of a PID namespace: readiness-gated starts (healthy, completed,
running), the wait shown in status, a FATAL dependency, dependency-ordered shutdown, fail-fast
after an orderly stop, and the config checks."""
import re
import signal
import subprocess
from datetime import datetime

from harness import PIDVISOR, wait_until
from test_health import free_port, server


def stamp(log, pattern):
    m = re.search(r"^(\S+ \S+) \w+ " + pattern, log, re.M)
    assert m, f"/{pattern}/ not in log:\n{log}"
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")


def ctl_status(d, tmp_path):
    return subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "status"],
                          capture_output=True, text=True).stdout


# A program that writes its name to ./order when it gets SIGTERM, and ready-NAME once its trap
# is set (startsecs=0 is RUNNING at the spawn, before the shell has read its first line).
TRAP = ("command=sh -c 'trap \"echo %(program_name)s >> %(here)s/order; exit 0\" TERM; "
        "touch %(here)s/ready-%(program_name)s; while :; do sleep 0.05; done'\nstartsecs=0\n")


def wait_ready(tmp_path, *names):
    wait_until(lambda: all((tmp_path / f"ready-{n}").exists() for n in names), timeout=30,
               what=f"the traps of {', '.join(names)}")


def test_app_starts_only_once_its_database_is_healthy(run, tmp_path):
    port = free_port()
    (tmp_path / "healthy").write_text("yes")
    # the "database" listens once the test has seen app waiting
    conf = (f"[program:db]\ncommand=sh -c 'until [ -e {tmp_path}/go ]; do sleep 0.05; done; "
            f"exec python3 {tmp_path}/server.py {port} {tmp_path}'\nstartsecs=0\n"
            f"healthcheck=http://127.0.0.1:{port}/\nhealthcheck_interval=0.1s\n\n"
            "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n\n")
    server(tmp_path, port)  # writes server.py
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"spawned: 'db'", timeout=30)
    wait_until(lambda: "waiting for db (healthy)" in ctl_status(d, tmp_path), timeout=30,
               what="app waiting in status")
    assert "spawned: 'app'" not in d.log()
    (tmp_path / "go").touch()
    d.wait_log(r"spawned: 'app'", timeout=30)
    log = d.log()
    assert stamp(log, r"db is healthy") <= stamp(log, r"spawned: 'app'")


def test_one_shot_migration_gates_the_app(run, tmp_path):
    conf = ("[program:migrate]\ncommand=sh -c 'sleep 0.5; echo migrated > %(here)s/migrated'\n"
            "startsecs=0\nautorestart=false\n\n"
            "[program:app]\ncommand=sh -c 'test -e %(here)s/migrated && exec sleep 1000'\n"
            "startsecs=0\nautorestart=false\ndepends_on=migrate:completed\n\n")
    d = run("pidvisor", conf)
    d.wait_log(r"spawned: 'app'", timeout=10)
    log = d.log()
    assert stamp(log, r"exited: migrate \(exit status 0; expected\)") <= stamp(
        log, r"spawned: 'app'")
    d.wait_log(r"success: app entered RUNNING")
    assert "exited: app" not in d.log()


def test_a_fatal_dependency_leaves_dependents_stopped_with_the_reason(run, tmp_path):
    conf = ("[program:db]\ncommand=/nonexistent/db\nstartretries=0\n\n"
            "[program:app]\ncommand=sleep 1000\ndepends_on=db\n\n"
            "[program:worker]\ncommand=sleep 1000\ndepends_on=app:started\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"gave up: db entered FATAL")
    wait_until(lambda: re.search(r"app\s+STOPPED\s+not started: db is FATAL",
                                 ctl_status(d, tmp_path)), timeout=5, what="app's reason")
    status = ctl_status(d, tmp_path)
    assert re.search(r"worker\s+STOPPED\s+waiting for app \(started\)", status), status
    assert "spawned: 'app'" not in d.log()


def test_shutdown_stops_dependents_first(run, tmp_path):
    """By priority alone the order is db (999), cron (500), web (1); web depends on db, so db
    waits for it: cron, web, db."""
    conf = (f"[program:db]\n{TRAP}priority=999\n\n"
            f"[program:web]\n{TRAP}priority=1\ndepends_on=db\n\n"
            f"[program:cron]\n{TRAP}priority=500\n\n")
    d = run("pidvisor", conf)
    wait_ready(tmp_path, "db", "web", "cron")
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=30) == 0
    assert (tmp_path / "order").read_text().split() == ["cron", "web", "db"]


def test_priority_alone_keeps_supervisords_order(run, tmp_path):
    conf = "".join(f"[program:{n}]\n{TRAP}priority={p}\n\n"
                   for n, p in (("a", 1), ("b", 500), ("c", 999)))
    d = run("pidvisor", conf)
    wait_ready(tmp_path, "a", "b", "c")
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=30) == 0
    assert (tmp_path / "order").read_text().split() == ["c", "b", "a"]


def test_fatal_essential_program_ends_pidvisor_after_an_ordered_stop(run, tmp_path):
    conf = (f"[program:db]\n{TRAP}priority=1\n\n"
            f"[program:api]\n{TRAP}priority=2\ndepends_on=db\n\n"
            # exits once the others' traps are set (past startsecs on a loaded machine, the
            # first run is restarted, and the second exits at once: FATAL either way)
            "[program:essential]\ncommand=sh -c 'until [ -e %(here)s/ready-db ] && "
            "[ -e %(here)s/ready-api ]; do sleep 0.05; done; exit 7'\nstartsecs=1\n"
            "startretries=0\nshutdown_on=fatal\ndepends_on=db\n\n")
    d = run("pidvisor", conf)
    assert d.proc.wait(timeout=60) == 7, d.log()
    assert (tmp_path / "order").read_text().split() == ["api", "db"]


def test_config_checks_name_file_and_line(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("[supervisord]\n"
                    "[program:a]\ncommand=sleep 1\ndepends_on=b\n"
                    "[program:b]\ncommand=sleep 1\ndepends_on=a:started\n"
                    "[program:c]\ncommand=sleep 1\ndepends_on=nope, a:healthy, b:sometimes\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert "s.conf:10: [program:c] depends_on: 'sometimes' is not a condition" in r.stdout + r.stderr
    conf.write_text(conf.read_text().replace(", b:sometimes", ""))
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 2
    assert "s.conf:10: [program:c] depends_on: no program named 'nope'" in out
    assert "s.conf:10: [program:c] depends_on: 'a:healthy' needs a healthcheck in [program:a]" in out
    conf.write_text(conf.read_text().replace("depends_on=nope, a:healthy", "depends_on=a"))
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert "s.conf:7: [program:b] depends_on: a cycle: b -> a -> b" in r.stdout + r.stderr


def test_a_finished_one_shot_satisfies_the_default_condition(run, tmp_path):
    """depends_on written for other supervisors names one-shots with the default condition. A
    one-shot that had already exited when the last other condition came to hold (db, RUNNING
    after 2 s) kept its dependent STOPPED for ever: `running` no longer held for it."""
    conf = ("[program:init]\ncommand=sh -c 'echo done > %(here)s/init'\nstartsecs=0\n"
             "autorestart=false\n\n"
             "[program:db]\ncommand=sleep 1000\nstartsecs=2\n\n"
             "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=init, db\n\n"
             "[program:broken]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n\n"
             "[program:after_broken]\ncommand=sleep 1000\ndepends_on=broken, db\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"success: app entered RUNNING", timeout=20)
    log = d.log()
    assert stamp(log, r"exited: init \(exit status 0; expected\)") <= stamp(
        log, r"success: db entered RUNNING") <= stamp(log, r"spawned: 'app'")
    # an unexpected exit is no success: that dependent still waits
    assert re.search(r"exited: broken \(exit status 3; not expected\)", log), log
    wait_until(lambda: re.search(r"after_broken\s+STOPPED\s+waiting for broken \(running\)",
                                 ctl_status(d, tmp_path)), timeout=30, what="after_broken waits")
    assert "spawned: 'after_broken'" not in d.log()
    # the one-shot ran once
    assert d.log().count("spawned: 'init'") == 1


def test_check_config_warns_of_a_dependency_nothing_starts(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("[supervisord]\n"
                    "[program:db]\ncommand=sleep 1\nautostart=false\n"
                    "[program:app]\ncommand=sleep 1\ndepends_on=db\n"
                    "[program:manual]\ncommand=sleep 1\nautostart=false\ndepends_on=db\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert ("s.conf:7: warning: [program:app] depends_on: 'db' (running) can only hold once something "
            "starts [program:db], which has autostart=false") in out
    # started by hand, manual starts db first: nothing to warn about
    assert "[program:manual]" not in out
    conf.write_text(conf.read_text().replace("autostart=false\n[program:app]", "\n[program:app]"))
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_on_unhealthy_needs_a_healthcheck(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("[supervisord]\n[program:a]\ncommand=sleep 1\non_unhealthy=restart\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert "s.conf:4: [program:a] on_unhealthy: needs a healthcheck" in r.stdout + r.stderr


def test_check_counts_health_and_ready_waits_for_dependencies(run, tmp_path):
    conf = ("[program:db]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:test -e %(here)s/db-up\nhealthcheck_interval=0.1s\n"
            "healthcheck_retries=100\n\n"
            "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n\n")
    d = run("pidvisor", conf, control=True)
    check = [PIDVISOR, "check", "-c", str(d.conf_path)]
    wait_until(lambda: "waiting for db (healthy)" in ctl_status(d, tmp_path), timeout=30,
               what="app waiting")
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode == 0, "a check still starting or a wait is no HEALTHCHECK failure"
    r = subprocess.run(check + ["--ready"], capture_output=True, text=True)
    assert r.returncode == 1 and "app is STOPPED (waiting for db (healthy))" in r.stdout
    assert re.search(r"db\s+RUNNING\s+pid \d+, uptime \S+, starting", ctl_status(d, tmp_path))
    (tmp_path / "db-up").write_text("")
    d.wait_log(r"spawned: 'app'", timeout=30)
    wait_until(lambda: subprocess.run(check + ["--ready"]).returncode == 0, timeout=30,
               what="ready")
    assert re.search(r"db\s+RUNNING\s+pid \d+, uptime \S+, healthy", ctl_status(d, tmp_path))


def test_ctl_stop_names_dependents_and_force_stops_them_first(run, tmp_path):
    conf = ("[program:db]\ncommand=sleep 1000\nstartsecs=0\n\n"
            "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"success: app entered RUNNING", timeout=10)
    ctl = [PIDVISOR, "ctl", "-c", str(d.conf_path)]
    r = subprocess.run(ctl + ["stop", "db"], capture_output=True, text=True)
    assert r.stdout == "db: stopped\n", r.stdout
    assert "note: app depends on it; `stop --force` stops it first" in r.stderr
    assert re.search(r"app\s+RUNNING", ctl_status(d, tmp_path))
    subprocess.run(ctl + ["start", "db"], capture_output=True)
    r = subprocess.run(ctl + ["stop", "--force", "db"], capture_output=True, text=True)
    assert r.stdout == "app: stopped\ndb: stopped\n", r.stdout
    # ctl start app starts what it depends on first
    r = subprocess.run(ctl + ["start", "app"], capture_output=True, text=True)
    assert r.stdout == "app: started\n", r.stdout + r.stderr
    assert re.search(r"db\s+RUNNING", ctl_status(d, tmp_path))
