"""Hostile or broken config files (issue 11): each is refused at start-up with exit status 2, a
FILE:LINE message and nothing started, on the sanitizer build and on the release build, and none
of them may hang or read without bound."""
import os
import re

import pytest

import harness

BUILDS = [harness.ROOT / "build" / "asan" / "pidvisor", harness.ROOT / "build" / "pidvisor"]
START_TIMEOUT = 15


@pytest.fixture(params=BUILDS, ids=["asan", "release"])
def build(request, monkeypatch):
    if not request.param.exists():
        pytest.fail(f"{request.param} is not built (make build/pidvisor build/asan/pidvisor)")
    monkeypatch.setattr(harness, "PIDVISOR", str(request.param))
    return request.param


def refused(d, pattern):
    """The daemon exits 2 in time, says pattern on stderr, and never spawned anything."""
    try:
        status = d.proc.wait(timeout=START_TIMEOUT)
    except Exception:
        d.close()
        raise AssertionError(f"still running after {START_TIMEOUT}s: start-up hangs")
    err = d.stderr()
    assert status == 2, err
    assert re.search(pattern, err), err
    assert "nothing was started" in err
    assert "spawned:" not in d.log()
    return err


def test_include_of_a_fifo_does_not_hang(build, run, tmp_path):
    fifo = tmp_path / "fifo.conf"
    os.mkfifo(fifo)
    d = run("pidvisor", f"[include]\nfiles={fifo}\n[program:p]\ncommand=sleep 30\n")
    main = re.escape(str(d.conf_path))
    refused(d, rf"{main}:8: \[include\] files: '{re.escape(str(fifo))}' is not a regular file")


def test_include_of_dev_zero_is_not_read(build, run):
    d = run("pidvisor", "[include]\nfiles=/dev/zero\n[program:p]\ncommand=sleep 30\n")
    refused(d, rf"{re.escape(str(d.conf_path))}:8: \[include\] files: '/dev/zero' is not a "
               r"regular file")


def test_dev_zero_as_the_config_file_is_not_read(build, run):
    # -c /dev/zero after the harness's own -c: the last one wins, as in supervisord
    d = run("pidvisor", "[program:p]\ncommand=sleep 30\n", args=("-c", "/dev/zero"))
    refused(d, r"^/dev/zero: not a regular file")


def test_a_file_over_16_mib_is_refused_unread(build, run, tmp_path):
    big = tmp_path / "big.conf"
    with open(big, "wb") as f:
        f.write(b"[program:big]\ncommand=sleep 30\n")
        f.truncate(16 * 1024 * 1024 + 1)  # sparse: its size, not its bytes, is refused
    d = run("pidvisor", f"[include]\nfiles={big}\n")
    refused(d, rf"{re.escape(str(d.conf_path))}:8: \[include\] files: '{re.escape(str(big))}' is "
               r"larger than 16 MiB")


def test_a_main_file_over_16_mib_is_refused_unread(build, run, tmp_path):
    big = tmp_path / "big.conf"
    with open(big, "wb") as f:
        f.write(b"[supervisord]\n[program:big]\ncommand=sleep 30\n")
        f.truncate(16 * 1024 * 1024 + 1)
    d = run("pidvisor", "", args=("-c", str(big)))
    refused(d, rf"^{re.escape(str(big))}: larger than 16 MiB")


def test_a_file_of_exactly_16_mib_is_read(build, run, tmp_path):
    big = tmp_path / "big.conf"
    head = b"[program:big]\ncommand=sleep 30\n"
    big.write_bytes(head + b";" * (16 * 1024 * 1024 - len(head) - 1) + b"\n")
    d = run("pidvisor", f"[include]\nfiles={big}\n[program:bad]\ncommand=sleep 1\n"
                        "startsecs=ten\n")
    # read whole, so the error that stops start-up is the next one, not the size
    err = refused(d, rf"{re.escape(str(d.conf_path))}:11: \[program:bad\] startsecs")
    assert "16 MiB" not in err


def test_nul_byte_is_refused_with_line(build, run, tmp_path):
    inc = tmp_path / "nul.conf"
    inc.write_bytes(b"[program:p]\n; fine\ncommand=sleep\x00 30\n")
    d = run("pidvisor", f"[include]\nfiles={inc}\n")
    refused(d, rf"{re.escape(str(inc))}:3: NUL byte at column 14")


def test_nul_byte_in_the_main_file(build, run, tmp_path):
    d = run("pidvisor", "[program:p]\ncommand=sleep 30\nenvironment=A=1\x00,B=2\n")
    refused(d, rf"{re.escape(str(d.conf_path))}:9: NUL byte")


@pytest.mark.parametrize("env", ["A=1,,B=2", ",A=1", "A=1, ,B=2"])
def test_empty_environment_item_is_refused(build, run, env):
    d = run("pidvisor", f"[program:p]\ncommand=sleep 30\nenvironment={env}\n")
    refused(d, rf"{re.escape(str(d.conf_path))}:9: \[program:p\] environment: empty item")


def test_empty_item_in_supervisord_environment(build, run, tmp_path):
    conf = tmp_path / "sd.conf"
    conf.write_text(f"[supervisord]\nlogfile={tmp_path}/main.log\nenvironment=A=1,,B=2\n"
                    "[program:p]\ncommand=sleep 30\n")
    d = run("pidvisor", "", args=("-c", str(conf)))
    refused(d, rf"{re.escape(str(conf))}:3: \[supervisord\] environment: empty item")


def test_one_trailing_comma_is_still_fine(build, run):
    d = run("pidvisor", "[program:p]\ncommand=sleep 30\nenvironment=A=1,B=2,\n")
    try:
        d.wait_log(r"spawned: 'p'", timeout=START_TIMEOUT)
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize("uid", ["4294967296", "4294967295", "-1", "0x0"])
def test_a_uid_that_wraps_is_not_root(build, run, uid):
    # 2^32 would wrap to uid 0: the program would run as root
    d = run("pidvisor", f"[program:p]\ncommand=sleep 30\nuser={uid}\n")
    refused(d, rf"{re.escape(str(d.conf_path))}:9: \[program:p\] user: no such user '{uid}'")
