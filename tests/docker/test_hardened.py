"""pidvisor as PID 1 in a hardened container: docker run --read-only --tmpfs /run --tmpfs /tmp
--user 10001 --cap-drop ALL --security-opt no-new-privileges. Its programs run, AUTO child logs
go to /tmp, and so do the control socket and the pidfile (docker's --tmpfs /run is root's, mode
0755: uid 10001 cannot create anything there), `pidvisor ctl` answers through docker exec, and
docker stop is clean. A program with user= set to another user cannot be honoured there: its
spawn error names the user and the missing capability, and --check-config warns about it."""
import re

import pytest

from dockerharness import PREFIX
from harness import wait_until

HARDENED = ["--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "--user", "10001",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]

CONF = """\
[supervisord]
nodaemon=true
logfile=/dev/stdout
logfile_maxbytes=0
pidfile=/tmp/pidvisor.pid

[unix_http_server]
file=/tmp/pidvisor.sock
chmod=0700

[supervisorctl]
serverurl=unix:///tmp/pidvisor.sock

[program:ticker]
command=sh -c 'while :; do echo tick; sleep 1; done'
priority=10

[program:worker]
command=sh -c 'trap "exit 0" TERM; echo worker up >&2; while :; do sleep 0.2; done'
priority=20
"""

# the same, with one program that asks for another user
CONF_USER = CONF + """
[program:asroot]
command=sleep 100000
user=root
startretries=0
"""


def build_image(engine, static_binary, context):
    """The image, in engine (tests/orchestrators/test_podman.py runs it in podman too)."""
    return engine.build_with_static(
        static_binary, context, f"{PREFIX}/hardened",
        {"supervisord.conf": CONF, "with-user.conf": CONF_USER},
        "COPY supervisord.conf with-user.conf /etc/supervisor/\n"
        'ENTRYPOINT ["pidvisor", "-c", "/etc/supervisor/supervisord.conf"]\n')


@pytest.fixture(scope="module")
def image(docker_engine, static_binary, tmp_path_factory):
    return build_image(docker_engine, static_binary, tmp_path_factory.mktemp("hardened"))


def test_runs_read_only_unprivileged_and_stops_clean(image, containers):
    c = containers(image, f"{PREFIX}-hardened", *HARDENED)
    st = c.wait_running(["ticker", "worker"], timeout=60)
    assert st["ticker"][1] > 1 and st["worker"][1] > 1
    # the user, the capabilities and the read-only root are the ones asked for
    assert c.sh("id -u").strip() == "10001"
    assert re.search(r"^CapEff:\s+0+$", c.sh("cat /proc/1/status"), re.M)
    assert c.exec("touch", "/etc/x", check=False).returncode != 0
    r = c.exec("pidvisor", "ctl", "-c", "/etc/supervisor/supervisord.conf", "status")
    assert re.search(r"^ticker\s+RUNNING\s+pid \d+", r.stdout, re.M), r.stdout
    assert re.search(r"^worker\s+RUNNING\s+pid \d+", r.stdout, re.M), r.stdout
    # AUTO child logs, in /tmp (the default childlogdir)
    r = c.exec("pidvisor", "ctl", "-c", "/etc/supervisor/supervisord.conf", "tail",
               "worker", "stderr")
    assert "worker up" in r.stdout, r.stdout + r.stderr
    assert c.sh("ls /tmp").count("ticker-stdout---supervisor-") == 1
    assert c.exec("pidvisor", "check", "-c", "/etc/supervisor/supervisord.conf",
                  check=False).returncode == 0
    _, code = c.stop()
    logs = c.logs()
    assert code == 0, logs[-3000:]
    assert c.stop_was_clean(), c.logs()[-3000:]
    assert "stopped: worker (exit status 0)" in logs, logs[-3000:]
    crit = [line for line in logs.splitlines() if " CRIT " in line
            and "running without any HTTP authentication checking" not in line]
    assert not crit, logs


def test_user_that_cannot_be_honoured_is_named(image, containers):
    # --check-config, run as the container's user, warns (exit 1, not 0)
    r = containers(image, f"{PREFIX}-hardened-check", *HARDENED, "--entrypoint", "sleep",
                   cmd=["100000"])
    out = r.exec("pidvisor", "-c", "/etc/supervisor/with-user.conf", "--check-config",
                 check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert re.search(r"\[program:asroot\] user: .*'root'.*CAP_SETUID", out.stdout), out.stdout
    r.remove()
    # run: asroot is never started, FATAL at once, and the others run on
    c = containers(image, f"{PREFIX}-hardened-user", *HARDENED, "--entrypoint", "pidvisor",
                   cmd=["-c", "/etc/supervisor/with-user.conf"])
    c.wait_running(["ticker", "worker"], timeout=60)

    def fatal():
        return c.status().get("asroot", ("",))[0] == "FATAL"
    wait_until(fatal, timeout=30, interval=0.3, what="asroot FATAL")
    logs = c.logs()
    assert re.search(r"spawnerr: .*user 'root'.*uid 10001.*CAP_SETUID", logs), logs[-3000:]
    _, code = c.stop()
    assert code == 0 and c.stop_was_clean(), c.logs()[-3000:]
