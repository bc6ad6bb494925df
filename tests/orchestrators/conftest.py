"""Packages, images and orchestrators, in the Docker engine of tests/docker (its fixtures,
reused here). `make test-orchestrators` runs this folder, as the last step of `make test`; a
plain `pytest tests/` (make proc) leaves it out, so that it runs once: name the folder (or a
file in it) to run it by hand."""
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCKER_TESTS = HERE.parent / "docker"
sys.path.insert(0, str(DOCKER_TESTS))

_spec = importlib.util.spec_from_file_location("docker_conftest", DOCKER_TESTS / "conftest.py")
_docker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docker)
docker_engine = _docker.docker_engine
static_binary = _docker.static_binary
containers = _docker.containers


def named_here(config):
    for arg in config.args:
        p = Path(arg.split("::")[0]).resolve()
        if p == HERE or HERE in p.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    return None if named_here(config) else True
