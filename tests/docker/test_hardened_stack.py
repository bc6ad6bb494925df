"""app/shop-hardened of the example stack (`hardened: true`), built by pidvisor-image, run as
docker run --read-only --tmpfs /run --tmpfs /tmp --user 10001 --cap-drop ALL: pidvisor
starts, its socket in /tmp answers `pidvisor ctl` and `pidvisor check`, the shop answers,
docker reports it healthy, and docker stop is clean."""
import re
import subprocess
import time

import pytest

from dockerharness import PREFIX, ROOT
from test_hardened import HARDENED
from test_stacks import shop_products

STACK = ROOT / "Dockerfile.examples" / "stack.yaml"
APP = "app/shop-hardened"


@pytest.fixture(scope="module")
def image(docker_engine, static_binary):
    r = subprocess.run(["make", "-C", str(ROOT), "build/pidvisor-image"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(ROOT / "build" / "pidvisor-image"), "build", str(STACK), APP,
                        "--network", "host", "--tag-prefix", f"{PREFIX}/"],
                       env=docker_engine.env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    return f"{PREFIX}/{APP}"


def test_hardened_image_runs_hardened(docker_engine, image, containers):
    config = docker_engine.out("image", "inspect", "-f", "{{.Config.User}}", image)
    assert config == "10001:10001"
    c = containers(image, f"{PREFIX}-shop-hardened", *HARDENED)
    c.started = time.monotonic()
    st = c.wait_running(["shop"], timeout=60)
    assert st["shop"][1] > 1
    assert c.sh("id -u").strip() == "10001"
    assert re.search(r"^CapEff:\s+0+$", c.sh("cat /proc/1/status"), re.M)
    assert c.exec("touch", "/etc/x", check=False).returncode != 0
    assert c.sh("ls /tmp").split().count("pidvisor.sock") == 1
    assert c.exec("pidvisor", "check", "--ready", check=False).returncode == 0
    shop_products(c)
    c.wait_health("healthy", timeout=60)
    _, code = c.stop()
    assert code == 0, c.logs()[-3000:]
    assert "stopped: shop" in c.logs(), c.logs()[-3000:]
