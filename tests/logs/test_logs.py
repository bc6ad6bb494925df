"""Child output: whole lines under load, long lines, back-pressure, rotation, AUTO logs,
prefix and JSON formats, SIGUSR2 reopen, tail of programs without a log file."""
import fcntl
import glob
import json
import os
import re
import select
import signal
import subprocess
import threading
import time

import psutil
import pytest

from harness import PIDVISOR, free_port, scrape_metrics, unix_proxy, wait_until

# Writes `count` 100-byte lines per stream as stdio would: 4 KiB writes that ignore line ends.
WRITER = r"""
import os, sys
tag, count = sys.argv[1], int(sys.argv[2])
for fd, stream in ((1, "o"), (2, "e")):
    buf = bytearray()
    for i in range(count):
        line = ("%s%s %07d " % (tag, stream, i)).encode()
        buf += line + b"x" * (99 - len(line)) + b"\n"
        if len(buf) >= 4096:
            os.write(fd, bytes(buf[:4096]))
            del buf[:4096]
    os.write(fd, bytes(buf))
"""

LINE = re.compile(r"^(w\d)([oe]) (\d{7}) x+$")


def conf_header(tmp):
    return (f"[supervisord]\nlogfile={tmp}/main.log\npidfile={tmp}/p\nchildlogdir={tmp}\n"
            "loglevel=info\nsilent=true\n")


def launch(tmp, conf, stdout, stderr=subprocess.DEVNULL):
    (tmp / "c.conf").write_text(conf_header(tmp) + conf)
    return subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                             PIDVISOR, "-n", "-c", str(tmp / "c.conf")],
                            stdout=stdout, stderr=stderr)


def stop(p):
    kids = psutil.Process(p.pid).children()
    if kids:
        kids[0].send_signal(signal.SIGTERM)
    return p.wait(timeout=30)


PREFIXED = re.compile(rb"(w\d) ([|+]) (.*)\n", re.S)


def writers_lines(path, prefixed, unfinished_ok=False):
    """{writer: its lines} from pidvisor's stdout or stderr, with each line that was cut put
    back together: a writer that pauses mid-line for 100 ms (preempted on a busy machine, say)
    has the part sent as a piece that ends with a backslash, and the rest later (with
    log_format=prefix, as `name + rest`). Other lines (pidvisor's own) are left out when
    prefixed; with no prefix, the file holds one writer's lines. unfinished_ok: a piece whose
    rest never came is left out (the output was cut off there)."""
    lines, piece = {}, {}
    with open(path, "rb") as f:
        for raw in f:
            name, mark, text = "", b"|", raw
            if prefixed:
                m = PREFIXED.fullmatch(raw)
                if not m:
                    continue
                name, mark, text = m.group(1).decode(), m.group(2), m.group(3) + b"\n"
                # a continuation follows a piece of the same writer, and only then
                assert (mark == b"+") == (name in piece), f"{name}: {raw[:120]!r}"
            text = piece.pop(name, b"") + text
            if text.endswith(b"\\\n"):
                piece[name] = text[:-2]
            else:
                lines.setdefault(name, []).append(text)
    assert unfinished_ok or not piece, f"unfinished pieces: {piece}"
    return lines


def check_whole(path, streams, count, prefixed=False):
    seen = {}
    for name, lines in writers_lines(path, prefixed).items():
        for raw in lines:
            m = LINE.match(raw.decode(errors="replace").rstrip("\n"))
            assert m and len(raw) == 100, f"torn or foreign line: {raw[:120]!r}"
            key = m.group(1) + m.group(2)
            assert not prefixed or m.group(1) == name, f"{name} | {raw[:120]!r}"
            n = int(m.group(3))
            assert seen.get(key, -1) == n - 1, f"{key}: {n} after {seen.get(key)}"
            seen[key] = n
    assert sorted(seen) == sorted(streams)
    assert all(v == count - 1 for v in seen.values()), seen


