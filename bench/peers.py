"""pidvisor against every multi-program peer, each as PID 1 of its own PID namespace, on the
same programs: supervisord (one Python process), s6 (s6-svscan + one s6-supervise per
service) and runit (runsvdir + one runsv per service), from Debian's packages. Called by
bench/run (--only peers); see bench/README.md."""
import os
import signal
import time

from benchlib import (HELPER, Fifo, Supervisor, Workdir, config, cpu_and_switches, median, now,
                      ready_programs, smaps_rollup)

PEERS = ("pidvisor", "supervisord", "s6", "runit")


def service_dirs(root, programs):
    """One directory per program with an executable `run`, as s6's and runit's documentation
    describe: the run script execs the program in the foreground."""
    root.mkdir()
    for name, command, _ in programs:
        d = root / name
        d.mkdir()
        run = d / "run"
        run.write_text(f"#!/bin/sh\nexec {command}\n")
        run.chmod(0o755)


def start(peer, wd, programs):
    """The peer as PID 1 of a new namespace, supervising `programs`."""
    if peer in ("pidvisor", "supervisord"):
        return Supervisor(peer, config(wd, programs))
    scan = wd / "services"
    service_dirs(scan, programs)
    if peer == "s6":
        argv = ["s6-svscan", "-c", str(max(1000, 2 * len(programs))), str(scan)]
    else:
        argv = ["runsvdir", "-P", str(scan)]
    return Supervisor(f"peer-{peer}", argv=argv)


