"""What the client comparisons share: the programs and the states they settle in, real
Debian supervisord daemons to compare against (harness.Daemon), the three clients under
comparison (Debian's supervisorctl, `pidvisor ctl`, and pidvisor called through a
`supervisorctl` symlink), and the masks for what legitimately differs between two runs.
Test modules import the fixtures by name: a conftest.py in this directory would shadow the
top-level one for `from conftest import ...`."""

import re
from pathlib import Path

import pytest

from harness import PIDVISOR, SUPERVISORCTL, Daemon

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


def supervisord(d: Path, programs: str = PROGRAMS, **kw) -> Daemon:
    """Debian's supervisord on programs, with a control socket, as a plain child."""
    return Daemon("supervisord", d, programs, pid1=False, control=True, **kw)


SETTLED = {"runner": "RUNNING", "failer": "FATAL", "once": "EXITED",
           "multi:multi_00": "RUNNING", "multi:multi_01": "RUNNING", "manual": "STOPPED"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = supervisord(tmp_path_factory.mktemp("sup"))
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
    a = supervisord(tmp_path / "real")
    b = supervisord(tmp_path / "ours")
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


def real_ctl(*args: str) -> list[str]:
    return [SUPERVISORCTL, *args]


def our_ctl(*args: str) -> list[str]:
    return [str(PIDVISOR), "ctl", *args]