def test_four_writers_no_torn_or_lost_lines(tmp_path):
    (tmp_path / "w.py").write_text(WRITER)
    count = 100000
    conf = "".join(
        f"[program:w{i}]\ncommand=/usr/bin/python3 {tmp_path}/w.py w{i} {count}\n"
        "startsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n"
        "stdout_logfile_maxbytes=10MB\nstderr_logfile=/dev/stderr\nlog_format=prefix\n\n"
        for i in range(4))
    size = 4 * count * len(b"w0 | " + b"x" * 100)  # at least: a cut line is longer
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        p = launch(tmp_path, conf, out, err)
        # the writers' exits, then every byte they wrote (their last output may be relayed after
        # the exit is logged); err also holds pidvisor's own lines, so at least as many bytes
        wait_until(lambda: (tmp_path / "main.log").exists() and
                   len(re.findall(r"exited: w\d", (tmp_path / "main.log").read_text())) == 4,
                   timeout=600, interval=0.2, what="the writers")
        wait_until(lambda: os.path.getsize(tmp_path / "out") >= size and
                   os.path.getsize(tmp_path / "err") >= size, timeout=60, interval=0.2,
                   what=f"{size} bytes on each stream")
        assert stop(p) == 0
    # every line on stdout is a writer's; stderr also carries pidvisor's own (e.g. no user=)
    assert all(PREFIXED.fullmatch(raw) for raw in open(tmp_path / "out", "rb"))
    check_whole(tmp_path / "out", [f"w{i}o" for i in range(4)], count, prefixed=True)
    check_whole(tmp_path / "err", [f"w{i}e" for i in range(4)], count, prefixed=True)


class SlowReader:
    """Reads a pipe in small, uneven reads (so pidvisor's pipe stdout runs full and its room
    comes and goes) into a file; .fd is the write end to give pidvisor."""

    def __init__(self, path):
        r, self.fd = os.pipe()
        self.got = 0
        self.thread = threading.Thread(target=self._run, args=(r, path), daemon=True)
        self.thread.start()

    def _run(self, r, path):
        with open(path, "wb") as out:
            for k in range(10**9):
                chunk = os.read(r, (509, 4096, 97, 65536)[k % 4])
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                self.got += len(chunk)
        os.close(r)


def test_spliced_lines_stay_whole_counted_and_tailed(tmp_path):
    """Plain lines to a pipe stdout and stderr go by splice(2) (child_output.c chan_splice):
    with four writers whose 4 KiB writes cut lines, and a reader slower than pidvisor, no line
    is torn, lost or doubled, /metrics counts every line and every byte once (a line a chunk
    cut waits in the program's pipe for the next chunk, and is counted then), and the tail
    holds exactly the last bytes."""
    (tmp_path / "w.py").write_text(WRITER)
    count, port, sock = 50000, free_port(), tmp_path / "s.sock"
    conf = (f"[unix_http_server]\nfile={sock}\n[inet_http_server]\nport=127.0.0.1:{port}\n"
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface\n" + "".join(
                f"[program:w{i}]\ncommand=/usr/bin/python3 {tmp_path}/w.py w{i} {count}\n"
                "startsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n"
                "stderr_logfile=/dev/stderr\n\n" for i in range(4)))
    size = 4 * count * 100
    out, err = SlowReader(tmp_path / "out"), SlowReader(tmp_path / "err")
    p = launch(tmp_path, conf, out.fd, err.fd)
    os.close(out.fd)
    os.close(err.fd)
    try:
        wait_until(lambda: (tmp_path / "main.log").exists() and
                   len(re.findall(r"exited: w\d", (tmp_path / "main.log").read_text())) == 4,
                   timeout=600, interval=0.2, what="the writers")
        wait_until(lambda: out.got >= size and err.got >= size, timeout=120, interval=0.2,
                   what=f"{size} bytes on each stream")
        metrics = scrape_metrics(port)
        for family, per in (("pidvisor_log_lines", count), ("pidvisor_log_bytes", count * 100)):
            got = {(x.labels["name"], x.labels["stream"]): x.value
                   for x in metrics[family].samples if x.name == family + "_total"}
            assert got == {(f"w{i}", s): per for i in range(4) for s in ("stdout", "stderr")}
        rpc = unix_proxy(str(sock))
        for stream, tail in (("o", rpc.supervisor.tailProcessStdoutLog),
                             ("e", rpc.supervisor.tailProcessStderrLog)):
            last = "".join(("w3%s %07d " % (stream, i)).ljust(99, "x") + "\n"
                           for i in range(count - 10, count))
            text, _, _ = tail("w3", 0, 1000)
            assert text == last, text[-200:]
    except BaseException:
        p.kill()  # unshare --kill-child takes pidvisor with it
        raise
    assert stop(p) == 0
    out.thread.join(30)
    err.thread.join(30)
    # pidvisor's own lines on stderr are not the writers'; everything else is
    check_whole(tmp_path / "out", [f"w{i}o" for i in range(4)], count)
    check_whole(tmp_path / "err", [f"w{i}e" for i in range(4)], count)
    assert out.got == size


