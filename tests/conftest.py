"""Fixtures shared by every process test; the helpers live in harness.py."""
import os
import signal

import pytest

# A shell's `cmd &` (a CI step in the background, nohup-like wrappers) starts the suite with
# SIGINT and SIGQUIT ignored, and an ignored signal stays ignored across exec: ^C sent by a test
# would not stop supervisorctl or `sleep`. Programs started here get the defaults, as from a
# terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)

from harness import BUILDS, Daemon  # noqa: E402


@pytest.fixture(params=["pidvisor", "supervisord"])
def impl(request):
    return request.param


@pytest.fixture(params=sorted(BUILDS))
def build(request):
    """pidvisor's binary, once per build (asan, release): tests of hostile input run on both."""
    return BUILDS[request.param]


@pytest.fixture
def run(tmp_path):
    started = []

    def start(impl, conf, **kw):
        d = Daemon(impl, tmp_path, conf, **kw)
        started.append(d)
        return d
    yield start
    for d in started:
        d.close()


@pytest.fixture(autouse=True)
def dev_stdout_stays_a_link():
    """A supervisord log clear (as root) of a program logging to /dev/stdout unlinks the path and
    reopens it: /dev/stdout becomes a regular file for the whole machine, and every later
    program writing there writes into it. No test may do that: the one that did fails, and the
    link is put back so that the tests after it see the machine as it was."""
    was_link = os.path.islink("/dev/stdout")
    yield
    if was_link and not os.path.islink("/dev/stdout"):
        os.replace("/dev/stdout", "/dev/stdout.left-by-a-test")
        os.symlink("/proc/self/fd/1", "/dev/stdout")
        pytest.fail("/dev/stdout is no longer a link to /proc/self/fd/1 after this test (moved "
                    "to /dev/stdout.left-by-a-test)")
