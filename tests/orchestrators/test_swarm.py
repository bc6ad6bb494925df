"""Docker Swarm, on tests/docker's engine: the example stack's app image deployed from the file
`pidvisor-image compose` writes, 2 replicas that turn healthy, a forced rolling update whose
stopped containers all exit 0 (stopped by pidvisor within the computed grace period, not
killed), and `docker stack rm` leaving nothing; then the fail-fast settings on the same swarm: a
variant of the app whose shop is essential (`shutdown_on=unexpected`) and health-checked
(`on_unhealthy=shutdown`): killing shop in one task, or hanging it, ends that container with
the program's code (or 1) and Swarm replaces the task. The swarm is left at the end."""
import json
import shutil
import subprocess

import pytest
import yaml

from dockerharness import PREFIX, ROOT
from harness import wait_until

STACK = ROOT / "Dockerfile.examples" / "stack.yaml"
IMAGE_TOOL = ROOT / "build" / "pidvisor-image"
APP = "app/shop-api"  # built by conftest's shop_api
NAME = "pvswarm"
SERVICE = f"{NAME}_app-shop-api"


@pytest.fixture(scope="module")
def swarm(docker_engine, shop_api):
    docker_engine.docker("swarm", "leave", "--force", check=False, timeout=60)
    # the data root persists: a run killed before it left its swarm leaves that swarm's task
    # containers behind, which no manager will remove now and which carry our services' labels
    orphans = docker_engine.out("ps", "-aq", "--filter", "label=com.docker.swarm.task.id").split()
    if orphans:
        docker_engine.docker("rm", "-f", *orphans, timeout=300)
    docker_engine.docker("swarm", "init", "--advertise-addr", "127.0.0.1", timeout=60)
    try:
        yield docker_engine
    finally:
        docker_engine.docker("stack", "rm", NAME, check=False, timeout=60)
        docker_engine.docker("swarm", "leave", "--force", check=False, timeout=60)


def service_containers(engine, all_=False, service=SERVICE):
    ids = engine.out("ps", *(["-a"] if all_ else []), "-q", "--filter",
                     f"label=com.docker.swarm.service.name={service}").split()
    # a container may go between ps and inspect: inspect prints the others
    r = engine.docker("inspect", *ids, check=False) if ids else None
    return json.loads(r.stdout or "[]") if r else []


def healthy_tasks(engine, n, service=SERVICE):
    seen = {}

    def cond():
        cs = service_containers(engine, service=service)
        seen["states"] = [(c["State"]["Status"], (c["State"].get("Health") or {}).get("Status"))
                          for c in cs]
        ok = [c for c in cs if (c["State"].get("Health") or {}).get("Status") == "healthy"]
        return ok if len(cs) == n and len(ok) == n else None
    # generous: a deadline costs time only when the test fails (a CI-like run missed 60 s)
    return wait_until(cond, 180, 0.5, f"{n} healthy tasks", detail=lambda: (
        f"containers {seen.get('states')}; tasks:\n"
        + engine.out("service", "ps", "--no-trunc", service, check=False)))


def remove_stack(engine, name, service):
    """docker stack rm, then waits until the stack's containers and its network are gone.
    stack rm removes the network while the tasks are still stopping, which the engine can
    refuse ("network ... is in use by task"): the wait removes it again once they are gone."""
    engine.docker("stack", "rm", name, check=False, timeout=60)
    seen = {}

    def gone():
        cs = service_containers(engine, all_=True, service=service)
        seen["containers"] = [(c["Name"], c["State"]["Status"]) for c in cs]
        if cs:
            return False
        net = f"{name}_default"
        if engine.out("network", "ls", "-q", "--filter", f"name={net}"):
            engine.docker("network", "rm", net, check=False, timeout=60)
            return False
        return True
    wait_until(gone, 120, 0.5, f"stack {name} gone",
               detail=lambda: f"containers left {seen.get('containers')}")


