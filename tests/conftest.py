"""Fixtures shared by every process test; the helpers live in harness.py."""
import pytest

from harness import BUILDS, Daemon


@pytest.fixture(params=["pidvisor", "supervisord"])
def impl(request):
    return request.param


@pytest.fixture(params=sorted(BUILDS))
def build(request):
    """pidvisor's binary, once per build (asan, release): tests of hostile input run on both."""
    return BUILDS[request.param]


@pytest.fixture
def run(tmp_path):
    started = []

    def start(impl, conf, **kw):
        d = Daemon(impl, tmp_path, conf, **kw)
        started.append(d)
        return d
    yield start
    for d in started:
        d.close()
