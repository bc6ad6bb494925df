"""Podman (Debian's 4.3), rootful and rootless, runs a pidvisor-built image, the example's
app/shop-api saved from tests/docker's engine and loaded with podman load: pidvisor is PID 1,
the image's HEALTHCHECK passes, and `podman stop` ends with exit 0 within 3 s. Rootless runs as
a user the test makes (with its subordinate ids) and removes afterwards. Rootless podman also runs
tests/docker/test_hardened.py's image with its flags (--read-only, --user 10001, --cap-drop ALL,
no-new-privileges).

Two settings this machine needs, not pidvisor: there is no systemd, so the cgroupfs cgroup
manager (and the health check is run with `podman healthcheck run`, which a systemd timer would
run on a host that has one); and podman 4.3 sets RLIMIT_NPROC to the hard limit, which runc
may not set in this VM, so the test gives explicit, lower limits."""
import contextlib
import json
import shutil
import subprocess

import pytest

from dockerharness import stopped_on_signal
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


def podman_cleanup(*args, user=None):
    """A cleanup step: given time on a loaded machine, and never the test's failure (what it
    leaves is removed with the rootless user, or by the next run's rm -f)."""
    try:
        podman(*args, user=user, check=False, timeout=600)
    except subprocess.TimeoutExpired:
        print(f"podman {' '.join(args)}: no answer in 600 s; left for the next run")


def load_from_docker(engine, tag, user):
    """docker save | podman load, as user (None: root)."""
    save = subprocess.Popen(["docker", "save", tag], env=engine.env(), stdout=subprocess.PIPE)
    as_user = ["runuser", "-u", user, "--"] if user else []
    r = subprocess.run([*as_user, *PODMAN, "load"], stdin=save.stdout, capture_output=True,
                       text=True, timeout=600, cwd="/tmp")
    save.stdout.close()
    assert save.wait() == 0 and r.returncode == 0, r.stderr[-3000:]
    return f"localhost/{tag}"


@contextlib.contextmanager
def rootless_user(user=ROOTLESS_USER, first_id=300000):
    """user, made with 65536 subordinate ids from first_id; podman's state and the user removed
    after."""
    subprocess.run(["userdel", "-r", user], capture_output=True)
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", user], check=True)
    try:
        try:
            with open("/etc/subuid") as f:
                has_ids = any(x.startswith(f"{user}:") for x in f)
        except FileNotFoundError:
            has_ids = False
        if not has_ids:  # useradd gives them only where /etc/subuid exists
            ids = f"{first_id}-{first_id + 65535}"
            subprocess.run(["usermod", "--add-subuids", ids, "--add-subgids", ids, user],
                           check=True)
        yield user
    finally:
        podman_cleanup("system", "reset", "-f", user=user)
        subprocess.run(["userdel", "-r", user], capture_output=True)


@pytest.fixture(scope="module", params=["rootful", "rootless"])
def podman_image(request, docker_engine, shop_api):
    assert shutil.which("podman"), "podman is not installed (packaging/install-deps.sh image)"
    with contextlib.ExitStack() as stack:
        user = stack.enter_context(rootless_user()) if request.param == "rootless" else None
        image = load_from_docker(docker_engine, shop_api, user)
        try:
            yield image, user
        finally:
            podman_cleanup("rm", "-f", NAME, user=user)
            if not user:  # a rootless user's images go with its `system reset`
                podman_cleanup("rmi", "-f", image)


def wait_running(name, user, programs, timeout):
    def running():
        r = podman("exec", name, "pidvisor", "ctl", "status", "--json", user=user, check=False)
        states = {x["namespec"]: x["statename"] for x in json.loads(r.stdout or "[]")}
        return states if states == {p: "RUNNING" for p in programs} else None
    wait_until(running, timeout, 0.3, f"{programs} RUNNING")


def stop_clean(name, user):
    """podman stop; asserts exit status 0 and that no program needed a SIGKILL. The grace is
    long so that a busy machine never reaches podman's own SIGKILL. Returns the logs."""
    podman("stop", "-t", "60", name, user=user, timeout=120)
    state = json.loads(podman("inspect", name, user=user).stdout)[0]["State"]
    logs = podman("logs", name, user=user).stdout
    assert state["ExitCode"] == 0, logs[-3000:]
    assert stopped_on_signal(logs), logs[-3000:]
    return logs


def test_podman_runs_a_pidvisor_image(podman_image):
    image, user = podman_image
    podman("rm", "-f", NAME, user=user, check=False)
    podman("run", "-d", "--name", NAME, "--network", "none", *LIMITS, image, user=user)
    cmdline = podman("exec", NAME, "cat", "/proc/1/cmdline", user=user).stdout
    assert cmdline.split("\0")[0] == "/usr/bin/pidvisor"

    wait_running(NAME, user, ["shop", "sshd"], 30)

    # the image's own HEALTHCHECK (docker format, kept by podman load)
    inspect = json.loads(podman("inspect", NAME, user=user).stdout)[0]
    assert inspect["Config"]["Healthcheck"]["Test"] == ["CMD", "pidvisor", "check"]
    assert podman("healthcheck", "run", NAME, user=user, check=False).returncode == 0
    health = json.loads(podman("inspect", NAME, user=user).stdout)[0]["State"]["Health"]
    assert health["Status"] == "healthy"

    logs = stop_clean(NAME, user)
    assert "pidvisor exiting" in logs


def test_rootless_podman_runs_it_hardened(docker_engine, static_binary, tmp_path):
    """tests/docker/test_hardened.py's image and flags, under rootless podman."""
    from test_hardened import HARDENED, build_image
    assert shutil.which("podman"), "podman is not installed (packaging/install-deps.sh image)"
    name = f"{NAME}-hardened"
    # a user of its own: test_podman_runs_a_pidvisor_image removes ROOTLESS_USER
    with rootless_user("pidvisor-podman-hard", 400000) as user:
        image = load_from_docker(docker_engine, build_image(docker_engine, static_binary,
                                                            tmp_path), user)
        podman("run", "-d", "--name", name, "--network", "none", *LIMITS, *HARDENED, image,
               user=user)
        wait_running(name, user, ["ticker", "worker"], 60)
        assert podman("exec", name, "id", "-u", user=user).stdout.strip() == "10001"
        logs = stop_clean(name, user)
        assert "stopped: worker (exit status 0)" in logs, logs[-3000:]
