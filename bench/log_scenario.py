"""Log throughput: 4 writers, each writing 100-byte lines in 4 KiB writes (so lines straddle
writes) to the supervisor, which copies them to its stdout (stdout_logfile=/dev/stdout). That
stdout is a pipe of 1 MiB (PIPE_DEPTH in bench/helper.c) read by `helper counter`, a C reader
that counts bytes, lines and torn lines, so the reading end is never the limit (a Python
reader was: every supervisor measured the same as it). MB/s and lines/s run from the moment
the writers are released (all at once, through a FIFO) to the last byte read, with the CPU
time the supervisor spent meanwhile. The physical reference is the same 4 writers into one
pipe read by `cat`, whose stdout goes to the same counter through a pipe of the same depth."""
import os
import subprocess
import time

from benchlib import (HELPER, Fifo, Supervisor, Workdir, alternate, config, cpu_seconds,
                      median, now, perf_attach, perf_stop)

WRITERS = 4
LINE = 100
PREFIX = len(b"w0 | ")  # the name prefix on every line when log_format=prefix is on
PIPE_DEPTH_KIB = 1024   # of the pipe the counter reads (bench/helper.c PIPE_DEPTH)
GRACE = 5               # s after the writers are gone for the last byte to reach the counter


class Counter:
    """`helper counter` reading a pipe: .fd is the write end to give the measured process."""

    def __init__(self, wd, expected):
        self.out = wd / "counted"
        r, self.fd = os.pipe()
        self.proc = subprocess.Popen([str(HELPER), "counter", str(expected), str(self.out)],
                                     stdin=r)
        os.close(r)

    def result(self, timeout, source_done):
        """(bytes, lines, intact lines, time of the last read) once the expected bytes are in;
        None once the source has stopped writing (source_done() true) GRACE s ago without
        that, or at the timeout. A relay that writes somewhere else (see
        benchlib.CHILD_STDOUT) shows as such after GRACE s, not after the timeout."""
        deadline, done_at = now() + timeout, None
        while not self.finished():
            t = now()
            if done_at is None and source_done():
                done_at = t
            if t > deadline or (done_at is not None and t > done_at + GRACE):
                return None
            time.sleep(0.005)
        return self.counted()

    def after_eof(self):
        """What the counter got, once every write end is closed (it stops at EOF)."""
        end = now() + 5
        while not self.finished() and now() < end:
            time.sleep(0.005)
        return self.counted() if self.finished() else (0, 0, 0, None)

    def counted(self):
        b, lines, intact, last_ns = (int(x) for x in self.out.read_text().split())
        return b, lines, intact, (last_ns / 1e9 if b else None)

    def finished(self):
        return self.out.exists() and self.out.read_text().endswith("\n")

    def close(self):
        for fd in (self.fd,):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.kill()
        self.proc.wait()


def analyse(counted, start, cpu, lines_per_writer, expected):
    """A run's figures; a run that did not get every byte through has an "error" and no rates
    (the table shows it as an error, never as a figure)."""
    nbytes, lines, intact, last = counted
    secs = (last - start) if last is not None else None
    out = {
        "bytes": nbytes,
        "lines": lines,
        "intact": intact,
        "torn": lines - intact,
        "lost": WRITERS * lines_per_writer - intact,
        "seconds": secs,
        "mb_s": nbytes / secs / 1e6 if secs else None,
        "lines_s": lines / secs if secs else None,
        "cpu_s": cpu,
        "cpu_s_per_100mb": cpu / (nbytes / 1e8) if nbytes else None,
        "pipe_depth_kib": PIPE_DEPTH_KIB,
    }
    if nbytes < expected:
        out["error"] = f"relayed {nbytes:,} of {expected:,} bytes"
    return out


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


def measure(pid, go, counter, lines_per_writer, timeout, expected, source_done, stop_source):
    """Releases the writers and waits for the counter to have everything `pid` (the supervisor
    or cat) passes on; `pid`'s CPU (user+sys, all threads) over that window."""
    cpu0 = cpu_seconds(pid)
    os.write(go.fd, b"g" * WRITERS)
    start = now()
    counted = counter.result(timeout, source_done)
    try:
        cpu = cpu_seconds(pid) - cpu0
        rss = peak_rss_kib(pid)
    except OSError:  # the relay died
        cpu, rss = None, None
    if counted is None:
        stop_source()
        counted = counter.after_eof()
    result = analyse(counted, start, cpu, lines_per_writer, expected)
    result["peak_rss_kib"] = rss
    return result


