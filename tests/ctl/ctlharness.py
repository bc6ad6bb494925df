"""Helpers and fixtures for the client tests: real Debian supervisord daemons
in temp dirs, and the three clients under comparison (Debian's supervisorctl,
`pidvisor ctl`, and pidvisor called through a `supervisorctl` symlink).
Test modules import the fixtures by name: a conftest.py in this directory
would shadow the top-level one for `from conftest import ...`."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from harness import terminate

ROOT = Path(__file__).resolve().parents[2]
PIDVISOR = ROOT / "build" / "asan" / "pidvisor"
SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORCTL = "/usr/bin/supervisorctl"

PROGRAMS = """
[program:runner]
command=/bin/sh -c 'echo hello; echo oops >&2; exec sleep 1000'
startsecs=0

[program:manual]
command=/bin/sleep 1000
autostart=false

[program:failer]
command=/bin/false
startsecs=1
startretries=0

[program:once]
command=/bin/sh -c "sleep 0.3"
startsecs=0
autorestart=false

[program:multi]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
startsecs=0
"""


def write_conf(d: Path, programs: str = PROGRAMS, auth: str = "", ctl_section: bool = True) -> Path:
    conf = d / "supervisord.conf"
    text = f"""
[unix_http_server]
file=%(here)s/sup.sock
{auth}

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
nodaemon=true
loglevel=info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""
    if ctl_section:
        text += "\n[supervisorctl]\nserverurl=unix://%(here)s/sup.sock\n"
    conf.write_text(text + programs)
    return conf


class Daemon:
    def __init__(self, d: Path, programs: str = PROGRAMS, auth: str = "", ctl_section: bool = True):
        self.dir = d
        self.conf = write_conf(d, programs, auth, ctl_section)
        self.sock = d / "sup.sock"
        self.url = f"unix://{self.sock}"
        self.creds = ["-u", "user", "-p", "s3cret"] if auth else []
        self.proc = subprocess.Popen(
            [SUPERVISORD, "-n", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)

    def wait_settled(self, expect: dict[str, str], timeout: float = 15.0):
        """Waits until every named process is in the given state."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("supervisord exited")
            if self.sock.exists():
                r = subprocess.run([SUPERVISORCTL, "-s", self.url, *self.creds, "status"],
                                   capture_output=True, text=True)
                last = r.stdout
                states = {}
                for line in last.splitlines():
                    parts = line.split()
                    if len(parts) >= 2:
                        states[parts[0]] = parts[1]
                if all(states.get(k) == v for k, v in expect.items()):
                    return
            time.sleep(0.1)
        raise TimeoutError(f"supervisord did not settle: {last}")

    def stop(self):
        terminate(self.proc, 15)


SETTLED = {"runner": "RUNNING", "failer": "FATAL", "once": "EXITED",
           "multi:multi_00": "RUNNING", "multi:multi_01": "RUNNING", "manual": "STOPPED"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("sup"))
    try:
        d.wait_settled(SETTLED)
        yield d
    finally:
        d.stop()


@pytest.fixture
def daemon_pair(tmp_path):
    """Two identical daemons: one driven by supervisorctl, one by pidvisor."""
    (tmp_path / "real").mkdir()
    (tmp_path / "ours").mkdir()
    a = Daemon(tmp_path / "real")
    b = Daemon(tmp_path / "ours")
    try:
        a.wait_settled(SETTLED)
        b.wait_settled(SETTLED)
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="session")
def symlink(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bin")
    link = d / "supervisorctl"
    link.symlink_to(PIDVISOR)
    return link



# Things that legitimately differ between two runs or two daemons.
MASKS = [
    (re.compile(r"pid \d+, uptime \d+:\d\d:\d\d"), "pid N, uptime T"),
    (re.compile(r"\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b"), "DATE"),
]


def mask(text: str, extra: list[tuple[str, str]] = ()) -> str:
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    for old, new in extra:
        text = text.replace(old, new)
    return text


def run(argv: list[str], stdin: str | None = None, timeout: float = 30) -> tuple[int, str, str]:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    r = subprocess.run(argv, input=stdin if stdin is not None else "", capture_output=True,
                       text=True, timeout=timeout, env=env)
    return r.returncode, r.stdout, r.stderr


def real_ctl(*args: str) -> list[str]:
    return [SUPERVISORCTL, *args]


def our_ctl(*args: str) -> list[str]:
    return [str(PIDVISOR), "ctl", *args]