class Skimmer:
    """Reads a pipe at most 64 KiB every 2 ms (slower than a flood), throwing the bytes away but
    the highest `tick-N` line seen; .fd is the write end to give pidvisor."""

    def __init__(self):
        r, self.fd = os.pipe()
        self.tick = 0
        self.thread = threading.Thread(target=self._run, args=(r,), daemon=True)
        self.thread.start()

    def _run(self, r):
        rest = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()[-64:]
            for line in lines:
                if line.startswith(b"tick-"):
                    self.tick = max(self.tick, int(line[5:]))
            time.sleep(0.002)
        os.close(r)


def test_spliced_program_keeps_going_while_another_fills_the_queue(tmp_path):
    """A program whose lines are spliced lets the stdout queue drain before it reads, but only
    once in a row: a prefixed flood that keeps the queue from emptying must not starve it."""
    conf = ("[program:flood]\ncommand=yes " + "f" * 80 + "\nstartsecs=0\n"
            "stdout_logfile=/dev/stdout\nlog_format=prefix\n\n"
            "[program:tick]\ncommand=sh -c 'i=0; while :; do i=$((i+1)); echo tick-$i; "
            "sleep 0.05; done'\nstartsecs=0\nstdout_logfile=/dev/stdout\n")
    reader = Skimmer()
    p = launch(tmp_path, conf, reader.fd)
    os.close(reader.fd)
    try:
        wait_until(lambda: reader.tick >= 40, timeout=120, interval=0.1,
                   what="tick's 40th line through the flood", detail=lambda: reader.tick)
    finally:
        assert stop(p) == 0
        reader.thread.join(30)


# WRITER's lines, a 4 KiB write to stdout and one to stderr in turn.
BOTH_STREAMS = r"""
import os, sys
tag, count = sys.argv[1], int(sys.argv[2])
bufs = {1: bytearray(), 2: bytearray()}
for i in range(count):
    for fd, stream in ((1, "o"), (2, "e")):
        line = ("%s%s %07d " % (tag, stream, i)).encode()
        bufs[fd] += line + b"x" * (99 - len(line)) + b"\n"
        if len(bufs[fd]) >= 4096:
            os.write(fd, bytes(bufs[fd][:4096]))
            del bufs[fd][:4096]
"""


