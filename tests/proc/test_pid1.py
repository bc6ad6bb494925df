"""PID-1 duties: reaping, shutdown order and timing, leftovers, the child's clean start."""
import os
import re
import signal
import subprocess
import time

import psutil
import pytest

from harness import PIDVISOR, wait_steady, wait_until


def test_300_orphans_exiting_at_once_leave_no_zombie(run, impl, tmp_path):
    # each (sleep &) is orphaned at once and reparented to PID 1; all exit about together
    conf = ("[program:spawner]\nstartsecs=0\n"
            "command=sh -c 'i=0; while [ $i -lt 300 ]; do (sleep 1 &); i=$((i+1)); done; "
            "touch %(here)s/forked; exec sleep 1000'\n")
    d = run(impl, conf)
    wait_until(lambda: (tmp_path / "forked").exists(), timeout=20, what="the orphans")

    def sleepers():
        n = 0
        for p in d.children(recursive=True):
            try:
                if p.cmdline() == ["sleep", "1"]:
                    n += 1
            except psutil.NoSuchProcess:
                pass
        return n
    wait_until(lambda: sleepers() == 0, timeout=10, what="the orphans to exit")
    # supervisord reaps about 100 orphans per 1 s loop pass; pidvisor all at once
    budget = 0.5 if impl == "pidvisor" else 8.0
    wait_until(lambda: not d.zombies(), timeout=budget, what="no zombies")
    assert d.stop() == 0


# Each program says when its trap is set (startsecs=0 makes it RUNNING at the spawn, before
# the shell has read its first command: a stop that came sooner would find no trap).
STOPPER = ("command=sh -c 'trap \"echo %(program_name)s >> %(here)s/order; exit 0\" TERM; "
           "echo >> %(here)s/trapped; while :; do sleep 0.05; done'\nstartsecs=0\n")


def wait_trapped(tmp_path, n):
    path = tmp_path / "trapped"
    wait_until(lambda: path.exists() and len(path.read_text()) >= n, timeout=10,
               what=f"{n} traps set")


def test_sigterm_stops_in_reverse_priority_then_sigkill(run, impl, tmp_path):
    conf = "".join(f"[program:{n}]\n{STOPPER}priority={p}\n\n"
                   for n, p in (("a", 1), ("b", 2), ("c", 3)))
    conf += ("[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; echo >> %(here)s/trapped; "
             "while :; do sleep 0.05; done'\nstartsecs=0\nstopwaitsecs=2\npriority=4\n")
    d = run(impl, conf)
    d.wait_log(r"success: \w+ entered RUNNING", count=4)
    wait_trapped(tmp_path, 4)
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.proc.wait(timeout=15)
    elapsed = time.monotonic() - t0
    assert rc == 0
    assert (tmp_path / "order").read_text().split() == ["c", "b", "a"]
    log = d.log()
    assert "killing 'stubborn'" in log and "with SIGKILL" in log
    assert re.search(r"stopped: stubborn \(terminated by SIGKILL\)", log)
    # stubborn had its stopwaitsecs before the SIGKILL. How soon after it pidvisor acts (on its
    # own timer, where supervisord's loop wakes once a second) is latency, for bench/: under
    # make test-under-load supervisord took 5.4 s here, past the 4.5 s this test once allowed
    assert elapsed >= 2, elapsed


def test_each_group_stops_before_the_next(run, impl, tmp_path):
    slow = ("command=sh -c 'trap \"sleep 0.5; echo %(program_name)s >> %(here)s/order; exit 0\" "
            "TERM; echo >> %(here)s/trapped; while :; do sleep 0.05; done'\nstartsecs=0\n")
    conf = (f"[program:first]\n{slow}priority=10\n\n"
            f"[program:second]\n{STOPPER}priority=1\n")
    d = run(impl, conf)
    d.wait_log(r"success: \w+ entered RUNNING", count=2)
    wait_trapped(tmp_path, 2)
    assert d.stop() == 0
    assert (tmp_path / "order").read_text().split() == ["first", "second"]


def test_stopasgroup_reaches_grandchildren(run, impl, tmp_path):
    conf = ("[program:tree]\ncommand=sh -c 'sleep 1001 & sleep 1002 & wait'\nstartsecs=0\n"
            "stopasgroup=true\n")
    d = run(impl, conf)
    d.wait_log(r"success: tree entered RUNNING")
    wait_until(lambda: len([p for p in d.children(recursive=True)
                            if p.name() == "sleep"]) == 2, what="grandchildren")
    victims = [p for p in d.children(recursive=True) if p.name() == "sleep"]
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=15) == 0
    for p in victims:
        assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE


def stop_leaves_no_leftover(d, cmdline, budget):
    """Stops d once a descendant running cmdline exists; it must be gone within budget."""
    d.wait_log(r"success: tree entered RUNNING")

    def find():
        return [p for p in d.children(recursive=True) if p.cmdline() == cmdline]
    (leftover,) = wait_until(find, what=" ".join(cmdline))
    t0 = time.monotonic()
    assert d.stop() == 0
    assert time.monotonic() - t0 < budget
    assert not leftover.is_running()


def test_pidvisor_stops_leftovers_and_exits(run, tmp_path):
    # without stopasgroup the grandchild outlives its parent; pidvisor still cleans it up
    d = run("pidvisor", "[program:tree]\ncommand=sh -c 'sleep 1001 & exec sleep 1002'\n"
                        "startsecs=0\n")
    stop_leaves_no_leftover(d, ["sleep", "1001"], 2.0)


def test_subreaper_kills_leftovers_that_ignore_sigterm(run, tmp_path):
    # not PID 1: only our own children can be signalled. A leftover that ignores SIGTERM is
    # killed at the deadline, and so is its own child, which becomes ours only then
    d = run("pidvisor", "[program:tree]\nstartsecs=0\n"
            "command=sh -c \"sh -c 'trap \\\"\\\" TERM; sleep 1003 & wait' & exec sleep 1002\"\n",
            pid1=False)
    stop_leaves_no_leftover(d, ["sleep", "1003"], 3.0)
    d.wait_log(r"killing leftover processes with SIGKILL")


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_child_starts_clean(run, impl, tmp_path):
    conf = ("[program:probe]\nstartsecs=0\nenvironment=GREETING=\"hello world\",CSV='a,b'\n"
            "command=sh -c 'env > %(here)s/env; exec sleep 1000'\n")
    d = run(impl, conf)
    d.wait_log(r"success: probe entered RUNNING")
    pid = d.program_pid("probe")
    wait_until(lambda: psutil.Process(pid).name() == "sleep", what="the exec")
    status = proc_status(pid)
    assert int(status["SigBlk"], 16) == 0
    if impl == "pidvisor":
        # supervisord leaves Python's SIGPIPE disposition to its children; pidvisor does not
        assert int(status["SigIgn"], 16) == 0
    # right after the exec, ld.so still has the libraries it loads open (fd 3, seen under
    # load): wait for them to close. An fd pidvisor leaked stays, and fails here.
    fds = {}

    def only_stdio():
        d_ = f"/proc/{pid}/fd"
        fds["now"] = {n: os.readlink(f"{d_}/{n}") for n in os.listdir(d_)}
        return sorted(fds["now"], key=int) == ["0", "1", "2"]
    wait_until(only_stdio, timeout=30, what="only fds 0, 1 and 2", detail=lambda: fds.get("now"))
    assert os.getpgid(pid) == pid  # its own process group
    env = dict(l.split("=", 1) for l in (tmp_path / "env").read_text().splitlines() if "=" in l)
    assert env["SUPERVISOR_ENABLED"] == "1"
    assert env["SUPERVISOR_PROCESS_NAME"] == "probe"
    assert env["SUPERVISOR_GROUP_NAME"] == "probe"
    assert env["GREETING"] == "hello world"
    assert env["CSV"] == "a,b"
    assert d.stop() == 0


