"""Packages, images and orchestrators, in the Docker engine of tests/docker (its fixtures,
reused here). `make test-orchestrators` runs this folder, as the last step of `make test`; a
plain `pytest tests/` (make proc) leaves it out, so that it runs once: name the folder (or a
file in it) to run it by hand, in a pytest run of its own (with tests/docker in the same run,
each folder's session would start an engine on the one data root)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DOCKER_TESTS = HERE.parent / "docker"
sys.path.insert(0, str(DOCKER_TESTS))

_spec = importlib.util.spec_from_file_location("docker_conftest", DOCKER_TESTS / "conftest.py")
_docker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docker)
docker_engine = _docker.docker_engine
static_binary = _docker.static_binary
containers = _docker.containers

from dockerharness import PREFIX, ROOT  # noqa: E402  (once tests/docker is on the path)

APP = "app/shop-api"


@pytest.fixture(scope="session")
def shop_api(docker_engine, static_binary):
    """The example stack's app/shop-api, built by pidvisor-image as tests/docker/test_stacks.py
    builds it (so docker's cache has it): its tag in the engine."""
    tool = ROOT / "build" / "pidvisor-image"
    r = subprocess.run(["make", "-C", str(ROOT), "build/pidvisor-image"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(tool), "build", str(ROOT / "Dockerfile.examples" / "stack.yaml"),
                        APP, "--network", "host", "--tag-prefix", f"{PREFIX}/"],
                       env=docker_engine.env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, \
        f"pidvisor-image build failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}"
    return f"{PREFIX}/{APP}"


def named_here(config):
    for arg in config.args:
        p = Path(arg.split("::")[0]).resolve()
        if p == HERE or HERE in p.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    return None if named_here(config) else True
