"""Log throughput: 4 writers, each writing 100-byte lines in 4 KiB writes (so lines straddle
writes) to the supervisor, which copies them to its stdout (stdout_logfile=/dev/stdout). The
harness reads that stdout through a pipe and counts MB/s, lines/s and torn lines, from the
moment the writers are released (all at once, through a FIFO) to the last byte, and the CPU
time the supervisor spent meanwhile. The physical reference is the same 4 writers into one
pipe read by `cat`, whose stdout the harness reads the same way."""
import os
import re
import select
import subprocess
import time

from benchlib import (HELPER, Fifo, Supervisor, Workdir, alternate, config, cpu_and_switches,
                      median, now, perf_attach, perf_stop)

WRITERS = 4
LINE = 100
# a writer's line, after the "w0 | " name prefix when log_format=prefix is on
INTACT = re.compile(rb"^(?:w[0-9] +\| )?w[0-9] \d{12} ([a-z])\1{82}$", re.M)
PREFIX = len(b"w0 | ")


def drain(fd, expected, timeout):
    """Reads fd until `expected` bytes or EOF; returns (data, last byte time)."""
    chunks = []
    got = 0
    last = None
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
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks), last


def analyse(data, start, last, cpu, lines_per_writer):
    lines = data.count(b"\n")
    intact = sum(1 for _ in INTACT.finditer(data))
    secs = (last - start) if last is not None else float("nan")
    return {
        "bytes": len(data),
        "lines": lines,
        "intact": intact,
        "torn": lines - intact,
        "lost": WRITERS * lines_per_writer - intact,
        "seconds": secs,
        "mb_s": len(data) / secs / 1e6,
        "lines_s": lines / secs,
        "cpu_s_per_100mb": cpu / (len(data) / 1e8) if data else None,
    }


def writers(lines_per_writer, go):
    return [(f"w{i}", f"{HELPER} writer {i} {lines_per_writer} {go}", "autorestart=false\n")
            for i in range(WRITERS)]


def peak_rss_kib(pid):
    """The high-water mark of the process's RSS (VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def measure(pid, go, out_fd, lines_per_writer, timeout, line_len=LINE):
    """Releases the writers and reads everything `pid` (the supervisor or cat) passes on."""
    cpu0 = cpu_and_switches(pid)[0]
    os.write(go.fd, b"g" * WRITERS)
    start = now()
    data, last = drain(out_fd, WRITERS * lines_per_writer * line_len, timeout)
    cpu = cpu_and_switches(pid)[0] - cpu0
    result = analyse(data, start, last, cpu, lines_per_writer)
    result["peak_rss_kib"] = peak_rss_kib(pid)
    return result


def one_supervisor(impl, lines_per_writer, timeout, perf=None, prefix=False):
    wd = Workdir("logs")
    go = Fifo(wd / "go")
    sup = Supervisor(impl, config(wd, writers(lines_per_writer, wd / "go"),
                                  "log_format=prefix" if prefix else ""),
                     stdout=subprocess.PIPE)
    try:
        # the writers are up (they wait for their byte on the FIFO)
        deadline = now() + 30
        while len(sup.ns_children()) < WRITERS and now() < deadline:
            time.sleep(0.01)
        profiler = perf_attach(sup, perf, "logs")
        result = measure(sup.pid, go, sup.proc.stdout.fileno(), lines_per_writer, timeout,
                         LINE + PREFIX if prefix else LINE)
        perf_stop(profiler)
        return result
    finally:
        sup.kill()
        sup.proc.stdout.close()
        go.close()
        wd.remove()


def one_cat(lines_per_writer, timeout):
    wd = Workdir("logs-cat")
    go = Fifo(wd / "go")
    script = " ".join(f"{cmd} &" for _, cmd, _ in writers(lines_per_writer, wd / "go"))
    src = subprocess.Popen(["sh", "-c", f"{script} wait"], stdout=subprocess.PIPE)
    cat = subprocess.Popen(["cat"], stdin=src.stdout, stdout=subprocess.PIPE)
    src.stdout.close()
    try:
        time.sleep(0.05)  # the writers are up (they wait for their byte on the FIFO)
        return measure(cat.pid, go, cat.stdout.fileno(), lines_per_writer, timeout)
    finally:
        for p in (src, cat):
            p.kill()
            p.wait()
        cat.stdout.close()
        go.close()
        wd.remove()


def log_throughput(runs, lines_per_writer=250_000, timeout=60, perf=None):
    """{impl: [per-run dicts]} for pidvisor, supervisord, cat, and pidvisor with its
    `name | ` prefix on every line (log_format=prefix, a pidvisor extension)."""
    out = {"pidvisor": [], "supervisord": [], "cat": [], "pidvisor-prefix": []}
    for run in range(runs):
        for impl in alternate(run):
            out[impl].append(one_supervisor(impl, lines_per_writer, timeout,
                                            perf if run == 0 else None))
        out["cat"].append(one_cat(lines_per_writer, timeout))
        out["pidvisor-prefix"].append(one_supervisor("pidvisor", lines_per_writer, timeout,
                                                     prefix=True))
    return out


def summary(samples, key):
    return median([s[key] for s in samples])
