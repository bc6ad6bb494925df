"""An image whose ENTRYPOINT is ["tini", "--"], where `tini` is a symlink to pidvisor, side by
side with the same image built on Debian's real tini-static: docker stop, docker kill -s USR1
and zombie reaping behave the same."""
import time

import pytest

from dockerharness import BASE_IMAGE, PREFIX
from harness import wait_until

APP = """#!/bin/sh
trap 'echo got-USR1' USR1
# orphans: each subshell exits at once and leaves a sleep for PID 1 to reap
i=0; while [ $i -lt 50 ]; do (sleep 0.2 &); i=$((i+1)); done
echo app-ready
while :; do sleep 0.1; done
"""


@pytest.fixture(scope="module", params=["pidvisor", "real-tini"])
def image(request, docker_engine, static_binary, tmp_path_factory):
    context = tmp_path_factory.mktemp("tini") / "context"
    context.mkdir()
    if request.param == "pidvisor":
        binary, install = static_binary, "COPY init /usr/bin/pidvisor\nRUN ln -s pidvisor /usr/bin/tini"
    else:
        binary, install = "/usr/bin/tini-static", "COPY init /usr/bin/tini"
    (context / "init").write_bytes(open(binary, "rb").read())
    (context / "init").chmod(0o755)
    (context / "app.sh").write_text(APP)
    (context / "app.sh").chmod(0o755)
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\n{install}\nCOPY app.sh /app.sh\n"
        'ENTRYPOINT ["tini", "--"]\nCMD ["/app.sh"]\n')
    tag = f"{PREFIX}/tini-{request.param}"
    docker_engine.build(context, tag)
    return request.param, tag


def zombies(c):
    return c.sh("grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null || true").split()


def wait_logs(c, text, timeout=15):
    deadline = time.monotonic() + timeout
    while text not in c.logs():
        assert time.monotonic() < deadline, f"{text!r} not in docker logs:\n{c.logs()}"
        time.sleep(0.1)


def test_tini_entrypoint(image, containers):
    kind, tag = image
    c = containers(tag, f"{PREFIX}-tini-{kind}")
    wait_logs(c, "app-ready")
    cmdline = c.sh("cat /proc/1/cmdline").split("\0")
    assert cmdline[:2] == ["tini", "--"]
    if kind == "pidvisor":
        assert c.sh("readlink /proc/1/exe").strip() == "/usr/bin/pidvisor"

    # the orphans exit within 0.2 s and are reaped by PID 1
    wait_until(lambda: zombies(c) == [], what="no zombies in the container")

    c.engine.docker("kill", "-s", "USR1", c.id)
    wait_logs(c, "got-USR1")

    _, code = c.stop()
    assert code == 143, c.logs()  # the shell died of the SIGTERM tini passed on
    assert c.stop_was_clean(), c.logs()[-3000:]
    assert "tini" not in c.logs(), "nothing extra printed at the default verbosity"