@pytest.mark.parametrize("case", ["plain", "prefix", "one pipe for stdout and stderr"])
def test_a_reader_that_never_comes_back_finds_no_cut_line(tmp_path, case):
    """pidvisor's stdout is a pipe whose reader stops for good: pidvisor fills it, by splice
    (plain lines) or by writes (prefixed ones), but only with lines the pipe surely takes whole
    (stdout_sink.c pipe_pages_free). Killed then, it leaves whole lines in the pipe, each
    writer's in order from its first, and the last one ends with its newline. Also when its
    stderr is the same pipe, where each sink finds bytes it did not write. (A line its writer
    paused in for 100 ms goes out in marked pieces: put back together here. Plain lines carry
    no name, so there is one writer.) A build that writes past the room fails the prefixed
    cases, one that counts only its own bytes the last; for splices the kernel mostly hides
    such a fault (the rest of a cut line merges into the pipe's last page), so the plain case
    guards less than it shows."""
    plain, shared = case == "plain", case.startswith("one pipe")
    (tmp_path / "w.py").write_text(BOTH_STREAMS if shared else WRITER)
    conf = "".join(
        f"[program:w{i}]\ncommand=/usr/bin/python3 {tmp_path}/w.py w{i} 100000\n"
        "startsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n"
        f"log_format={'plain' if plain else 'prefix'}\n"
        f"stderr_logfile={'/dev/stderr' if shared else 'NONE'}\n\n"
        for i in range(1 if plain else 4))
    r, w = os.pipe()
    p = launch(tmp_path, conf, w, w if shared else subprocess.DEVNULL)
    poller = select.poll()
    poller.register(w, select.POLLOUT)
    try:
        # full: pidvisor made it 1 MiB, and not one more page fits
        wait_until(lambda: fcntl.fcntl(r, fcntl.F_GETPIPE_SZ) == 1 << 20 and not poller.poll(0),
                   timeout=120, interval=0.05, what="pidvisor's stdout pipe full")
    finally:
        p.kill()  # unshare --kill-child: pidvisor and the writers go at once
        p.wait(timeout=30)
        os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    assert len(data) > 512 * 1024 and data.endswith(b"\n"), (len(data), data[-200:])
    (tmp_path / "out").write_bytes(data)
    seen = {}
    for name, got in writers_lines(tmp_path / "out", not plain, unfinished_ok=True).items():
        for raw in got:
            m = LINE.match(raw.decode(errors="replace").rstrip("\n"))
            assert m and len(raw) == 100 and m.group(1) == (name or "w0"), f"{name}: {raw[:120]!r}"
            key = m.group(1) + m.group(2)
            assert int(m.group(3)) == seen.get(key, -1) + 1, f"{name}: {raw[:120]!r}"
            seen[key] = int(m.group(3))
    assert seen
    assert not shared or {k[-1] for k in seen} == {"o", "e"}, sorted(seen)


# Writes N times 40 lines in one write, then "done", then stays (its pipe stays open).
BURST = r"""
import os, sys, time
for _ in range(int(sys.argv[1])):
    os.write(1, (b"y" * 99 + b"\n") * 40)
os.write(1, b"done\n")
time.sleep(60)
"""


def test_a_busy_pipe_is_deepened_and_a_quiet_one_is_not(tmp_path):
    """A program whose pipe was found full on a read gets a 256 KiB pipe (pipe_depth.c), so
    that a wake-up moves more; one that writes little keeps the kernel's 64 KiB."""
    (tmp_path / "w.py").write_text(BURST)
    conf = "".join(f"[program:{name}]\ncommand=/usr/bin/python3 {tmp_path}/w.py {n}\n"
                   "startsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n\n"
                   for name, n in (("busy", 5000), ("quiet", 1)))
    out = SlowReader(tmp_path / "out")
    p = launch(tmp_path, conf, out.fd)
    os.close(out.fd)
    try:
        wait_until(lambda: (tmp_path / "out").read_bytes().count(b"done\n") == 2,
                   timeout=120, interval=0.2, what="both programs' output")
        depth = {}
        for kid in psutil.Process(psutil.Process(p.pid).children()[0].pid).children():
            fd = os.open(f"/proc/{kid.pid}/fd/1", os.O_WRONLY | os.O_NONBLOCK)
            depth[kid.cmdline()[-1]] = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
            os.close(fd)
        assert depth == {"5000": 256 * 1024, "1": 64 * 1024}
    finally:
        stop(p)
    out.thread.join(30)
    check_lines = (tmp_path / "out").read_bytes().split(b"\n")
    assert check_lines.count(b"y" * 99) == 5001 * 40


