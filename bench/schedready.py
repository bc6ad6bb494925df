"""Issue 26's timing goals for schedules and readiness, pidvisor alone (supervisord has neither):
how late a scheduled run starts, whether a far-away schedule wakes pidvisor, and how soon a
READY=1 starts a depends_on=x:ready dependent. Called by bench/run (--only schedready); see
bench/README.md."""
import datetime
import re
import time

from benchlib import Supervisor, Workdir, config, cpu_and_switches, now, spread

LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (.*)$")

# READY=1 on $NOTIFY_SOCKET 0.3 s after start (pidvisor idle by then), its wall-clock time in
# nanoseconds read just before the send, written to argv[1] after it
SENDER = """
import os, socket, sys, time
time.sleep(0.3)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
t = time.time_ns()
s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
with open(sys.argv[1], "w") as f:
    f.write(str(t))
while True:
    time.sleep(1000)
"""


def log_events(path):
    """(epoch seconds, message) for every line of pidvisor's main log (ms timestamps, local)."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(errors="replace").splitlines():
        m = LOG_LINE.match(line)
        if m:
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            out.append((t, m.group(2)))
    return out


def stamps(path, tag):
    """The times the programs printed with `date +TAG%s.%N` on the supervisor's stdout."""
    if not path.exists():
        return []
    return [float(x) for x in re.findall(rf"^{tag}(\d+\.\d+)$", path.read_text(), re.M)]


def schedule_lag(secs):
    """One pidvisor with an `@every 1s` program and a `* * * * *` one, both `date`, for `secs`.
    Due times are whole seconds of the wall clock (cron's minutes, and @every counted from the
    start's whole second), so a run's due time is the whole second at or before its start:
    lag = the spawn's time in pidvisor's log (ms) minus it, and the program's own first clock
    read (date's %N) minus it. Returns the samples in seconds."""
    wd = Workdir("sched")
    progs = [("every", "date +e%%s.%%N", "schedule=@every 1s\n"),
             ("minute", "date +m%%s.%%N", "schedule=* * * * *\n")]
    out = wd / "stdout.txt"
    with open(out, "wb") as f:
        sup = Supervisor("pidvisor", config(wd, progs), stdout=f)
        try:
            time.sleep(secs)
        finally:
            sup.kill()
    res = {}
    for name, tag in (("every", "e"), ("minute", "m")):
        spawns = [t for t, msg in log_events(wd / "main.log")
                  if msg.startswith(f"spawned: '{name}'")]
        res[name] = {"spawn": [t - int(t) for t in spawns],
                     "program": [t - int(t) for t in stamps(out, tag)]}
    wd.remove()
    return res


def schedule_idle(secs):
    """pidvisor with one schedule due in a year and nothing else: its wakeups (voluntary context
    switches) and CPU over `secs`, after a second to settle."""
    wd = Workdir("schedidle")
    sup = Supervisor("pidvisor", config(wd, [("yearly", "true", "schedule=0 0 1 1 *\n")]))
    try:
        time.sleep(1.0)
        c0, v0, _ = cpu_and_switches(sup.pid)
        time.sleep(secs)
        c1, v1, _ = cpu_and_switches(sup.pid)
        return {"seconds": secs, "wakeups": v1 - v0, "cpu_ms": (c1 - c0) * 1000}
    finally:
        sup.kill()
        wd.remove()


def ready_latency():
    """A ready=notify program (Python) says READY=1; its depends_on=x:ready dependent is `date`:
    from the send (the sender's clock just before sendto) to the dependent's spawn in pidvisor's
    log (ms, so up to 1 ms early) and to the dependent's own first clock read."""
    wd = Workdir("ready")
    (wd / "sender.py").write_text(SENDER)
    sent = wd / "sent"
    progs = [("x", f"python3 {wd / 'sender.py'} {sent}", "ready=notify\n"),
             ("dep", "date +d%%s.%%N", "depends_on=x:ready\nautorestart=false\n")]
    out = wd / "stdout.txt"
    with open(out, "wb") as f:
        sup = Supervisor("pidvisor", config(wd, progs), stdout=f)
        try:
            deadline = now() + 20
            while now() < deadline and not (stamps(out, "d") and sent.exists()
                                             and sent.read_text()):
                time.sleep(0.02)
            time.sleep(0.1)  # the log line after the spawn
        finally:
            sup.kill()
    try:
        t_sent = int(sent.read_text()) / 1e9
        spawn = next(t for t, msg in log_events(wd / "main.log")
                     if msg.startswith("spawned: 'dep'"))
        return {"spawn": spawn - t_sent, "program": stamps(out, "d")[0] - t_sent}
    except (FileNotFoundError, ValueError, StopIteration, IndexError):
        return None
    finally:
        wd.remove()


def scenario_schedready(res, quick):
    runs = 1 if quick else 3
    secs = 62 if quick else 65  # at least one whole minute a run
    res["schedule_lag"] = [schedule_lag(secs) for _ in range(runs)]
    res["schedule_idle"] = [schedule_idle(5 if quick else 10) for _ in range(2 if quick else 3)]
    res["ready"] = [r for r in (ready_latency() for _ in range(5 if quick else 10)) if r]
    print("  schedready: done", flush=True)


def table(res):
    rows = []
    lag = res.get("schedule_lag")
    if lag:
        for name, what in (("every", "@every 1s"), ("minute", "* * * * * (cron minute)")):
            for key, how in (("spawn", "spawn in pidvisor's log"),
                             ("program", "the program's first clock read")):
                xs = [x for r in lag for x in r[name][key]]
                ok = xs and max(xs) <= 0.05
                rows.append((f"schedule {what}: due time -> {how} ({len(xs)} runs)", "ms",
                             {"pidvisor": spread(xs, 1000),
                              "target": f"<= 50 ms: {'met' if ok else 'NO'} (max)"
                              if key == "spawn" else "<= 50 ms"}))
    idle = res.get("schedule_idle")
    if idle:
        w = [r["wakeups"] for r in idle]
        rows.append((f"schedule due in a year: pidvisor wakeups in {idle[0]['seconds']} s "
                     f"({len(w)} runs)", "",
                     {"pidvisor": spread(w), "target": f"0: {'met' if max(w) == 0 else 'NO'}"}))
        rows.append(("the same: pidvisor CPU", "ms",
                     {"pidvisor": spread([r["cpu_ms"] for r in idle]), "target": ""}))
    rd = res.get("ready")
    if rd:
        for key, how in (("spawn", "its spawn in pidvisor's log"),
                         ("program", "its first clock read")):
            xs = [r[key] for r in rd]
            rows.append((f"READY=1 sent -> depends_on=x:ready dependent, {how} ({len(xs)} runs)",
                         "ms", {"pidvisor": spread(xs, 1000),
                                "target": f"<= 5 ms: {'met' if max(xs) <= 0.005 else 'NO'} (max)"
                                if key == "spawn" else "<= 5 ms"}))
    return rows
