"""Debian's real supervisorctl against pidvisor and against the real supervisord, same config:
the same output and exit codes, once pids, uptimes and dates are masked."""
import re
import subprocess

import pytest

from harness import PIDVISOR, SUPERVISORCTL, Daemon, wait_until

PROGRAMS = """
[program:web]
command=sleep 1000
startsecs=0
priority=10
[program:once]
# it lives a moment: one that exits at once can beat supervisord's own STARTING -> RUNNING pass
# under load, and supervisorctl then says "ERROR (abnormal termination)" (a race of supervisord)
command=sh -c 'echo ran once; sleep 0.5; exit 0'
startsecs=0
autorestart=false
[program:manual]
command=sleep 1000
autostart=false
startsecs=0
[program:fails]
command=sh -c 'echo broken >&2; exit 1'
startsecs=1
startretries=0
[program:w]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
startsecs=0
"""
SETTLED = {"web": "RUNNING", "once": "EXITED", "manual": "STOPPED", "fails": "FATAL",
           "w:w_00": "RUNNING", "w:w_01": "RUNNING"}


def mask(text):
    text = re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid N, uptime T", text)
    text = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "DATE", text)
    text = re.sub(r"^\d+$", "N", text, flags=re.M)
    return text


class Pair:
    def __init__(self, tmp_path):
        self.daemons = {}
        for impl in ("pidvisor", "supervisord"):
            d = tmp_path / impl
            d.mkdir()
            self.daemons[impl] = Daemon(impl, d, PROGRAMS, control=True)

    def ctl(self, impl, *args, client=SUPERVISORCTL):
        d = self.daemons[impl]
        cmd = [client, "-c", str(d.conf_path), *args] if client == SUPERVISORCTL else \
            [PIDVISOR, "ctl", "-c", str(d.conf_path), *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def settle(self):
        for d in self.daemons.values():
            d.wait_settled(SETTLED, timeout=25)

    def close(self):
        for d in self.daemons.values():
            d.close()


@pytest.fixture
def pair(tmp_path):
    p = Pair(tmp_path)
    p.settle()
    yield p
    p.close()


def same(pair, *args):
    a = pair.ctl("pidvisor", *args)
    b = pair.ctl("supervisord", *args)
    ma, mb = mask(a[1]), mask(b[1])
    if args and args[0] in ("start", "stop", "restart", "signal", "clear") and \
            any(x == "all" or x.endswith(":*") for x in args):
        # supervisord lists a group's results as they complete, so its own order varies
        ma, mb = sorted(ma.splitlines()), sorted(mb.splitlines())
    assert (a[0], ma) == (b[0], mb), f"supervisorctl {' '.join(args)}"
    return a


@pytest.mark.parametrize("args", [
    ("status",),
    ("status", "web"),
    ("status", "w:*"),
    ("status", "nosuch"),
    ("status", "nosuch:*"),
    ("status", "web", "manual"),
    ("pid", "web"),
    ("pid", "manual"),
    ("pid", "nosuch"),
    ("start", "web"),
    ("start", "nosuch"),
    ("start", "nosuch:*"),
    ("start",),
    ("stop", "manual"),
    ("stop", "nosuch"),
    ("stop",),
    ("signal", "HUP", "manual"),
    ("signal", "NOPE", "web"),
    ("signal", "HUP"),
    ("tail", "nosuch"),
    ("avail",),
    ("reread",),
    ("version",),
    ("nonsense",),
    ("add", "web"),
    ("add", "nosuch"),
    ("remove", "web"),
    ("remove", "nosuch"),
    ("clear", "nosuch"),
])
def test_same_answers(pair, args):
    same(pair, *args)


def test_start_stop_restart_sequence(pair):
    for args in (("start", "manual"), ("status", "manual"), ("stop", "manual"),
                 ("status", "manual"), ("restart", "web"), ("stop", "w:*"), ("status",),
                 ("start", "w:*"), ("start", "fails"), ("status", "fails"),
                 ("stop", "all"), ("status",), ("start", "all"), ("signal", "USR1", "w:*")):
        same(pair, *args)


def test_start_reports_spawn_error(pair):
    rc, out, _ = same(pair, "start", "fails")
    assert rc == 7 and "fails: ERROR (spawn error)" in out


def test_update_adds_and_removes_groups(pair):
    for impl, d in pair.daemons.items():
        text = d.conf_path.read_text()
        text = text.replace("[program:manual]", "[program:extra]\ncommand=sleep 1000\n"
                            "startsecs=0\n[program:manual]")
        text = text.replace("command=sh -c 'echo ran once; sleep 0.5; exit 0'",
                            "command=sh -c 'echo ran twice; sleep 0.5; exit 0'")
        d.conf_path.write_text(text)
    same(pair, "reread")
    same(pair, "update")
    for impl in pair.daemons:
        wait_until(lambda: "RUNNING" in pair.ctl(impl, "status", "extra")[1])
    same(pair, "status", "extra")
    same(pair, "reread")


def test_tail_of_a_program_log(pair):
    # supervisorctl prints the log, then a newline of its own
    assert same(pair, "tail", "once")[:2] == (0, "ran once\n\n")
    assert same(pair, "tail", "fails", "stderr")[:2] == (0, "broken\n\n")
    assert same(pair, "tail", "-3", "once")[:2] == (0, "ce\n\n")


def test_pidvisor_ctl_matches_supervisorctl_against_pidvisor(pair):
    for args in (("status",), ("status", "nosuch"), ("avail",), ("pid", "web"),
                 ("start", "web"), ("stop", "nosuch"), ("version",)):
        a = pair.ctl("pidvisor", *args)
        b = pair.ctl("pidvisor", *args, client="pidvisor")
        assert (a[0], mask(a[1])) == (b[0], mask(b[1])), args


def test_shutdown(pair):
    rc = {}
    for impl, d in pair.daemons.items():
        rc[impl] = pair.ctl(impl, "shutdown")[:2]
        assert d.proc.wait(timeout=20) == 0
    assert rc["pidvisor"] == rc["supervisord"] == (0, "Shut down\n")


def test_reload_clear_and_maintail(pair):
    same(pair, "clear", "once")
    # supervisord leaves an exited program's log alone (its dispatchers are gone); pidvisor
    # clears what it is asked to
    assert pair.ctl("pidvisor", "tail", "once")[:2] == (0, "\n")
    same(pair, "clear", "all")
    for impl in pair.daemons:
        rc, out, _ = pair.ctl(impl, "maintail", "-5000")
        assert rc == 0 and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO spawned: 'web'",
                                     out), (impl, out)
    assert same(pair, "reload")[:2] == (0, "Restarted supervisord\n")
    pair.settle()
    same(pair, "status", "web")