def test_one_mib_line_survives(tmp_path):
    conf = ("[program:big]\nstartsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n"
            "command=/usr/bin/python3 -c \"import sys; sys.stdout.write('a' * 1048576 + "
            "'\\\\n' + 'after\\\\n')\"\n"
            f"[program:file]\nstartsecs=0\nautorestart=false\nstdout_logfile={tmp_path}/f.log\n"
            "command=/usr/bin/python3 -c \"import sys; sys.stdout.write('b' * 1048576 + "
            "'\\\\n')\"\n")
    with open(tmp_path / "out", "wb") as out:
        p = launch(tmp_path, conf, out)
        wait_until(lambda: (tmp_path / "main.log").exists() and
                   len(re.findall(r"exited: ", (tmp_path / "main.log").read_text())) == 2,
                   timeout=120, what="the programs")
        assert stop(p) == 0
    # whole once its pieces are put back (a line that takes over 1 s to arrive is sent in them)
    lines = writers_lines(tmp_path / "out", prefixed=False)[""]
    assert b"a" * 1048576 + b"\n" in lines and b"after\n" in lines
    assert (tmp_path / "f.log").read_bytes() == b"b" * 1048576 + b"\n"


def test_back_pressure_loses_nothing_and_others_keep_going(tmp_path):
    (tmp_path / "w.py").write_text(WRITER)
    sock = tmp_path / "s.sock"
    conf = (f"[unix_http_server]\nfile={sock}\n[supervisorctl]\nserverurl=unix://{sock}\n"
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface\n"
            f"[program:w0]\ncommand=/usr/bin/python3 {tmp_path}/w.py w0 150000\nstartsecs=0\n"
            "autorestart=false\nstdout_logfile=/dev/stdout\nstderr_logfile=NONE\n"
            f"[program:ticker]\nstartsecs=0\nstdout_logfile={tmp_path}/ticks\n"
            "command=sh -c 'while :; do date +%%s.%%N; sleep 0.05; done'\n")
    (tmp_path / "c.conf").write_text(conf_header(tmp_path) + conf)
    reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE,
                              stdout=open(tmp_path / "out", "wb"))
    os.kill(reader.pid, signal.SIGSTOP)  # the consumer of pidvisor's stdout stalls
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                          PIDVISOR, "-n", "-c", str(tmp_path / "c.conf")],
                         stdout=reader.stdin, stderr=subprocess.DEVNULL)
    reader.stdin.close()
    try:
        wait_until(lambda: sock.exists(), what="the socket")
        time.sleep(1.5)
        # the writer is held back, the ticker and the control socket are not
        before = len((tmp_path / "ticks").read_text().split())
        r = subprocess.run([PIDVISOR, "ctl", "-c", str(tmp_path / "c.conf"), "status"],
                           capture_output=True, text=True, timeout=10)
        assert "w0" in r.stdout and "RUNNING" in r.stdout, r.stdout
        wait_until(lambda: len((tmp_path / "ticks").read_text().split()) > before, timeout=30,
                   what="a tick while the writer is held back")
        rss = psutil.Process(psutil.Process(p.pid).children()[0].pid).memory_info().rss
        assert rss < 64 * 1024 * 1024  # buffers are bounded: nothing piles up
    finally:
        os.kill(reader.pid, signal.SIGCONT)
    wait_until(lambda: "exited: w0" in (tmp_path / "main.log").read_text(), timeout=60)
    assert stop(p) == 0
    reader.wait(timeout=30)
    check_whole(tmp_path / "out", ["w0o"], 150000)


