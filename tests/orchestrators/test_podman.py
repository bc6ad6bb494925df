"""Podman (Debian's 4.3), rootful and rootless, runs a pidvisor-built image, the example's
app/shop-api saved from tests/docker's engine and loaded with podman load: pidvisor is PID 1,
the image's HEALTHCHECK passes, and `podman stop` ends with exit 0 within 3 s. Rootless runs as
a user the test makes (with its subordinate ids) and removes afterwards.

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


ROOTLESS_USER = "pidvisor-podman"


def podman(*args, user=None, check=True, timeout=120):
    as_user = ["runuser", "-u", user, "--"] if user else []
    r = subprocess.run([*as_user, *PODMAN, *args], capture_output=True, text=True,
                       timeout=timeout, cwd="/tmp")
    if check:
        assert r.returncode == 0, f"podman {' '.join(args)}: {r.returncode}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def saved_image(docker_engine, shop_api):
    assert shutil.which("podman"), "podman is not installed (packaging/install-deps.sh image)"

    def load(user):
        """docker save | podman load, as user (None: root)."""
        save = subprocess.Popen(["docker", "save", shop_api], env=docker_engine.env(),
                                stdout=subprocess.PIPE)
        as_user = ["runuser", "-u", user, "--"] if user else []
        r = subprocess.run([*as_user, *PODMAN, "load"], stdin=save.stdout, capture_output=True,
                           text=True, timeout=600, cwd="/tmp")
        save.stdout.close()
        assert save.wait() == 0 and r.returncode == 0, r.stderr[-3000:]
    return load, f"localhost/{shop_api}"


@pytest.fixture(scope="module", params=["rootful", "rootless"])
def podman_image(request, saved_image):
    load, image = saved_image
    user = None
    if request.param == "rootless":
        user = ROOTLESS_USER
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", user], check=True)
        try:
            with open("/etc/subuid") as f:
                has_ids = any(x.startswith(f"{user}:") for x in f)
        except FileNotFoundError:
            has_ids = False
        if not has_ids:  # useradd gives them only where /etc/subuid exists
            subprocess.run(["usermod", "--add-subuids", "300000-365535", "--add-subgids",
                            "300000-365535", user], check=True)
    try:
        load(user)
        yield image, user
    finally:
        podman("rm", "-f", NAME, user=user, check=False)
        podman("rmi", "-f", image, user=user, check=False)
        if user:
            podman("system", "reset", "-f", user=user, check=False)
            subprocess.run(["userdel", "-r", user], capture_output=True)


def test_podman_runs_a_pidvisor_image(podman_image):
    image, user = podman_image
    podman("rm", "-f", NAME, user=user, check=False)
    podman("run", "-d", "--name", NAME, "--network", "none", *LIMITS, image, user=user)
    cmdline = podman("exec", NAME, "cat", "/proc/1/cmdline", user=user).stdout
    assert cmdline.split("\0")[0] == "/usr/bin/pidvisor"

    def running():
        r = podman("exec", NAME, "pidvisor", "ctl", "status", "--json", user=user, check=False)
        rows = json.loads(r.stdout or "[]")
        states = {x["namespec"]: x["statename"] for x in rows}
        return states if states == {"shop": "RUNNING", "sshd": "RUNNING"} else None
    wait_until(running, 30, 0.3, "shop and sshd RUNNING")

    # the image's own HEALTHCHECK (docker format, kept by podman load)
    inspect = json.loads(podman("inspect", NAME, user=user).stdout)[0]
    assert inspect["Config"]["Healthcheck"]["Test"] == ["CMD", "pidvisor", "check"]
    assert podman("healthcheck", "run", NAME, user=user, check=False).returncode == 0
    health = json.loads(podman("inspect", NAME, user=user).stdout)[0]["State"]["Health"]
    assert health["Status"] == "healthy"

    t0 = time.monotonic()
    podman("stop", "-t", "10", NAME, user=user)
    took = time.monotonic() - t0
    state = json.loads(podman("inspect", NAME, user=user).stdout)[0]["State"]
    logs = podman("logs", NAME, user=user).stdout
    assert state["ExitCode"] == 0, logs[-3000:]
    assert took < 3, f"podman stop took {took:.1f}s"
    assert "pidvisor exiting" in logs
