"""Container-native supervision in a real Docker engine: an app that depends on a healthy
database-like program, Docker's HEALTHCHECK (pidvisor check) healthy only once the chain is
up, and killing the essential program stopping the container with that program's exit code."""
import time

import pytest

from dockerharness import PREFIX
from harness import wait_until

CONF = """[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0

[unix_http_server]
file=/run/pidvisor.sock

[supervisorctl]
serverurl=unix:///run/pidvisor.sock

[program:db]
; becomes healthy 3 s after it starts
command=sh -c 'sleep 3; touch /tmp/db-up; exec sleep 100000'
startsecs=0
healthcheck=cmd:test -e /tmp/db-up
healthcheck_interval=0.5s
healthcheck_retries=100

[program:app]
command=sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
startsecs=0
depends_on=db:healthy
shutdown_on=unexpected
"""


@pytest.fixture(scope="module")
def image(docker_engine, static_binary, tmp_path_factory):
    context = tmp_path_factory.mktemp("native") / "context"
    context.mkdir()
    return docker_engine.build_with_static(
        static_binary, context, f"{PREFIX}/native", {"supervisord.conf": CONF},
        "COPY supervisord.conf /etc/supervisord.conf\n"
        "RUN pidvisor -c /etc/supervisord.conf --check-config\n"
        "HEALTHCHECK --interval=1s --timeout=3s --retries=1 "
        'CMD ["pidvisor", "check", "--ready"]\n'
        'ENTRYPOINT ["pidvisor", "-c", "/etc/supervisord.conf"]\n')


def test_healthy_only_once_the_chain_is_up_and_fail_fast_exit_code(image, containers):
    c = containers(image, f"{PREFIX}-native")
    t0 = time.monotonic()
    # while db is not healthy yet, app waits and the container is not healthy: asked as soon
    # as Docker has run its first probe (1 s in), well inside db's 3 s
    health = {}

    def probed():
        health.update(c.inspect()["State"].get("Health") or {})
        return health.get("Log")
    wait_until(probed, timeout=30, interval=0.1, what="Docker's first health probe",
               detail=lambda: health)
    assert health.get("Status") != "healthy", health
    status = c.exec("pidvisor", "ctl", "status", check=False).stdout
    assert "waiting for db (healthy)" in status, status
    c.wait_health("healthy", timeout=30)
    took = time.monotonic() - t0
    assert took >= 2.5, f"healthy {took:.1f}s after the start, before db was"
    assert "RUNNING" in c.exec("pidvisor", "ctl", "status", "app").stdout
    # app is killed: shutdown_on=unexpected stops the container with 128+9
    # the container may stop before this exec returns: docker then ends the exec's shell with
    # SIGTERM (143) or SIGKILL (137), which is the outcome asked for, not a failure
    r = c.exec("sh", "-c", "kill -9 $(pidvisor ctl pid app)", check=False)
    assert r.returncode in (0, 137, 143), r.stdout + r.stderr
    deadline = time.monotonic() + 20
    while c.inspect()["State"]["Running"]:
        assert time.monotonic() < deadline, c.logs()[-3000:]
        time.sleep(0.2)
    assert c.inspect()["State"]["ExitCode"] == 137, c.logs()[-3000:]
    assert time.monotonic() - t0 < 60
