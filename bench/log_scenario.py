"""Log throughput: 4 writers, each writing 100-byte lines in 4 KiB writes (so lines straddle
writes) to the supervisor, which copies them to its stdout (stdout_logfile=/dev/stdout). The
harness reads that stdout through a pipe and counts MB/s, lines/s and torn lines. The
physical reference is the same 4 writers into one pipe read by `cat`, whose stdout the harness
reads the same way."""
import os
import re
import select
import subprocess

from benchlib import HELPER, Supervisor, Workdir, alternate, config, median, now

WRITERS = 4
LINE = 100
INTACT = re.compile(rb"^w[0-9] \d{12} ([a-z])\1{82}$", re.M)


def drain(fd, expected, timeout):
    """Reads fd until `expected` bytes or EOF; returns (data, first byte time, last byte time)."""
    chunks = []
    got = 0
    first = last = None
    deadline = now() + timeout
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while got < expected and now() < deadline:
        if not poller.poll(200):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        last = now()
        if first is None:
            first = last
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks), first, last


def analyse(data, first, last, lines_per_writer):
    lines = data.count(b"\n")
    intact = sum(1 for _ in INTACT.finditer(data))
    secs = (last - first) if first is not None and last > first else float("nan")
    return {
        "bytes": len(data),
        "lines": lines,
        "intact": intact,
        "torn": lines - intact,
        "lost": WRITERS * lines_per_writer - intact,
        "seconds": secs,
        "mb_s": len(data) / secs / 1e6,
        "lines_s": lines / secs,
    }


def one_supervisor(impl, lines_per_writer, timeout):
    wd = Workdir("logs")
    progs = [(f"w{i}", f"{HELPER} writer {i} {lines_per_writer}", "autorestart=false\n")
             for i in range(WRITERS)]
    conf = config(wd, progs)
    sup = Supervisor(impl, conf, stdout=subprocess.PIPE)
    try:
        data, first, last = drain(sup.proc.stdout.fileno(), WRITERS * lines_per_writer * LINE,
                                  timeout)
    finally:
        sup.kill()
        sup.proc.stdout.close()
        wd.remove()
    return analyse(data, first, last, lines_per_writer)


def one_cat(lines_per_writer, timeout):
    writers = " ".join(f"{HELPER} writer {i} {lines_per_writer} &" for i in range(WRITERS))
    proc = subprocess.Popen(["sh", "-c", f"{{ {writers} wait; }} | cat"], stdout=subprocess.PIPE)
    try:
        data, first, last = drain(proc.stdout.fileno(), WRITERS * lines_per_writer * LINE,
                                  timeout)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    return analyse(data, first, last, lines_per_writer)


def log_throughput(runs, lines_per_writer=250_000, timeout=60):
    """{impl: [per-run dicts]} for pidvisor, supervisord and cat."""
    out = {"pidvisor": [], "supervisord": [], "cat": []}
    for run in range(runs):
        for impl in alternate(run):
            out[impl].append(one_supervisor(impl, lines_per_writer, timeout))
        out["cat"].append(one_cat(lines_per_writer, timeout))
    return out


def summary(samples, key):
    return median([s[key] for s in samples])
