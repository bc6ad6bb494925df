"""loglevel=debug copies every program's output into the main log, as supervisord does
("DEBG 'name' stdout output:\\n<data>"), byte for byte the same records in the main log file and
on stdout (docker logs); a program that floods while nothing reads stdout is held back, so
pidvisor's memory stays bounded and nothing is lost."""
import os
import re
import select
import subprocess
import threading
import time

import psutil

import harness
from harness import Daemon, proc_wait, wait_steady, wait_until

RECORD_START = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.M)
OUTPUT_RECORD = re.compile(rb"^DEBG '([^']*)' (stdout|stderr) output:\n", re.S)

# One write every 0.3 s, so that both supervisors read each as one chunk: UTF-8, bytes that are
# not UTF-8, quotes and control characters, stderr, several lines at once, no newline.
TALK = r"""
import os, time
for fd, data in [(1, b"hello\n"), (1, "caf\u00e9 \u4e2d\n".encode()),
                 (1, b"bad \xff\xfe\x00 \x7f q's\n"), (2, b"err line\n"), (1, b"two\nlines\n"),
                 (1, b"no newline"), (1, b" \\ \t \"dq\" and 'sq'\r\n"), (2, b"\xc3")]:
    os.write(fd, data)
    time.sleep(0.3)
os.write(1, b"end\n")
time.sleep(60)
"""


def output_records(data):
    """The child-output records of a main log, timestamps removed, in order."""
    starts = [m.start() for m in RECORD_START.finditer(data)] + [len(data)]
    records = []
    for a, b in zip(starts, starts[1:]):
        body = data[a:b].split(b" ", 2)[2]
        if OUTPUT_RECORD.match(body):
            records.append(body)
    return records


def test_child_output_in_main_log_as_supervisord_writes_it(tmp_path):
    (tmp_path / "talk.py").write_text(TALK)
    conf = (f"[program:talk]\ncommand=/usr/bin/python3 {tmp_path}/talk.py\nstartsecs=0\n"
            "autorestart=false\n")
    got = {}
    for impl in ("supervisord", "pidvisor"):
        (tmp_path / impl).mkdir()
        d = Daemon(impl, tmp_path / impl, conf)
        try:
            d.wait_log(r"'talk' stdout output:\nend\n", timeout=15)
            assert d.stop() == 0
        finally:
            d.close()
        got[impl] = (output_records(d.log_path.read_bytes()),
                     output_records(d.stdout_path.read_bytes()))
    main, stdout = got["pidvisor"]
    assert main == got["supervisord"][0]
    assert stdout == got["supervisord"][1] == main
    assert main[:3] == [b"DEBG 'talk' stdout output:\nhello\n\n",
                        "DEBG 'talk' stdout output:\ncaf\u00e9 \u4e2d\n\n".encode(),
                        b"DEBG 'talk' stdout output:\nUndecodable: b\"bad \\xff\\xfe\\x00 \\x7f "
                        b"q's\\n\"\n"]
    assert b"DEBG 'talk' stderr output:\nUndecodable: b'\\xc3'\n" in main
    assert b"DEBG 'talk' stdout output:\nno newline\n" in main


def test_info_level_copies_nothing(tmp_path):
    (tmp_path / "talk.py").write_text(TALK)
    conf = (f"[program:talk]\ncommand=/usr/bin/python3 {tmp_path}/talk.py\nstartsecs=0\n"
            "autorestart=false\nstdout_logfile=%(here)s/talk.log\n")
    d = Daemon("pidvisor", tmp_path, conf, args=("-e", "info"))
    try:
        wait_until(lambda: b"end\n" in (tmp_path / "talk.log").read_bytes()
                   if (tmp_path / "talk.log").exists() else False, timeout=15, what="talk's end")
        assert d.stop() == 0
    finally:
        d.close()
    assert b" output:" not in d.log_path.read_bytes()
    assert b"hello" not in d.stdout_path.read_bytes()


FLOOD = r"""
import os, sys
for i in range(int(sys.argv[1])):
    head = "flood %07d " % i
    os.write(1, (head + "x" * (99 - len(head)) + "\n").encode())
"""


def test_flood_at_debug_with_stalled_stdout_is_bounded_and_loses_nothing(tmp_path, build,
                                                                          monkeypatch):
    monkeypatch.setattr(harness, "PIDVISOR", str(build))
    lines = 300_000  # 30 MB
    (tmp_path / "flood.py").write_text(FLOOD)
    os.mkfifo(tmp_path / "stdout.txt")  # where the harness sends pidvisor's stdout
    rfd = os.open(tmp_path / "stdout.txt", os.O_RDONLY | os.O_NONBLOCK)
    conf = (f"[program:flood]\ncommand=/usr/bin/python3 {tmp_path}/flood.py {lines}\n"
            f"startsecs=0\nautorestart=false\nstdout_logfile={tmp_path}/flood.log\n"
            "stdout_logfile_maxbytes=0\n")
    d = Daemon("pidvisor", tmp_path, conf, control=True)
    data = bytearray()
    try:
        log = tmp_path / "flood.log"
        wait_until(lambda: log.exists() and log.stat().st_size > 0, what="the flood")
        flood = d.program_pid("flood")

        def held_back():
            # the size of flood.log while flood is blocked writing to its full pipe
            state = proc_wait(flood)
            blocked = state is not None and state[1].endswith("pipe_write")
            return log.stat().st_size if blocked else None
        held = wait_steady(held_back, what="flood blocked in pipe_write, flood.log not growing")
        rss = psutil.Process(d.pid).memory_info().rss
        time.sleep(1.5)
        # held back: the program blocks in write, pidvisor's queues stay at their caps
        assert log.stat().st_size == held, "the flood was not held back"
        assert held < lines * 100
        assert psutil.Process(d.pid).memory_info().rss < rss + (8 << 20)
        # answered while the flood is held back: the loop does not wait on it
        r = subprocess.run([str(build), "ctl", "-c", str(d.conf_path), "status"],
                           capture_output=True, text=True, timeout=30)
        assert "flood" in r.stdout, r.stdout + r.stderr

        done = threading.Event()

        def read():
            while not done.is_set():
                select.select([rfd], [], [], 0.2)
                try:
                    chunk = os.read(rfd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    return
                data.extend(chunk)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        d.wait_log(r"exited: flood", timeout=120)
        assert d.stop() == 0
        done.set()
        reader.join(10)
    finally:
        d.close()
        os.close(rfd)
    expected = b"".join(b"flood %07d " % i + b"x" * (99 - 14) + b"\n" for i in range(lines))
    assert log.read_bytes() == expected
    copied = b"".join(OUTPUT_RECORD.sub(b"", r)[:-1] for r in output_records(bytes(data)))
    assert copied == expected