def test_stack_on_swarm(swarm, tmp_path):
    out = tmp_path / "stack.yml"
    r = subprocess.run([str(IMAGE_TOOL), "compose", str(STACK), APP, "--tag-prefix",
                        f"{PREFIX}/", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    svc = yaml.safe_load(out.read_text())["services"]["app-shop-api"]
    assert svc["deploy"]["replicas"] == 2
    grace = int(svc["stop_grace_period"].rstrip("s"))
    assert grace == 10 + 10 + 5  # shop and sshd at supervisord's default stopwaitsecs

    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(out), NAME,
                 timeout=120)
    nets = swarm.out("network", "ls", "--filter", f"name={NAME}_default", "--format",
                     "{{.Driver}}")
    assert nets == "overlay"
    first = healthy_tasks(swarm, 2)
    spec = json.loads(swarm.out("service", "inspect", SERVICE))[0]["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] == grace * 10**9
    assert spec["TaskTemplate"]["RestartPolicy"]["Condition"] == "any"
    for c in first:
        assert c["Config"]["Entrypoint"] == ["/usr/bin/pidvisor"]

    # a rolling update: each old task is stopped (SIGTERM) and replaced, one at a time
    swarm.docker("service", "update", "--force", "--detach=false", SERVICE, timeout=300)
    second = healthy_tasks(swarm, 2)
    assert not {c["Id"] for c in first} & {c["Id"] for c in second}
    for c in first:
        st = json.loads(swarm.out("inspect", c["Id"]))[0]["State"]
        # 0: pidvisor stopped everything and exited before the grace period ran out (a SIGKILL
        # after it would be 137)
        assert (st["Status"], st["ExitCode"]) == ("exited", 0), st
    ps = swarm.out("service", "ps", "--format", "{{.DesiredState}} {{.CurrentState}}", SERVICE)
    assert ps.count("Shutdown Shutdown") == 2, ps

    remove_stack(swarm, NAME, SERVICE)
    assert swarm.out("service", "ls", "-q") == ""


HARDENED = "app/shop-hardened"
HD_NAME = "pvhard"
HD_SERVICE = f"{HD_NAME}_app-shop-hardened"


@pytest.fixture(scope="module")
def shop_hardened(docker_engine, static_binary):
    r = subprocess.run([str(IMAGE_TOOL), "build", str(STACK), HARDENED, "--network", "host",
                        "--tag-prefix", f"{PREFIX}/"], env=docker_engine.env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return f"{PREFIX}/{HARDENED}"


def test_hardened_stack_on_swarm(swarm, shop_hardened, tmp_path):
    """The example's hardened app, deployed from `pidvisor-image compose` as it writes it: its
    tasks run as uid 10001 on a read-only root with no capabilities, turn healthy, and go with
    `docker stack rm`."""
    out = tmp_path / "stack.yml"
    r = subprocess.run([str(IMAGE_TOOL), "compose", str(STACK), HARDENED, "--tag-prefix",
                        f"{PREFIX}/", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    svc = yaml.safe_load(out.read_text())["services"]["app-shop-hardened"]
    assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], svc
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(out), HD_NAME,
                 timeout=120)
    try:
        tasks = healthy_tasks(swarm, svc["deploy"]["replicas"], service=HD_SERVICE)
        for c in tasks:
            assert c["Config"]["User"] == "10001:10001", c["Config"]["User"]
            assert c["HostConfig"]["ReadonlyRootfs"] is True
            assert "ALL" in (c["HostConfig"]["CapDrop"] or []), c["HostConfig"]["CapDrop"]
    finally:
        remove_stack(swarm, HD_NAME, HD_SERVICE)


FAILFAST = "app/shop-failfast"
FF_NAME = "pvff"
FF_SERVICE = f"{FF_NAME}_app-shop-failfast"


def failfast_stack(tmp_path):
    """The example stack plus app/shop-failfast: shop-api's image with shop made essential and
    health-checked, written next to a copy of the example's files (pidvisor-image takes
    files: sources only from inside the stack file's directory)."""
    doc = yaml.safe_load(STACK.read_text())
    shutil.copytree(STACK.parent / "files", tmp_path / "files")
    app = dict(doc["images"][APP])
    app["labels"] = {"org.opencontainers.image.title": "shop-failfast"}
    shop = dict(app["programs"]["shop"])
    shop.update({"shutdown_on": "unexpected", "healthcheck": "http://127.0.0.1:8080/health",
                 "healthcheck_interval": "1s", "healthcheck_timeout": "1s",
                 "healthcheck_retries": 2, "on_unhealthy": "shutdown", "stopwaitsecs": 2})
    app["programs"] = {"shop": shop}
    doc["images"][FAILFAST] = app
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def tasks(engine):
    """[(task id, desired state, current state, error)] of the fail-fast service."""
    out = engine.out("service", "ps", "--no-trunc", "--format",
                     "{{.ID}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}", FF_SERVICE)
    return [tuple(line.split("|")) for line in out.splitlines()]


def ff_healthy(engine, n):
    return healthy_tasks(engine, n, service=FF_SERVICE)


def fail_one(engine, how, code):
    """Breaks shop in one healthy task (how: a shell line run in it); that container must exit
    with code, and a new healthy task take its place."""
    victim = ff_healthy(engine, 2)[0]
    # the container may stop before the exec returns: its shell then ends with 143 or 137
    r = engine.docker("exec", victim["Id"], "sh", "-c", how, timeout=30, check=False)
    assert r.returncode in (0, 137, 143), r.stdout + r.stderr

    def exited():
        st = json.loads(engine.out("inspect", victim["Id"]))[0]["State"]
        return st if st["Status"] == "exited" else None
    st = wait_until(exited, 60, 0.3, "the broken task's container to exit")
    assert st["ExitCode"] == code, st
    logs = engine.docker("logs", victim["Id"], check=False)
    assert "pidvisor will exit %d" % code in logs.stdout + logs.stderr, logs.stdout[-3000:]
    seen = []

    def failed_task():
        seen[:] = tasks(engine)
        return any(cur.startswith("Failed") and f"non-zero exit ({code})" in err
                   for _, _, cur, err in seen)
    wait_until(failed_task, 30, 0.5, f"a failed task with exit {code} in docker service ps",
               detail=lambda: seen)
    fresh = ff_healthy(engine, 2)
    assert victim["Id"] not in {c["Id"] for c in fresh}


def test_failfast_on_swarm(swarm, tmp_path):
    stack = failfast_stack(tmp_path)
    r = subprocess.run([str(IMAGE_TOOL), "build", str(stack), FAILFAST, "--network", "host",
                        "--tag-prefix", f"{PREFIX}/"], env=swarm.env(), capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    out = tmp_path / "stack.yml"
    r = subprocess.run([str(IMAGE_TOOL), "compose", str(stack), FAILFAST, "--tag-prefix",
                        f"{PREFIX}/", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    svc = yaml.safe_load(out.read_text())["services"]["app-shop-failfast"]
    assert svc["deploy"]["restart_policy"]["condition"] == "any"
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(out), FF_NAME,
                 timeout=120)
    try:
        # an essential program killed: its status as a shell gives it (128 + 9)
        fail_one(swarm, "kill -9 $(pidvisor ctl pid shop)", 137)
        # a hung program: its health check times out twice, on_unhealthy=shutdown exits 1
        fail_one(swarm, "kill -STOP $(pidvisor ctl pid shop)", 1)
    finally:
        remove_stack(swarm, FF_NAME, FF_SERVICE)