def test_rotation_never_exceeds_maxbytes_and_keeps_backups(tmp_path):
    conf = (f"[program:rot]\nstartsecs=0\nautorestart=false\n"
            f"stdout_logfile={tmp_path}/rot.log\nstdout_logfile_maxbytes=10KB\n"
            "stdout_logfile_backups=3\n"
            "command=/usr/bin/python3 -c \"import sys\n"
            "  [sys.stdout.write(('line %%06d ' %% i) + 'y' * (i %% 150) + '\\\\n') "
            "for i in range(3000)]\"\n")
    p = launch(tmp_path, conf, subprocess.DEVNULL)
    wait_until(lambda: (tmp_path / "main.log").exists() and
               "exited: rot" in (tmp_path / "main.log").read_text(), timeout=30)
    assert stop(p) == 0
    files = sorted(glob.glob(f"{tmp_path}/rot.log*"))
    assert files == [f"{tmp_path}/rot.log"] + [f"{tmp_path}/rot.log.{i}" for i in (1, 2, 3)]
    for f in files:
        data = open(f, "rb").read()
        assert 0 < len(data) <= 10240, (f, len(data))
        assert data.endswith(b"\n")  # rotated on a line boundary
    # the newest lines, in order, across the backups
    text = b"".join(open(f, "rb").read() for f in reversed(files)).decode()
    nums = [int(n) for n in re.findall(r"^line (\d+)", text, re.M)]
    assert nums == list(range(nums[0], 3000))


def test_auto_log_names_childlogdir_and_cleanup(tmp_path):
    logs = tmp_path / "childlogs"
    logs.mkdir()
    stale = logs / "old-stdout---supervisor-ABCDEF.log"
    stale.write_text("from an earlier run\n")
    conf = (f"[supervisord]\nchildlogdir={logs}\n"
            "[program:auto]\ncommand=sh -c 'echo to-auto; echo err-auto >&2; sleep 100'\n"
            "startsecs=0\n")
    p = launch(tmp_path, conf, subprocess.DEVNULL)
    wait_until(lambda: glob.glob(f"{logs}/auto-stdout---supervisor-*.log") and
               "to-auto" in open(glob.glob(f"{logs}/auto-stdout---supervisor-*.log")[0]).read(),
               what="the AUTO log")
    assert not stale.exists()  # nocleanup=false: old AUTO logs go at start
    [err] = glob.glob(f"{logs}/auto-stderr---supervisor-*.log")
    assert re.fullmatch(r"auto-stderr---supervisor-\w{8}\.log", os.path.basename(err))  # as mkstemp
    wait_until(lambda: "err-auto" in open(err).read())
    assert stop(p) == 0


def test_nocleanup_keeps_old_auto_logs(tmp_path):
    stale = tmp_path / "old-stdout---supervisor-ABCDEF.log"
    stale.write_text("keep me\n")
    p = launch(tmp_path, "[supervisord]\nnocleanup=true\n[program:x]\ncommand=sleep 100\n"
                         "startsecs=0\n", subprocess.DEVNULL)
    wait_until(lambda: (tmp_path / "main.log").exists() and
               "success: x" in (tmp_path / "main.log").read_text())
    assert stale.read_text() == "keep me\n"
    assert stop(p) == 0


def formatted_output(tmp_path, conf, *until):
    """The lines of pidvisor's stdout under conf, once each byte string of until is in it
    (until names every line the caller asserts: what is out by the stop is what it gets)."""
    out_path = tmp_path / "out"
    with open(out_path, "wb") as out:
        p = launch(tmp_path, conf, out)
        wait_until(lambda: all(u in out_path.read_bytes() for u in until), timeout=30,
                   what=f"{until} on stdout", detail=lambda: out_path.read_bytes()[-2000:])
        assert stop(p) == 0
    return out_path.read_text().splitlines()