def one_supervisor(impl, lines_per_writer, timeout, perf=None, prefix=False):
    wd = Workdir("logs")
    go = Fifo(wd / "go")
    expected = WRITERS * lines_per_writer * (LINE + PREFIX if prefix else LINE)
    counter = Counter(wd, expected)
    sup = Supervisor(impl, config(wd, writers(lines_per_writer, wd / "go"),
                                  "log_format=prefix" if prefix else ""),
                     stdout=counter.fd)
    os.close(counter.fd)
    try:
        try:
            # the writers are up (they wait for their byte on the FIFO)
            deadline = now() + 30
            while len(sup.ns_children()) < WRITERS and now() < deadline:
                time.sleep(0.01)
            profiler = perf_attach(sup, perf, "logs")
            result = measure(sup.pid, go, counter, lines_per_writer, timeout, expected,
                             lambda: not sup.ns_children(), sup.kill)
        except (OSError, RuntimeError) as e:  # it did not start, or died before the writers
            return {"error": f"{impl}: {e}", "bytes": 0, "torn": 0}
        perf_stop(profiler)
        return result
    finally:
        sup.kill()
        counter.close()
        go.close()
        wd.remove()


def one_reference(lines_per_writer, timeout, relay):
    """The same 4 writers without a supervisor. relay: into one pipe read by `cat`, whose stdout
    goes to the counter (the physical reference). Else straight into the counter's pipe, no
    relay at all: the ceiling of this machine for any relay (their 4 KiB writes interleave, so
    lines tear either way)."""
    wd = Workdir("logs-cat" if relay else "logs-direct")
    go = Fifo(wd / "go")
    expected = WRITERS * lines_per_writer * LINE
    counter = Counter(wd, expected)
    script = " ".join(f"{cmd} &" for _, cmd, _ in writers(lines_per_writer, wd / "go"))
    if relay:
        src = subprocess.Popen(["sh", "-c", f"{script} wait"], stdout=subprocess.PIPE)
        cat = subprocess.Popen(["cat"], stdin=src.stdout, stdout=counter.fd)
        src.stdout.close()
        procs, measured = (src, cat), cat.pid
    else:
        src = subprocess.Popen(["sh", "-c", f"{script} wait"], stdout=counter.fd)
        procs, measured = (src,), counter.proc.pid
    os.close(counter.fd)
    try:
        time.sleep(0.05)  # the writers are up (they wait for their byte on the FIFO)
        def stop():
            for p in procs:
                p.kill()
        return measure(measured, go, counter, lines_per_writer, timeout, expected,
                       lambda: src.poll() is not None, stop)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        counter.close()
        go.close()
        wd.remove()


def log_throughput(runs, lines_per_writer=3_000_000, timeout=60, perf=None):
    """{impl: [per-run dicts]} for pidvisor, supervisord, cat, and pidvisor with its
    `name | ` prefix on every line (log_format=prefix, a pidvisor extension)."""
    out = {"pidvisor": [], "supervisord": [], "cat": [], "pidvisor-prefix": [], "direct": []}
    for run in range(runs):
        for impl in alternate(run):
            out[impl].append(one_supervisor(impl, lines_per_writer, timeout,
                                            perf if run == 0 else None))
        out["cat"].append(one_reference(lines_per_writer, timeout, relay=True))
        out["pidvisor-prefix"].append(one_supervisor("pidvisor", lines_per_writer, timeout,
                                                     prefix=True))
        out["direct"].append(one_reference(lines_per_writer, timeout, relay=False))
    return out


def good(samples):
    """The runs that got every byte through."""
    return [s for s in samples if not s.get("error")]


def summary(samples, key):
    """The median over the good runs, None if there is none."""
    xs = [s[key] for s in good(samples) if s.get(key) is not None]
    return median(xs)


def spread(samples, key):
    """(median, min, max) over the good runs, or None."""
    xs = [s[key] for s in good(samples) if s.get(key) is not None]
    return (median(xs), min(xs), max(xs)) if xs else None


def errors(samples):
    """'2 of 3 runs: relayed 0 of 1,200,000,000 bytes' for the runs that failed, else None."""
    bad = [s["error"] for s in samples if s.get("error")]
    if not bad:
        return None
    return f"ERROR, {len(bad)} of {len(samples)} runs: " + "; ".join(sorted(set(bad)))
