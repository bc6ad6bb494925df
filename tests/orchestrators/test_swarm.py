"""Docker Swarm, on tests/docker's engine: the example stack's app image deployed from the file
`pidvisor-image compose` writes, 2 replicas that turn healthy, a forced rolling update whose
stopped containers all exit 0 (stopped by pidvisor within the computed grace period, not
killed), and `docker stack rm` leaving nothing. The swarm is left at the end.

Not here yet: killing an essential program and `on_unhealthy=shutdown` (they need the
fail-fast settings of the container-native supervision issue)."""
import json
import subprocess
import time

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
    docker_engine.docker("swarm", "init", "--advertise-addr", "127.0.0.1", timeout=60)
    try:
        yield docker_engine
    finally:
        docker_engine.docker("stack", "rm", NAME, check=False, timeout=60)
        docker_engine.docker("swarm", "leave", "--force", check=False, timeout=60)


def service_containers(engine, all_=False):
    ids = engine.out("ps", *(["-a"] if all_ else []), "-q", "--filter",
                     f"label=com.docker.swarm.service.name={SERVICE}").split()
    # a container may go between ps and inspect: inspect prints the others
    r = engine.docker("inspect", *ids, check=False) if ids else None
    return json.loads(r.stdout or "[]") if r else []


def healthy_tasks(engine, n):
    def cond():
        cs = service_containers(engine)
        ok = [c for c in cs if (c["State"].get("Health") or {}).get("Status") == "healthy"]
        return ok if len(cs) == n and len(ok) == n else None
    return wait_until(cond, 60, 0.5, f"{n} healthy tasks")


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
    t0 = time.monotonic()
    swarm.docker("service", "update", "--force", "--detach=false", SERVICE, timeout=300)
    took = time.monotonic() - t0
    second = healthy_tasks(swarm, 2)
    assert not {c["Id"] for c in first} & {c["Id"] for c in second}
    for c in first:
        st = json.loads(swarm.out("inspect", c["Id"]))[0]["State"]
        # 0: pidvisor stopped everything and exited before the grace period ran out (a SIGKILL
        # after it would be 137)
        assert (st["Status"], st["ExitCode"]) == ("exited", 0), st
    assert took < 2 * (grace + 30), f"the update took {took:.0f}s"
    ps = swarm.out("service", "ps", "--format", "{{.DesiredState}} {{.CurrentState}}", SERVICE)
    assert ps.count("Shutdown Shutdown") == 2, ps

    swarm.docker("stack", "rm", NAME, timeout=60)
    wait_until(lambda: not service_containers(swarm, all_=True), 60, 0.5,
               "no container of the stack")
    assert swarm.out("service", "ls", "-q") == ""
