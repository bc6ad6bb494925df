"""Single-command mode against Debian's tini and dumb-init, each as PID 1 of its own PID
namespace running one program: memory, signal latency, exit-code propagation, reaping.
Called by bench/run (--only single); see bench/README.md."""
import os
import signal
import time

from benchlib import (HELPER, PIDVISOR, PIDVISOR_STATIC, Fifo, Supervisor, Workdir, median, now,
                      smaps_rollup)

# name -> the init's argv before the program
INITS = {
    "pidvisor": lambda: [str(PIDVISOR), "--"],
    "pidvisor-static": lambda: [str(PIDVISOR_STATIC), "--"],
    "tini": lambda: ["/usr/bin/tini", "--"],
    "tini-static": lambda: ["/usr/bin/tini-static", "--"],
    "dumb-init": lambda: ["/usr/bin/dumb-init"],
}
PEERS = ("pidvisor-static", "tini-static", "dumb-init")  # the latency/reaping columns


def start(name, program):
    # a label of our own: Supervisor builds its own argv for "pidvisor" and "supervisord"
    return Supervisor(f"single-{name}", argv=INITS[name]() + program)


def footprint(name):
    wd = Workdir("single-mem")
    fifo = Fifo(wd / "ready")
    sup = start(name, [str(HELPER), "ready", str(wd / "ready")])
    try:
        fifo.lines(1, timeout=10)
        time.sleep(0.3)
        return smaps_rollup(sup.pid)
    finally:
        sup.kill()
        fifo.close()
        wd.remove()


def signal_latency(name, count):
    """Seconds from kill(PID 1, SIGUSR1) here to the program's sigwaitinfo returning, for
    `count` signals one after the other."""
    wd = Workdir("single-sig")
    fifo = Fifo(wd / "echo")
    sup = start(name, [str(HELPER), "sigecho", str(wd / "echo")])
    out = []
    try:
        fifo.lines(1, timeout=10)
        pid = sup.pid
        for _ in range(count):
            t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            os.kill(pid, signal.SIGUSR1)
            (line,), _ = fifo.lines(1, timeout=10)
            out.append((int(line) - t0) / 1e9)
        return out
    finally:
        sup.kill()
        fifo.close()
        wd.remove()


def exit_propagation(name, runs):
    """Seconds from the program's exit (a line it writes just before) to the init's own exit
    with the program's status."""
    out = []
    for _ in range(runs):
        wd = Workdir("single-exit")
        fifo = Fifo(wd / "bye")
        sup = start(name, ["sh", "-c", f"echo bye > {wd / 'bye'}; exit 7"])
        try:
            _, t_line = fifo.lines(1, timeout=10)
            sup.proc.wait(10)
            t_exit = now()
            # unshare passes the init's status on
            assert sup.proc.returncode == 7, (name, sup.proc.returncode)
            out.append(t_exit - t_line)
        finally:
            sup.kill()
            fifo.close()
            wd.remove()
    return out


def scenario_single(res, runs, reap_once, signals=1000, orphans=10_000):
    res["footprint"] = {}
    for name in INITS:
        mems = [footprint(name) for _ in range(runs)]
        res["footprint"][name] = {"rss_kib": [m["Rss"] for m in mems],
                                  "pss_kib": [m["Pss"] for m in mems]}
    res["signal"], res["exit"], res["reaping"] = {}, {}, {}
    for run in range(runs):
        # alternate the order so no init always runs on a warmer machine
        order = PEERS[run % len(PEERS):] + PEERS[:run % len(PEERS)]
        for name in order:
            res["signal"].setdefault(name, []).extend(signal_latency(name, signals // runs))
            res["exit"].setdefault(name, []).extend(exit_propagation(name, 5))
            # the maker's parent must live on, or the init would exit: sh waits in a sleep
            res["reaping"].setdefault(name, []).append(
                reap_once(name, orphans, 15.0, argv_prefix=INITS[name](), extra_tasks=2))
    print("  single: " + ", ".join(
        f"{n} sig p50 {median(res['signal'][n]) * 1e6:.0f} us" for n in PEERS), flush=True)


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def table(res):
    """Rows of the single-command table: figure, unit, then a value per init."""
    rows = []
    fp = res["footprint"]
    for key, label in (("rss_kib", "RSS of PID 1"), ("pss_kib", "PSS of PID 1")):
        rows.append((label, "KiB", {n: median(fp[n][key]) for n in fp}))
    rows.append(("signal -> program, median", "us",
                 {n: median(v) * 1e6 for n, v in res["signal"].items()}))
    rows.append(("signal -> program, p99", "us", {n: p99(v) * 1e6 for n, v in res["signal"].items()}))
    rows.append(("program exit -> init exit", "ms",
                 {n: median(v) * 1e3 for n, v in res["exit"].items()}))
    rows.append(("10k orphans: last exit -> no zombie", "ms",
                 {n: median([x["clear_after_last_exit"] for x in v if not x["capped"]]) * 1e3
                  for n, v in res["reaping"].items()}))
    return rows
