"""Process lifecycle as supervisord's state machine, run against pidvisor and the real supervisord."""
import os
import re
import signal

import psutil

from harness import wait_until


def spawn_order(log):
    return re.findall(r"spawned: '([^']+)'", log)


def test_spawns_in_priority_order(run, impl):
    conf = "".join(
        f"[program:p{prio}]\ncommand=sleep 1000\npriority={prio}\nstartsecs=0\n\n"
        for prio in (30, 10, 20, 5)
    )
    d = run(impl, conf)
    d.wait_log(r"success: p\d+ entered RUNNING", count=4)
    assert spawn_order(d.log()) == ["p5", "p10", "p20", "p30"]
    assert d.stop() == 0


def test_restart_after_kill_9(run, impl):
    d = run(impl, "[program:app]\ncommand=sleep 1000\nstartsecs=0\nautorestart=true\n")
    first = d.program_pid("app")
    os.kill(first, signal.SIGKILL)
    d.wait_log(r"spawned: 'app' with pid \d+", count=2)
    d.wait_log(r"exited: app \(terminated by SIGKILL; not expected\)")
    second = d.program_pid("app")
    assert second != first and psutil.pid_exists(second)
    assert d.stop() == 0


def test_backoff_then_fatal_after_startretries(run, impl):
    d = run(impl, "[program:bad]\ncommand=/bin/false\nstartsecs=3\nstartretries=2\n")
    d.wait_log(r"gave up: bad entered FATAL state, too many start retries too quickly",
               timeout=15)
    log = d.log()
    # startretries=2: the first attempt and two retries
    assert len(re.findall(r"spawned: 'bad'", log)) == 3
    assert len(re.findall(r"exited: bad \(exit status 1; not expected\)", log)) == 3
    assert d.stop() == 0


def test_backoff_delays_grow_by_one_second(run, impl):
    d = run(impl, "[program:bad]\ncommand=/bin/false\nstartsecs=3\nstartretries=3\n")
    d.wait_log(r"gave up: bad", timeout=20)
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) \w+ spawned: 'bad'", d.log())
    t = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in stamps]
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert len(gaps) == 3
    # never early; late by up to a second (supervisord checks once a second, and a loaded
    # machine delays pidvisor's timer too): the lower bounds show the growth
    slack = 1.2
    for expected, gap in zip((1, 2, 3), gaps):
        assert expected - 0.05 <= gap <= expected + slack, gaps
    d.stop()


def test_autorestart_unexpected_uses_exitcodes(run, impl):
    conf = (
        "[program:ok]\ncommand=sh -c 'sleep 0.3; exit 3'\nstartsecs=0\n"
        "autorestart=unexpected\nexitcodes=0,3\n\n"
        "[program:bad]\ncommand=sh -c 'sleep 0.3; exit 4'\nstartsecs=0\n"
        "autorestart=unexpected\nexitcodes=0,3\n\n"
        "[program:never]\ncommand=sh -c 'sleep 0.3; exit 4'\nstartsecs=0\nautorestart=false\n"
    )
    d = run(impl, conf)
    d.wait_log(r"exited: ok \(exit status 3; expected\)")
    d.wait_log(r"exited: never \(exit status 4; not expected\)")
    # bad's later restarts come after ok's or never's would have (each exits after 0.3 s)
    d.wait_log(r"spawned: 'bad'", count=5, timeout=60)
    log = d.log()
    assert len(re.findall(r"spawned: 'ok'", log)) == 1
    assert len(re.findall(r"spawned: 'never'", log)) == 1
    assert d.stop() == 0


def test_autostart_false_is_not_started(run, impl):
    # last starts after manual would have (a higher priority number starts later)
    d = run(impl, "[program:manual]\ncommand=sleep 1000\nautostart=false\n\n"
                  "[program:auto]\ncommand=sleep 1000\nstartsecs=0\n\n"
                  "[program:last]\ncommand=sleep 1000\nstartsecs=0\npriority=1000\n")
    d.wait_log(r"success: auto entered RUNNING")
    d.wait_log(r"success: last entered RUNNING", timeout=30)
    assert "spawned: 'manual'" not in d.log()
    assert d.stop() == 0