def ns_processes(sup):
    """Host pids of every process in the namespace."""
    out = [sup.pid]
    todo = [sup.pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def supervising(sup):
    """Host pids of the supervision tree: every process in the namespace but the programs."""
    pids = []
    for pid in ns_processes(sup):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe != str(HELPER):
            pids.append(pid)
    return pids


def startup_once(peer, n):
    wd = Workdir(f"peer-{peer}-{n}")
    fifo = Fifo(wd / "ready")
    try:
        sup = start(peer, wd, ready_programs(n, wd / "ready"))
        try:
            lines, t = fifo.lines(n, timeout=180)
            secs = t - sup.started
            time.sleep(1.0)
            tree = supervising(sup)
            rss = pss = 0
            for pid in tree:
                m = smaps_rollup(pid)
                rss += m["Rss"]
                pss += m["Pss"]
            return {"startup_s": secs, "rss_kib": rss, "pss_kib": pss, "processes": len(tree),
                    "pids": [int(x) for x in lines]}, sup, fifo, wd
        except BaseException:
            sup.kill()
            raise
    except BaseException:
        fifo.close()
        wd.remove()
        raise


def restart_once(sup, fifo, pids):
    """kill -9 of one program -> its replacement's readiness line. s6-supervise and runsv wait
    a second between two starts of a service, so the program has been up well beyond that."""
    time.sleep(2.0)
    victim = pids[len(pids) // 2]
    host = next(p for p in ns_processes(sup) if ns_pid(p) == victim)
    t0 = now()
    os.kill(host, signal.SIGKILL)
    fifo.lines(1, timeout=30)
    return now() - t0


def ns_pid(host_pid):
    try:
        with open(f"/proc/{host_pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return None


def idle_once(sup, secs):
    tree = supervising(sup)
    before = [cpu_and_switches(p) for p in tree]
    time.sleep(secs)
    after = [cpu_and_switches(p) for p in tree]
    return {"wakeups": sum(a[1] - b[1] for a, b in zip(after, before)),
            "cpu_ms": sum(a[0] - b[0] for a, b in zip(after, before)) * 1000}


def shutdown_once(sup):
    """SIGTERM to PID 1 until the namespace is gone, each peer stopping the way it does."""
    t0 = now()
    os.kill(sup.pid, signal.SIGTERM)
    try:
        sup.proc.wait(60)
        return now() - t0
    except Exception:
        return None


def reap_once(peer, n):
    """n orphans exit at once: time from the last exit until no zombie is left. The maker is
    a service that stays (it sleeps after making the orphans), so no peer restarts it."""
    wd = Workdir(f"peer-reap-{peer}")
    go, done, rdy = Fifo(wd / "go"), Fifo(wd / "done"), Fifo(wd / "rdy")
    maker = f"sh -c '{HELPER} orphans {n} {wd / 'go'} {wd / 'done'} {wd / 'rdy'}; exec sleep 1000'"
    sup = start(peer, wd, [("maker", maker, "autorestart=false\n")])
    try:
        rdy.lines(1, timeout=120)
        deadline = now() + 30
        while True:  # the tree (supervisors, the sleeping maker) plus the n orphans
            tasks = sum(1 for e in os.listdir(f"/proc/{sup.pid}/root/proc") if e.isdigit())
            base = tasks - n
            if base > 0 and len(ns_processes(sup)) == tasks:
                break
            if now() > deadline:
                raise RuntimeError(f"{peer}: orphans did not settle")
            time.sleep(0.01)
        go.close()
        exited, last_exit = 0, None
        while True:
            try:
                exited += len(os.read(done.fd, 65536))
            except BlockingIOError:
                pass
            t = now()
            if exited >= n and last_exit is None:
                last_exit = t
            tasks = sum(1 for e in os.listdir(f"/proc/{sup.pid}/root/proc") if e.isdigit())
            if exited >= n and tasks <= base:
                return t - last_exit
            if last_exit and t - last_exit > 15:
                return None  # capped
            if last_exit is None:
                time.sleep(0.01)
    finally:
        sup.kill()
        if go.fd is not None:
            go.close()
        done.close()
        rdy.close()
        wd.remove()


def scenario_peers(res, runs, sizes=(10, 100, 1000), idle_s=5, orphans=10_000):
    for key in ("startup", "rss_kib", "pss_kib", "processes", "restart", "idle", "shutdown"):
        res[key] = {}
    res["reaping"] = {}
    for run in range(runs):
        order = PEERS[run % len(PEERS):] + PEERS[:run % len(PEERS)]
        for n in sizes:
            for peer in order:
                r, sup, fifo, wd = startup_once(peer, n)
                try:
                    res["startup"].setdefault(str(n), {}).setdefault(peer, []).append(
                        r["startup_s"])
                    for k in ("rss_kib", "pss_kib", "processes"):
                        res[k].setdefault(str(n), {}).setdefault(peer, []).append(r[k])
                    if n == 10:
                        res["restart"].setdefault(peer, []).append(
                            restart_once(sup, fifo, r["pids"]))
                        if run == 0:
                            res["idle"][peer] = idle_once(sup, idle_s)
                    res["shutdown"].setdefault(str(n), {}).setdefault(peer, []).append(
                        shutdown_once(sup))
                finally:
                    sup.kill()
                    fifo.close()
                    wd.remove()
        for peer in order:
            if peer == "supervisord" and run > 0:
                continue  # ~100 per second: one capped run says it
            res["reaping"].setdefault(peer, []).append(reap_once(peer, orphans))
        print(f"  peers run {run + 1}/{runs}: start-up N=100 " + ", ".join(
            f"{p} {median(res['startup']['100'][p]) * 1000:.0f} ms" for p in PEERS), flush=True)


def table(res):
    """(figure, unit, {peer: value}) rows."""
    rows = []
    med = lambda xs: median([x for x in xs if x is not None]) if any(  # noqa: E731
        x is not None for x in xs) else None
    for n in res["startup"]:
        rows.append((f"start-up N={n}, exec -> all ready", "ms",
                     {p: med(v) * 1000 for p, v in res["startup"][n].items()}))
    for n in res["processes"]:
        rows.append((f"N={n}: processes doing supervision", "",
                     {p: med(v) for p, v in res["processes"][n].items()}))
        rows.append((f"N={n}: RSS of the supervision tree", "KiB",
                     {p: med(v) for p, v in res["rss_kib"][n].items()}))
        rows.append((f"N={n}: PSS of the supervision tree", "KiB",
                     {p: med(v) for p, v in res["pss_kib"][n].items()}))
    rows.append(("kill -9 -> ready again", "ms",
                 {p: med(v) * 1000 for p, v in res["restart"].items()}))
    rows.append((f"idle N=10, {5} s: wakeups", "",
                 {p: v["wakeups"] for p, v in res["idle"].items()}))
    for n in res["shutdown"]:
        rows.append((f"shutdown N={n}: SIGTERM -> exit", "ms",
                     {p: (med(v) or 0) * 1000 for p, v in res["shutdown"][n].items()}))
    rows.append(("10k orphans: last exit -> no zombie", "ms",
                 {p: (med(v) * 1000 if med(v) is not None else None)
                  for p, v in res["reaping"].items()}))
    return rows
