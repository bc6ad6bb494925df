"""The log path under hostile conditions, on both builds: a reader of pidvisor's stdout that
stalls (PID 1 keeps serving, restarting and stopping; lines stay whole), a full disk and a
removed log directory (said once, survived, recovered)."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import harness
from harness import ROOT, wait_until

BUILDS = {"asan": ROOT / "build" / "asan" / "pidvisor", "release": ROOT / "build" / "pidvisor"}

# 100-byte lines tagged with the writer's pid, numbered from 0.
WRITER = r"""
import os, sys, time
count, pause = int(sys.argv[1]), float(sys.argv[2])
tag = "%s%d" % (sys.argv[3], os.getpid())
for i in range(count):
    head = "%s %07d " % (tag, i)
    os.write(1, (head + "x" * (99 - len(head)) + "\n").encode())
    if pause and i % 10 == 9:
        time.sleep(pause)
"""
PROGRAM_LINE = re.compile(rb"^([a-z]+\d+) (\d{7}) x+\n$")
MAIN_LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} .*\n$")


@pytest.fixture(params=sorted(BUILDS))
def binary(request, monkeypatch):
    path = BUILDS[request.param]
    if not path.exists():
        pytest.fail(f"{path} is not built: make build/pidvisor build/asan/pidvisor")
    monkeypatch.setattr(harness, "PIDVISOR", str(path))
    return str(path)


def program(name, cmd, extra=""):
    return (f"[program:{name}]\ncommand={cmd}\nstartsecs=0\nautorestart=false\n"
            f"stopwaitsecs=2\n{extra}")


def ctl(binary, d, *args, timeout=10):
    t0 = time.monotonic()
    r = subprocess.run([binary, "ctl", "-c", str(d.conf_path), *args], capture_output=True,
                       text=True, timeout=timeout)
    return r, time.monotonic() - t0


def pid_of(binary, d, name):
    r, _ = ctl(binary, d, "pid", name)
    return int(r.stdout.strip())


def check_lines(data, tags_complete=None, count=None, gaps=False):
    """Every line whole; each writer's lines numbered 0, 1, 2... with no gap (unless gaps: the
    lines a full disk dropped). Returns the number of lines seen per writer."""
    seen = {}
    lines = data.splitlines(True)
    for raw in lines:
        if MAIN_LOG_LINE.match(raw):
            continue
        m = PROGRAM_LINE.match(raw)
        assert m and len(raw) == 100, f"torn or foreign line: {raw[:120]!r}"
        tag, n = m.group(1).decode(), int(m.group(2))
        if gaps:
            assert seen.get(tag, -1) < n, f"{tag}: line {n} after {seen.get(tag)}"
        else:
            assert seen.get(tag, -1) == n - 1, f"{tag}: line {n} after {seen.get(tag)}"
        seen[tag] = n
    if tags_complete is not None:
        for prefix in tags_complete:
            full = [t for t in seen if t.startswith(prefix)]
            assert full, f"no line of {prefix}: {sorted(seen)}"
            assert all(seen[t] == count[prefix] - 1 for t in full), (prefix, seen)
    return {t: n + 1 for t, n in seen.items()}


class StalledReader:
    """pidvisor's stdout is a FIFO whose reader exists but reads nothing until resume()."""

    def __init__(self, tmp):
        self.path = tmp / "stdout.txt"  # where harness.Daemon opens stdout
        os.mkfifo(self.path)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self.thread = None
        self.eof = threading.Event()

    def _read(self):
        import select
        while True:
            select.select([self.fd], [], [], 1.0)
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                self.eof.set()
                return
            self.data += chunk

    def resume(self):
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def close(self):
        os.close(self.fd)


def stall_scenario(run, binary, tmp_path):
    """A filler blocks pidvisor's stdout for good; then a burst program writes into its pipe and
    exits: the case that froze PID 1 in poll()."""
    (tmp_path / "w.py").write_text(WRITER)
    reader = StalledReader(tmp_path)
    conf = (program("filler", f"/usr/bin/python3 {tmp_path}/w.py 40000 0 filler",
                    "stdout_logfile=/dev/stdout\n") +
            program("burst", f"/usr/bin/python3 {tmp_path}/w.py 300 0 burst",
                    "stdout_logfile=/dev/stdout\nautostart=false\n") +
            program("other", "sleep 1000", "autorestart=true\n"))
    # at info: at debug the main log, on stdout too, would carry a copy of every line
    d = run("pidvisor", conf, args=("-e", "info"), control=True)
    d.wait_log(r"success: other entered RUNNING")
    # the filler fills the FIFO (1 MiB), pidvisor's queue (1 MiB), then blocks in write
    time.sleep(1.5)
    for runs in (1, 2):  # the second run writes into the pipe the first left unread
        r, _ = ctl(binary, d, "start", "burst")
        assert "burst: started" in r.stdout, r.stdout + r.stderr
        d.wait_log(r"exited: burst", count=runs)
    # answered while the reader is still stalled (until the caller resumes it): the loop did
    # not block on the full FIFO. How fast it answers is bench/'s business.
    r, _ = ctl(binary, d, "status", timeout=30)
    assert re.search(r"filler\s+RUNNING", r.stdout), r.stdout
    assert re.search(r"burst\s+EXITED", r.stdout), r.stdout
    before = pid_of(binary, d, "other")
    r, _ = ctl(binary, d, "restart", "other", timeout=30)
    assert "other: started" in r.stdout, r.stdout + r.stderr
    assert pid_of(binary, d, "other") != before
    return d, reader