def test_command_not_found_goes_fatal(run, impl):
    d = run(impl, "[program:ghost]\ncommand=no-such-command-here --flag\nstartretries=1\n")
    d.wait_log(r"spawnerr: can't find command 'no-such-command-here'")
    d.wait_log(r"gave up: ghost entered FATAL state", timeout=10)
    assert d.stop() == 0


def test_not_executable_goes_fatal(run, impl, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nsleep 100\n")
    script.chmod(0o644)
    d = run(impl, f"[program:noexec]\ncommand={script}\nstartretries=0\n")
    d.wait_log(rf"spawnerr: command at '{re.escape(str(script))}' is not executable")
    d.wait_log(r"gave up: noexec entered FATAL state", timeout=10)
    assert d.stop() == 0


def test_exec_of_bad_interpreter_follows_backoff(run, impl, tmp_path):
    script = tmp_path / "broken.sh"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    d = run(impl, f"[program:broken]\ncommand={script}\nstartretries=1\nstartsecs=3\n"
                  f"stderr_logfile={tmp_path}/broken.err\n")
    d.wait_log(r"gave up: broken entered FATAL state", timeout=10)
    assert "couldn't exec" in (tmp_path / "broken.err").read_text()
    assert d.stop() == 0


def test_numprocs_names(run, impl):
    d = run(impl, "[program:w]\ncommand=sleep 1000\nnumprocs=3\nnumprocs_start=5\n"
                  "process_name=%(program_name)s_%(process_num)02d\nstartsecs=0\n")
    d.wait_log(r"success: w_0\d entered RUNNING", count=3)
    assert sorted(spawn_order(d.log())) == ["w_05", "w_06", "w_07"]
    assert d.stop() == 0


def test_long_command_line_parses(run, impl, tmp_path):
    marker = "x" * 65536
    d = run(impl, f"[program:long]\ncommand=/bin/sh -c 'sleep 1000' {marker}\nstartsecs=0\n")
    pid = d.program_pid("long")

    def argv():
        # supervisord logs the spawn from the parent: its child may not have exec'd yet
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            got = f.read().split(b"\0")[:-1]
        return got if got[:1] == [b"/bin/sh"] else None
    assert wait_until(argv, timeout=30, what="the exec") == \
        [b"/bin/sh", b"-c", b"sleep 1000", marker.encode()]
    assert d.stop() == 0


def leftover_sleeps(d, seconds):
    return [p for p in d.children(recursive=True)
            if p.cmdline() == ["sleep", str(seconds)]]


def test_killasgroup_kills_what_a_dead_program_leaves(run):
    # a master killed with -9 leaves its workers, which keep the port and make the restart
    # fail; with killasgroup=true pidvisor kills them before restarting (an extension)
    conf = ("[program:master]\ncommand=sh -c 'sleep 1001 & sleep 1002 & exec sleep 1000'\n"
            "startsecs=0\nkillasgroup=true\n\n"
            "[program:plain]\ncommand=sh -c 'sleep 2001 & exec sleep 2000'\nstartsecs=0\n")
    d = run("pidvisor", conf)
    wait_until(lambda: len(leftover_sleeps(d, 1001)) == 1 and len(leftover_sleeps(d, 2001)) == 1,
               what="workers")
    first = d.program_pid("master")
    os.kill(first, signal.SIGKILL)
    d.wait_log(r"spawned: 'master' with pid \d+", count=2)
    wait_until(lambda: len(leftover_sleeps(d, 1001)) == 1 and len(leftover_sleeps(d, 1002)) == 1
               and d.program_pid("master") != first, what="only the new workers")
    assert "killed what master left in its process group" in d.log()
    # without killasgroup, as in supervisord, the old worker outlives its master
    plain = d.program_pid("plain")
    os.kill(plain, signal.SIGKILL)
    d.wait_log(r"spawned: 'plain' with pid \d+", count=2)
    wait_until(lambda: len(leftover_sleeps(d, 2001)) == 2, what="orphaned worker kept")
    assert d.stop() == 0