def test_prefix_and_json_formats(tmp_path):
    conf = ("[supervisord]\nlog_format=prefix\n"
            "[program:web]\ncommand=sh -c 'echo hello; echo \"say \\\"hi\\\"\"; sleep 100'\n"
            "startsecs=0\nstdout_logfile=/dev/stdout\n"
            "[program:worker_long_name]\ncommand=sh -c 'echo oops >&2; sleep 100'\n"
            "startsecs=0\nstderr_logfile=/dev/stdout\nlog_format=json\n")
    lines = formatted_output(tmp_path, conf, b"oops", b"hello", b'say "hi"')
    assert "web              | hello" in lines
    assert 'web              | say "hi"' in lines
    [j] = [json.loads(l) for l in lines if l.startswith("{")]
    assert j["program"] == "worker_long_name" and j["stream"] == "stderr"
    assert j["line"] == "oops"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", j["ts"])


def test_timestamps_in_the_plain_and_prefix_formats(tmp_path):
    """log_timestamp=true: the time first on every line, then the prefix when there is one."""
    conf = ("[supervisord]\nlog_timestamp=true\n"
            "[program:plain]\ncommand=sh -c 'echo hello; echo again; sleep 100'\n"
            "startsecs=0\nstdout_logfile=/dev/stdout\nlog_format=plain\n"
            "[program:pre]\ncommand=sh -c 'echo world; sleep 100'\n"
            "startsecs=0\nstdout_logfile=/dev/stdout\nlog_format=prefix\n")
    lines = formatted_output(tmp_path, conf, b"hello", b"again", b"world")
    ts = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
    assert len([l for l in lines if re.fullmatch(ts + r"(hello|again)", l)]) == 2, lines
    assert [l for l in lines if re.fullmatch(ts + r"pre +\| world", l)], lines


def test_sigusr2_reopens_log_files(tmp_path):
    conf = (f"[program:talk]\nstartsecs=0\nstdout_logfile={tmp_path}/talk.log\n"
            "command=sh -c 'i=0; while :; do i=$((i+1)); echo \"n $i\"; sleep 0.05; done'\n")
    p = launch(tmp_path, conf, subprocess.DEVNULL)
    wait_until(lambda: (tmp_path / "talk.log").exists() and
               (tmp_path / "talk.log").stat().st_size > 0)
    os.rename(tmp_path / "talk.log", tmp_path / "talk.log.rotated")  # as logrotate does
    time.sleep(0.3)
    pidvisor = psutil.Process(p.pid).children()[0]
    pidvisor.send_signal(signal.SIGUSR2)
    wait_until(lambda: (tmp_path / "talk.log").exists() and
               "n " in (tmp_path / "talk.log").read_text(), what="the reopened log")
    stop(p)
    old = [int(n) for n in re.findall(r"n (\d+)", (tmp_path / "talk.log.rotated").read_text())]
    new = [int(n) for n in re.findall(r"n (\d+)", (tmp_path / "talk.log").read_text())]
    assert old and new and old[-1] + 1 == new[0]  # nothing lost between the two files


def test_tail_of_a_program_without_log_file(tmp_path):
    sock = tmp_path / "s.sock"
    conf = (f"[unix_http_server]\nfile={sock}\n[supervisorctl]\nserverurl=unix://{sock}\n"
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface\n"
            "[program:console]\ncommand=sh -c 'echo first; echo second; sleep 100'\n"
            "startsecs=0\nstdout_logfile=/dev/stdout\n")
    p = launch(tmp_path, conf, subprocess.DEVNULL)
    wait_until(lambda: sock.exists())
    r = wait_until(lambda: (lambda r: r if "second" in r.stdout else None)(
        subprocess.run(["supervisorctl", "-c", str(tmp_path / "c.conf"), "tail", "console"],
                       capture_output=True, text=True, timeout=10)))
    assert r.stdout == "first\nsecond\n\n"
    stop(p)
