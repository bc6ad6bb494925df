"""Single-command mode against Debian's tini and dumb-init, each as PID 1 of its own PID
namespace running one program: memory, signal latency, exit-code propagation, reaping.
Called by bench/run (--only single); see bench/README.md."""
import os
import signal
import time

from benchlib import (BUILD, HELPER, PIDVISOR, PIDVISOR_STATIC, Fifo, Orphans, Supervisor, Workdir,
                      median, now, smaps_rollup, spread)


def tini_link():
    """pidvisor-static under the name tini (as the image's symlink): tini's command line."""
    link = BUILD / "tini"
    if not link.is_symlink() or os.readlink(link) != str(PIDVISOR_STATIC):
        BUILD.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(PIDVISOR_STATIC)
    return str(link)


# name -> the init's argv before the program
INITS = {
    "pidvisor": lambda: [str(PIDVISOR), "--"],
    "pidvisor-static": lambda: [str(PIDVISOR_STATIC), "--"],
    "pidvisor-static as tini": lambda: [tini_link(), "--"],
    "tini": lambda: ["/usr/bin/tini", "--"],
    "tini-static": lambda: ["/usr/bin/tini-static", "--"],
    "dumb-init": lambda: ["/usr/bin/dumb-init"],
}
PEERS = ("pidvisor-static", "tini-static", "dumb-init")  # the latency/reaping columns


def start(name, program):
    # a label of our own: Supervisor builds its own argv for "pidvisor" and "supervisord"
    return Supervisor(f"single-{name}", argv=INITS[name]() + program)


def footprint(name, signals=20):
    """PID 1's smaps at rest (the program ready, one orphan reaped) and again after `signals`
    SIGUSR1 passed on one at a time: what the wait loop brings back into memory."""
    wd = Workdir("single-mem")
    fifo = Fifo(wd / "echo")
    # the subshell's sleep becomes an orphan of PID 1, reaped before the first reading
    sup = start(name, ["sh", "-c", f"(sleep 0 &); exec {HELPER} sigecho {wd / 'echo'}"])
    try:
        fifo.lines(1, timeout=10)
        time.sleep(0.3)
        rest = smaps_rollup(sup.pid)
        for _ in range(signals):
            os.kill(sup.pid, signal.SIGUSR1)
            fifo.lines(1, timeout=10)
        return rest, smaps_rollup(sup.pid)
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


