"""Dockerfile.examples/dropin: pidvisor in place of supervisord in an existing image, its
config and CMD unchanged; driven with the real commands users type."""
import re
import shutil

import pytest

from dockerharness import PREFIX, ROOT, stopped_order

EXAMPLE = ROOT / "Dockerfile.examples" / "dropin"
IMAGE = f"{PREFIX}/dropin"  # kept: its layers are the cache of the next run

HTTP_GET = ("exec 3<>/dev/tcp/127.0.0.1/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 "
            "&& cat <&3")


@pytest.fixture(scope="module")
def image(docker_engine, static_binary, tmp_path_factory):
    context = tmp_path_factory.mktemp("dropin") / "context"
    shutil.copytree(EXAMPLE, context)
    shutil.copy(static_binary, context / "pidvisor-static")
    docker_engine.build(context, IMAGE)
    return IMAGE


def test_dropin(image, containers):
    c = containers(image, f"{PREFIX}-dropin")
    assert c.sh("cat /proc/1/cmdline").split("\0") == [
        "supervisord", "-c", "/etc/supervisor/supervisord.conf", ""]
    c.wait_running(["nginx", "cleaner"])
    assert re.search(r"INFO supervisord started with pid 1\n", c.logs())

    r = c.exec("supervisorctl", "status")
    lines = dict(line.split(None, 1) for line in r.stdout.splitlines())
    assert r.returncode == 0 and set(lines) == {"nginx", "cleaner"}, r.stdout
    assert all(v.startswith("RUNNING") for v in lines.values()), r.stdout

    assert "200 OK" in c.exec("bash", "-c", HTTP_GET).stdout
    c.wait_health("healthy", timeout=15)
    assert "cleaner: " in c.logs()

    _, code = c.stop()
    assert code == 0, c.logs()[-3000:]
    assert c.stop_was_clean(), c.logs()[-3000:]
    assert stopped_order(c.logs()) == ["nginx", "cleaner"]
