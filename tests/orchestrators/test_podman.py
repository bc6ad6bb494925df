"""Podman (Debian's, rootful) runs a pidvisor-built image, the example's app/shop-api moved
from tests/docker's engine with docker save | podman load: pidvisor is PID 1, the image's
HEALTHCHECK passes, and `podman stop` ends with exit 0 within 3 s.

Two settings this machine needs, not pidvisor: there is no systemd, so the cgroupfs cgroup
manager (and the health check is run with `podman healthcheck run`, which a systemd timer would
run on a host that has one); and podman 4.3 sets RLIMIT_NPROC to the hard limit, which runc
may not set in this VM, so the test gives explicit, lower limits."""
import json
import shutil
import subprocess
import time

import pytest

from harness import wait_until

PODMAN = ["podman", "--cgroup-manager=cgroupfs"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
NAME = "pidvisor-test-podman"


def podman(*args, check=True, timeout=120):
    r = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"podman {' '.join(args)}: {r.returncode}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def podman_image(docker_engine, shop_api):
    assert shutil.which("podman"), "podman is not installed (packaging/install-deps.sh image)"
    save = subprocess.Popen(["docker", "save", shop_api], env=docker_engine.env(),
                            stdout=subprocess.PIPE)
    r = subprocess.run([*PODMAN, "load"], stdin=save.stdout, capture_output=True, text=True,
                       timeout=600)
    save.stdout.close()
    assert save.wait() == 0 and r.returncode == 0, r.stderr[-3000:]
    image = f"localhost/{shop_api}"
    try:
        yield image
    finally:
        podman("rm", "-f", NAME, check=False)
        podman("rmi", "-f", image, check=False)


def test_podman_runs_a_pidvisor_image(podman_image):
    podman("rm", "-f", NAME, check=False)
    podman("run", "-d", "--name", NAME, "--network", "none", *LIMITS, podman_image)
    cmdline = podman("exec", NAME, "cat", "/proc/1/cmdline").stdout
    assert cmdline.split("\0")[0] == "/usr/bin/pidvisor"

    def running():
        r = podman("exec", NAME, "pidvisor", "ctl", "status", "--json", check=False)
        rows = json.loads(r.stdout or "[]")
        states = {x["namespec"]: x["statename"] for x in rows}
        return states if states == {"shop": "RUNNING", "sshd": "RUNNING"} else None
    wait_until(running, 30, 0.3, "shop and sshd RUNNING")

    # the image's own HEALTHCHECK (docker format, kept by podman load)
    test = json.loads(podman("inspect", NAME).stdout)[0]["Config"]["Healthcheck"]["Test"]
    assert test == ["CMD", "pidvisor", "check"]
    assert podman("healthcheck", "run", NAME, check=False).returncode == 0
    health = json.loads(podman("inspect", NAME).stdout)[0]["State"]["Health"]["Status"]
    assert health == "healthy"

    t0 = time.monotonic()
    podman("stop", "-t", "10", NAME)
    took = time.monotonic() - t0
    state = json.loads(podman("inspect", NAME).stdout)[0]["State"]
    logs = podman("logs", NAME).stdout
    assert state["ExitCode"] == 0, logs[-3000:]
    assert took < 3, f"podman stop took {took:.1f}s"
    assert "pidvisor exiting" in logs