def init_cpu(pid):
    """User plus system CPU seconds of one process."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def zombies_once(name, n, cap=30.0):
    """The reaping loop alone: n orphans exit while PID 1 is stopped (SIGSTOP from outside the
    namespace), and once every one is a zombie, SIGCONT. Returns the seconds from SIGCONT
    until none is left, and PID 1's CPU seconds over that time: no exit spread, no teardown of
    10,000 address spaces on the same cores, only wait4(-1) n times."""
    wd = Workdir("zombies")
    orphans = Orphans(wd, n)
    sup = start(name, ["sh", "-c", " ".join(orphans.maker) + "; sleep 1000"])
    extra = 2  # the shell and its sleep
    try:
        orphans.rdy.lines(1, timeout=120)
        deadline = now() + 60
        while sup.ns_tasks() != n + 1 + extra:
            if now() > deadline:
                raise RuntimeError(f"{name}: {sup.ns_tasks()} tasks, expected {n + 1 + extra}")
            time.sleep(0.01)
        pid = sup.pid
        os.kill(pid, signal.SIGSTOP)
        orphans.go.close()
        exited = 0
        while exited < n:
            try:
                exited += len(os.read(orphans.done.fd, 65536))
            except BlockingIOError:
                time.sleep(0.01)
        proc = f"/proc/{pid}/root/proc"
        # an orphan that has written its byte may still be tearing down: wait for n zombies
        while sum(zombie_state(proc, e) == b"Z" for e in os.listdir(proc) if e.isdigit()) < n:
            time.sleep(0.05)
        cpu0, t0 = init_cpu(pid), now()
        os.kill(pid, signal.SIGCONT)
        while sup.ns_tasks() != 1 + extra:
            if now() - t0 > cap:
                return {"capped": True, "cap": cap, "left": sup.ns_tasks() - 1 - extra}
        return {"capped": False, "clear": now() - t0, "cpu": init_cpu(pid) - cpu0}
    finally:
        sup.kill()
        orphans.close()
        wd.remove()


def zombie_state(proc, entry):
    """The state letter of a task in the namespace's /proc, or None when it is gone."""
    try:
        with open(f"{proc}/{entry}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def scenario_single(res, runs, reap_once, signals=1000, orphans=10_000, reap_runs=5):
    res["footprint"] = {}
    for name in INITS:
        mems = [footprint(name) for _ in range(runs)]
        res["footprint"][name] = {"rss_kib": [r["Rss"] for r, _ in mems],
                                  "pss_kib": [r["Pss"] for r, _ in mems],
                                  "rss_after_signals_kib": [a["Rss"] for _, a in mems],
                                  "pss_after_signals_kib": [a["Pss"] for _, a in mems]}
    res["signal"], res["exit"], res["reaping"], res["zombies"] = {}, {}, {}, {}
    for run in range(max(runs, reap_runs)):
        # alternate the order so no init always runs on a warmer machine
        order = PEERS[run % len(PEERS):] + PEERS[:run % len(PEERS)]
        for name in order:
            if run < runs:
                res["signal"].setdefault(name, []).extend(signal_latency(name, signals // runs))
                res["exit"].setdefault(name, []).extend(exit_propagation(name, 5))
            # the maker's parent must live on, or the init would exit: sh waits in a sleep
            res["reaping"].setdefault(name, []).append(
                reap_once(name, orphans, 15.0, argv_prefix=INITS[name](), extra_tasks=2))
            res["zombies"].setdefault(name, []).append(zombies_once(name, orphans))
    print("  single: " + ", ".join(
        f"{n} sig p50 {median(res['signal'][n]) * 1e6:.0f} us" for n in PEERS), flush=True)


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def ratio(vals, name, peer):
    if vals.get(name) and vals.get(peer):
        return median(vals[name]) / median(vals[peer])
    return None


def table(res):
    """Rows of the single-command table: figure, unit, then a value per init ('median
    (min-max)' over the runs), and the target of issue 27 with where this run stands."""
    rows = []
    fp = res["footprint"]
    for key, label in (("rss_kib", "RSS of PID 1, at rest"), ("pss_kib", "PSS of PID 1, at rest"),
                       ("rss_after_signals_kib", "RSS of PID 1, after 20 signals"),
                       ("pss_after_signals_kib", "PSS of PID 1, after 20 signals")):
        vals = {n: fp[n][key] for n in fp if key in fp[n]}
        row = {n: spread(v, 1 / 1024) for n, v in vals.items()}
        worst = max((ratio(vals, n, "tini-static") or 0) for n in
                    ("pidvisor-static", "pidvisor-static as tini"))
        row["target"] = f"<= 1.1x tini-static: {worst:.2f}x" if worst else "-"
        rows.append((label, "MiB", row))
    rows.append(("signal -> program, median", "us",
                 {n: median(v) * 1e6 for n, v in res["signal"].items()}))
    rows.append(("signal -> program, p99", "us", {n: p99(v) * 1e6 for n, v in res["signal"].items()}))
    rows.append(("program exit -> init exit", "ms",
                 {n: median(v) * 1e3 for n, v in res["exit"].items()}))
    reap = {n: [x["clear_after_last_exit"] for x in v if not x["capped"]]
            for n, v in res["reaping"].items()}
    row = {n: spread(v, 1e3) for n, v in reap.items()}
    row["target"] = "level with the peers"
    rows.append(("10k orphans: last exit -> no zombie", "ms", row))
    zombies = {n: [x["clear"] for x in v if not x["capped"]] for n, v in res.get("zombies", {}).items()}
    if zombies:
        row = {n: spread(v, 1e3) for n, v in zombies.items()}
        row["target"] = "level with the peers"
        rows.append(("10k zombies, the loop alone: SIGCONT -> none left", "ms", row))
        cpu = {n: [x["cpu"] for x in v if not x["capped"]] for n, v in res["zombies"].items()}
        rows.append(("  PID 1's CPU over that loop", "ms", {n: spread(v, 1e3) for n, v in cpu.items()}))
    return rows
