"""Fixtures for the client tests (helpers live in ctlharness.py, so that
nothing here shadows the top-level conftest)."""

from pathlib import Path

import pytest

from ctlharness import PIDVISOR, SETTLED, Daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("sup"))
    try:
        d.wait_settled(SETTLED)
        yield d
    finally:
        d.stop()


@pytest.fixture
def daemon_pair(tmp_path):
    """Two identical daemons: one driven by supervisorctl, one by pidvisor."""
    (tmp_path / "real").mkdir()
    (tmp_path / "ours").mkdir()
    a = Daemon(tmp_path / "real")
    b = Daemon(tmp_path / "ours")
    try:
        a.wait_settled(SETTLED)
        b.wait_settled(SETTLED)
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture(scope="session")
def symlink(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bin")
    link = d / "supervisorctl"
    link.symlink_to(PIDVISOR)
    return link


