"""The session's Docker engine, with the base image in it; the helpers live in dockerharness.py.
When dockerd cannot start here the tests fail, with dockerd's log: they never skip."""
import subprocess

import pytest

from dockerharness import BASE_IMAGE, DATA_ROOT, ROOT, Engine, EngineError


@pytest.fixture(scope="session")
def docker_engine():
    engine = Engine()
    try:
        engine.start()
        failed = None
    except EngineError as e:
        engine.stop()
        failed = str(e)
    if failed:
        pytest.fail(f"cannot start a Docker engine (is another dockerd using {DATA_ROOT}?): "
                    f"{failed}", pytrace=False)
    try:
        r = subprocess.run([str(ROOT / "packaging" / "make-base-image.sh"), BASE_IMAGE],
                           env=engine.env(), capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.fail(f"make-base-image.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}",
                        pytrace=False)
        yield engine
        engine.prune()
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def static_binary():
    """build/pidvisor-static, as `make static` makes it."""
    r = subprocess.run(["make", "-C", str(ROOT), "static"], capture_output=True, text=True)
    assert r.returncode == 0, f"make static failed:\n{r.stdout}{r.stderr}"
    return ROOT / "build" / "pidvisor-static"


@pytest.fixture
def containers(docker_engine):
    """Starts containers for one test and removes them after it, passed or not."""
    started = []

    def start(image, name, *args, cmd=()):
        c = docker_engine.start_container(image, name, *args, cmd=cmd)
        started.append(c)
        return c
    yield start
    for c in started:
        c.remove()