def test_stalled_reader_then_resumed_loses_nothing(run, binary, tmp_path):
    d, reader = stall_scenario(run, binary, tmp_path)
    try:
        reader.resume()
        d.wait_log(r"exited: filler", timeout=60)
        # the queued output reaches the resumed reader before the stop
        wait_until(lambda: re.search(rb"^filler\d+ 0039999 x+\n", bytes(reader.data), re.M),
                   timeout=60, interval=0.1, what="filler's last line at the reader")
        assert d.stop(timeout=20) == 0
        assert reader.eof.wait(10)
        check_lines(bytes(reader.data), tags_complete=["filler", "burst"],
                    count={"filler": 40000, "burst": 300})
        bursts = [t for t in check_lines(bytes(reader.data)) if t.startswith("burst")]
        assert len(bursts) == 2
    finally:
        reader.close()


def test_stalled_reader_shutdown_is_bounded_and_lines_stay_whole(run, binary, tmp_path):
    d, reader = stall_scenario(run, binary, tmp_path)
    try:
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        d.proc.wait(timeout=30)
        took = time.monotonic() - t0
        # the programs stop at once; queued output gets SINK_EXIT_GRACE (2 s), then is dropped:
        # bounded although the reader never reads (the wait above is the bound)
        assert took >= 1.5, f"the queued output was not given its grace ({took:.1f}s)"
        assert d.proc.returncode == 0
        assert len(re.findall(r"dropped \d+ bytes of output queued for its stdout",
                              d.stderr())) == 1, d.stderr()
        d.close()  # the harness holds a write end of the FIFO too
        reader.resume()
        assert reader.eof.wait(10)
        seen = check_lines(bytes(reader.data))
        assert any(t.startswith("filler") for t in seen)
    finally:
        d.close()
        reader.close()


def file_writer(run, tmp_path, pause, autostart):
    """pidvisor with one program writing numbered lines to logs/w.log."""
    (tmp_path / "w.py").write_text(WRITER)
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = (program("writer", f"/usr/bin/python3 {tmp_path}/w.py 100000 {pause} w",
                    f"stdout_logfile={logs}/w.log\nautostart={autostart}\n"))
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"supervisord started with pid")
    return d, logs


def said_once_and_serving(binary, d, what):
    time.sleep(2.5)  # retried meanwhile, and said only once
    assert d.log().count(what) == 1, d.log()[-3000:]
    r, _ = ctl(binary, d, "status", timeout=30)
    assert re.search(r"writer\s+RUNNING", r.stdout), r.stdout + r.stderr


def test_full_disk_is_said_once_and_recovered(run, binary, tmp_path):
    d, logs = file_writer(run, tmp_path, 0.05, "false")
    # a 64 KiB file system in pidvisor's own mount namespace, before the log file is opened
    subprocess.run(["nsenter", "-t", str(d.pid), "-m", "mount", "-t", "tmpfs", "-o", "size=64k",
                    "tmpfs", str(logs)], check=True)
    r, _ = ctl(binary, d, "start", "writer")
    assert "writer: started" in r.stdout, r.stdout + r.stderr
    d.wait_log(r"cannot write to .*w\.log: No space left on device", timeout=30)
    said_once_and_serving(binary, d, "No space left on device")
    in_ns = ["nsenter", "-t", str(d.pid), "-m"]
    kept = subprocess.run(in_ns + ["cat", f"{logs}/w.log"], capture_output=True,
                          check=True).stdout
    check_lines(kept, gaps=True)  # a write the disk cut short was taken back off the file
    subprocess.run(in_ns + ["truncate", "-s", "0", f"{logs}/w.log"], check=True)
    d.wait_log(r"writing to .*w\.log again; \d+ bytes were dropped", timeout=10)
    time.sleep(0.3)
    after = subprocess.run(in_ns + ["cat", f"{logs}/w.log"], capture_output=True,
                           check=True).stdout
    assert len(after) > 0
    check_lines(after, gaps=True)
    assert d.stop() == 0


def test_removed_log_directory_is_said_once_and_recovered(run, binary, tmp_path):
    d, logs = file_writer(run, tmp_path, 0.005, "true")
    wait_until(lambda: (logs / "w.log").exists() and (logs / "w.log").stat().st_size > 1000,
               what="the first lines")
    subprocess.run(["rm", "-rf", str(logs)], check=True)
    d.wait_log(r"cannot open .*w\.log: No such file or directory", timeout=10)
    said_once_and_serving(binary, d, "No such file or directory")
    logs.mkdir()
    d.wait_log(r"writing to .*w\.log again; \d+ bytes were dropped", timeout=10)
    wait_until(lambda: (logs / "w.log").stat().st_size > 1000, what="lines in the new file")
    check_lines((logs / "w.log").read_bytes(), gaps=True)
    assert d.stop() == 0