def test_starts_with_stdio_closed(tmp_path):
    # a runtime or init script may start PID 1 with stdout and stderr closed: the log file,
    # socket and pipes opened later must not take those numbers (the main log as fd 1 would
    # receive the programs' /dev/stdout output), and children still get exactly 0, 1 and 2
    conf = tmp_path / "c.conf"
    conf.write_text(
        f"[supervisord]\nlogfile={tmp_path}/main.log\npidfile={tmp_path}/pid\n"
        f"[unix_http_server]\nfile={tmp_path}/sock\n"
        f"[supervisorctl]\nserverurl=unix://{tmp_path}/sock\n"
        f"[program:p]\ncommand=sh -c 'echo hello; exec sleep 1000'\n"
        f"stdout_logfile={tmp_path}/p.log\nstartsecs=0\n"
        f"[program:loud]\ncommand=sh -c 'echo LOUD-$((6*7)); exec sleep 1000'\n"
        f"stdout_logfile=/dev/stdout\nstartsecs=0\n")
    u = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c",
                          f"exec {PIDVISOR} -n -c {conf} >&- 2>&-"], stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: (tmp_path / "p.log").exists()
                   and (tmp_path / "p.log").read_text() == "hello\n", timeout=10, what="output")
        daemon = psutil.Process(u.pid).children()[0]
        child = next(c for c in daemon.children() if "hello" in " ".join(c.cmdline()) or
                     c.cmdline()[:2] == ["sleep", "1000"])
        wait_until(lambda: child.name() == "sleep", what="the exec")
        assert sorted(os.listdir(f"/proc/{child.pid}/fd"), key=int) == ["0", "1", "2"]
        r = subprocess.run([PIDVISOR, "ctl", "-c", str(conf), "status", "p"], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode == 0 and "RUNNING" in r.stdout, r.stdout + r.stderr
        # what goes to pidvisor's (closed) stdout lands nowhere, not in a file or socket that
        # took the number 1
        time.sleep(0.2)
        for f in tmp_path.iterdir():
            if f.is_file():
                assert b"LOUD-42" not in f.read_bytes(), f
        daemon.send_signal(signal.SIGTERM)
        assert u.wait(timeout=10) == 0
    finally:
        if u.poll() is None:
            u.kill()
            u.wait()


@pytest.fixture
def open_dir():
    """A directory any user may enter (pytest's tmp_path sits under a 0700 directory)."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="pidvisor-test-")
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_user_directory_umask(run, impl, open_dir):
    conf = ("[program:who]\nstartsecs=0\nuser=nobody\numask=027\n"
            f"directory={open_dir}\n"
            "command=sh -c 'id -u > uid; id -G > gids; pwd > cwd; touch made; exec sleep 1000'\n")
    d = run(impl, conf)
    made = os.path.join(open_dir, "made")
    wait_until(lambda: os.path.exists(made), what="the program")
    read = lambda name: open(os.path.join(open_dir, name)).read()
    nobody = int(os.popen("id -u nobody").read())
    assert int(read("uid")) == nobody
    assert "0" not in read("gids").split()  # root's groups dropped
    assert read("cwd").strip() == open_dir
    assert os.stat(made).st_mode & 0o777 == 0o640
    assert d.stop() == 0


def test_bad_directory_is_a_spawn_failure(run, impl, tmp_path):
    conf = (f"[program:lost]\ncommand=sleep 1000\ndirectory={tmp_path}/missing\n"
            f"startsecs=3\nstartretries=0\nstderr_logfile={tmp_path}/lost.err\n")
    d = run(impl, conf)
    d.wait_log(r"gave up: lost entered FATAL state", timeout=10)
    assert f"couldn't chdir to {tmp_path}/missing: ENOENT" in (tmp_path / "lost.err").read_text()
    assert d.stop() == 0


def test_subreaper_when_not_pid1(run, tmp_path):
    conf = ("[program:spawner]\nstartsecs=0\n"
            "command=sh -c '(sleep 1.5 &); (sleep 1.5 &); touch %(here)s/forked; "
            "exec sleep 1000'\n")
    d = run("pidvisor", conf, pid1=False)
    wait_until(lambda: (tmp_path / "forked").exists(), what="the orphans")
    # orphans are reparented to pidvisor (a child subreaper), not to the host's init
    def cmdline(p):
        try:
            return p.cmdline()
        except psutil.Error:  # gone between the listing and the read
            return None

    def alive(p):
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def sleepers():
        found = [p for p in d.children() if cmdline(p) == ["sleep", "1.5"]]
        return found if len(found) == 2 else None
    orphans = wait_until(sleepers, what="two orphans reparented to pidvisor")
    wait_until(lambda: not any(alive(p) for p in orphans), what="the orphans to exit")
    wait_until(lambda: not d.zombies(), timeout=10, what="no zombies")
    assert d.stop() == 0


def test_idle_pidvisor_does_not_wake_up(run):
    d = run("pidvisor", "".join(f"[program:p{i}]\ncommand=sleep 1000\nstartsecs=0\n\n"
                                for i in range(10)))
    d.wait_log(r"success: p\d entered RUNNING", count=10)

    def switches():
        s = proc_status(d.pid)
        return int(s["voluntary_ctxt_switches"]) + int(s["nonvoluntary_ctxt_switches"])
    # idle: the counters stand still over half a second (however long the start-up takes)
    before = wait_steady(switches, polls=6, interval=0.1, timeout=60,
                         what="pidvisor's context switches to stop")
    time.sleep(2)
    # no timer is due and nothing happens: the loop must stay asleep
    assert switches() - before == 0
    assert d.stop() == 0
