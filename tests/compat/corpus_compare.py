"""Runs one corpus config under a supervisor, takes a snapshot once its processes have settled,
and diffs two snapshots (tests/compat/test_corpus.py)."""
import json
import os
import re
import sys
import time
import xmlrpc.client
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from corpus_setup import HERE, Case

sys.path.insert(0, str(HERE.parent))
from harness import Daemon  # noqa: E402

TRANSIENT = {"STARTING", "BACKOFF", "STOPPING"}
# getAllProcessInfo members compared besides the state: those that do not change with time.
INFO_MEMBERS = ("stdout_logfile", "stderr_logfile")
SETTLE_MIN_S = 2.0     # startsecs=1 (the default) has passed, quick exits are reaped
# startsecs=10 and a few BACKOFF rounds fit, with 12 runs side by side on a loaded 2-core
# machine; a run that settles sooner is snapshot sooner
SETTLE_MAX_S = 180.0
STABLE_POLLS = 3       # the same states this many polls in a row, 0.4 s apart
PROC_FIELDS = ("uid", "gid", "groups", "umask", "cwd", "argv", "sigblk", "sigign", "fds", "pgrp",
               "session", "nofile", "nproc", "caps", "nonewprivs", "nice", "oom_score_adj")
# Signals the test runner ignores reach both supervisors (Popen resets only SIGPIPE and
# SIGXFSZ); supervisord passes them on and pidvisor does not. They depend on where the tests run
# (make, a CI shell, nohup; tests/conftest.py resets SIGINT and SIGQUIT), so they are masked out
# of sigign, in what is read and in corpus_expected.txt alike (sigign()): what is compared is
# what each supervisor itself adds or resets.
def _inherited_ignores():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16) & ~(1 << 12 | 1 << 24)
    return 0


INHERITED_IGN = _inherited_ignores()


def sigign(mask_hex):
    """A SigIgn mask as compared: without the runner's own ignores, 16 hex digits."""
    return "%016x" % (int(mask_hex, 16) & ~INHERITED_IGN)


# supervisord names AUTO log files with a random suffix.
AUTO_SUFFIX = re.compile(r"---supervisor-[A-Za-z0-9_]+\.log")


class CorpusDaemon(Daemon):
    """A Daemon on a corpus config: no header of ours, the control socket the rewritten config
    names, and corpus_root.py between unshare and the supervisor."""

    def __init__(self, impl, host, conf, binary, credentials):
        wrap = ["unshare", "--net", sys.executable, str(HERE / "corpus_root.py"), str(host)]
        super().__init__(impl, host, conf, binary=binary, wrap=wrap)
        self.sock = host / "sup.sock"
        self.url = f"unix://{self.sock}"
        self.credentials = credentials

    def header(self):
        return ""

    def rpc(self):
        user, password = self.credentials
        transport = SupervisorTransport(user, password, self.url)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def run_case(case: Case, impl, binary, host: Path, sleeper):
    """Runs case under impl and returns its snapshot (a dict that diff() reads)."""
    host.mkdir(parents=True)
    case.materialize(host, sleeper)
    d = CorpusDaemon(impl, host, case.main_text(), binary, case.credentials())
    try:
        return snapshot(d)
    finally:
        d.close()


def connect(d):
    deadline = time.monotonic() + 120
    last = None
    while time.monotonic() < deadline:
        if d.proc.poll() is not None:
            return None, f"exit {d.proc.returncode}"
        if d.sock.exists():
            try:
                proxy = d.rpc()
                proxy.supervisor.getState()
                return proxy, None
            except Exception as e:  # not listening yet
                last = e
        time.sleep(0.1)
    return None, f"no answer on the control socket: {last}"


def settle(proxy):
    start, history = time.monotonic(), []
    while True:
        infos = proxy.supervisor.getAllProcessInfo()
        states = {f"{i['group']}:{i['name']}": i["statename"] for i in infos}
        history.append(states)
        elapsed = time.monotonic() - start
        stable = len(history) >= STABLE_POLLS and all(h == states
                                                      for h in history[-STABLE_POLLS:])
        if (elapsed >= SETTLE_MIN_S and stable and not TRANSIENT & set(states.values())) \
                or elapsed > SETTLE_MAX_S:
            return infos
        time.sleep(0.4)


def snapshot(d):
    """The daemon's outcome; once settled: its config structs, its processes' states and log
    files (getAllProcessInfo), and /proc for each RUNNING child. Then each STOPPED process (autostart=false) is started, and once settled
    again its state and /proc are taken too (as "started"), so the setup of programs that an
    image starts later (user=, environment=) is compared as well."""
    proxy, failure = connect(d)
    if proxy is None:
        return {"daemon": failure, "stderr": d.stderr()[-2000:], "log": read_log(d)}
    infos = settle(proxy)
    config = proxy.supervisor.getAllConfigInfo()
    states = {f"{i['group']}:{i['name']}": i["statename"] for i in infos}
    procs = read_running(d, infos, states)
    stopped = sorted(n for n, s in states.items() if s == "STOPPED")
    started = {}
    for name in stopped:
        try:
            proxy.supervisor.startProcess(name, False)
        except xmlrpc.client.Fault as e:
            started[name] = f"fault {e.faultCode}"
    if stopped:
        after = settle(proxy)
        for i in after:
            name = f"{i['group']}:{i['name']}"
            if name in stopped:
                started.setdefault(name, i["statename"])
        procs.update(read_running(d, after, set(stopped)))
    return {"daemon": "running",
            "config": {f"{c['group']}:{c['name']}": mask(c) for c in config},
            "states": states, "started": started,
            "info": {f"{i['group']}:{i['name']}": mask({k: i.get(k) for k in INFO_MEMBERS})
                     for i in infos},
            "proc": procs, "stderr": d.stderr()[-2000:], "log": read_log(d)}


def read_running(d, infos, names):
    """{name: read_proc()} for the RUNNING processes among names, once three reads 1 s apart
    agree: a startsecs=0 program is RUNNING while, say, `bash -l -c` still reads its profile
    (SIGQUIT ignored meanwhile) before it execs the program, which takes seconds on a loaded
    machine."""
    hostpids = host_pids(d)
    pids = {}
    for i in infos:
        name = f"{i['group']}:{i['name']}"
        pid = hostpids.get(i["pid"]) if i["pid"] else None
        if name in names and i["statename"] == "RUNNING" and pid:
            pids[name] = pid
    reads = [sample(pids, d.tmp / "root")]
    deadline = time.monotonic() + 120
    while pids and time.monotonic() < deadline:
        time.sleep(1)
        reads = [*reads[-2:], sample(pids, d.tmp / "root")]
        if len(reads) == 3 and reads[0] == reads[1] == reads[2] and \
                not any(shell_yet_to_exec(p["argv"]) for p in reads[-1].values()):
            break
    return reads[-1]


SHELLS = {"sh", "bash", "dash"}
SHELL_SYNTAX = re.compile(r"[;&|<>()`$\n{}*?\[\]]")


def shell_yet_to_exec(argv):
    """True for `bash -l -c /path/x.sh` and the like: a shell given one simple command execs it
    once its start-up files are read, which under load takes seconds (a login shell's profile
    runs `pyenv init`); until then /proc shows the shell, not the program."""
    if not argv or os.path.basename(argv[0]) not in SHELLS:
        return False
    for i, a in enumerate(argv[1:-1], 1):
        if not a.startswith("-"):
            return False
        if a.startswith("--"):  # --login, --norc
            continue
        if "c" in a[1:]:
            return not SHELL_SYNTAX.search(argv[i + 1])
    return False


def sample(pids, root):
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = read_proc(pid, root)
        except OSError:  # exited meanwhile: its state says so
            pass
    return out


def read_log(d):
    p = d.tmp / "log" / "supervisord.log"
    return p.read_text(errors="replace")[-3000:] if p.exists() else ""


def host_pids(d):
    """{pid in the namespace: pid here} for the supervisor's children."""
    out = {}
    for p in d.children():
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        out[int(line.split()[-1])] = p.pid
        except OSError:
            continue
    return out


def read_proc(pid, root):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(e.decode(errors="replace").partition("=")[::2]
                   for e in f.read().split(b"\0") if e)
    cwd = os.readlink(f"/proc/{pid}/cwd")
    # Seen from here, a cwd inside the private root reads as ROOT/path.
    if cwd.startswith(str(root)):
        cwd = cwd[len(str(root)):] or "/"
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    pgrp, session, nice = int(fields[2]), int(fields[3]), fields[16]
    with open(f"/proc/{pid}/oom_score_adj") as f:
        oom = f.read().strip()
    with open(f"/proc/{pid}/limits") as f:
        limits = {line[:26].strip(): " ".join(line[26:].split()[:2]) for line in f}
    return {"uid": " ".join(status["Uid"]), "gid": " ".join(status["Gid"]),
            "groups": " ".join(sorted(status.get("Groups", []), key=int)),
            "umask": status.get("Umask", ["?"])[0], "cwd": cwd, "argv": argv, "env": env,
            "sigblk": status["SigBlk"][0],
            "sigign": sigign(status["SigIgn"][0]),
            "fds": sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd")),
            "pgrp": "own" if pgrp == pid else "another",
            "session": "own" if session == pid else session_of(session),
            "nofile": limits.get("Max open files"), "nproc": limits.get("Max processes"),
            "caps": " ".join(status[k][0] for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")),
            "nonewprivs": status["NoNewPrivs"][0], "nice": nice, "oom_score_adj": oom}


def session_of(sid):
    """Where a child's session comes from, as a word that does not depend on the run."""
    try:
        with open(f"/proc/{sid}/comm") as f:
            return f"that of {f.read().strip()}"
    except OSError:
        return "another"


def mask(struct):
    return {k: AUTO_SUFFIX.sub("---supervisor-XXXXXX.log", v) if isinstance(v, str) else v
            for k, v in struct.items()}


def show(value):
    return "<absent>" if value is _ABSENT else json.dumps(value, ensure_ascii=False)


_ABSENT = object()


def diff_keys(out, a, b, row):
    """Every key of dict a or b whose values differ (a key only one has counts as absent in the
    other): out gets row(key) + (show(a's value), show(b's value)), in key order."""
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, _ABSENT), b.get(key, _ABSENT)
        if x != y:
            out.append((*row(key), show(x), show(y)))


def diff(sv, pv):
    """[(program, field, supervisord's value, pidvisor's value)], values JSON-encoded."""
    out = []
    if sv["daemon"] != "running" or pv["daemon"] != "running":
        if sv["daemon"] != pv["daemon"]:
            out.append(("-", "daemon", json.dumps(sv["daemon"]), json.dumps(pv["daemon"])))
        return out
    for name in sorted(set(sv["config"]) | set(pv["config"])):
        a, b = sv["config"].get(name), pv["config"].get(name)
        if a is None or b is None:
            out.append((name, "config", "present" if a else "<absent>",
                        "present" if b else "<absent>"))
            continue
        diff_keys(out, a, b, lambda member: (name, f"config.{member}"))
    diff_keys(out, sv["states"], pv["states"], lambda name: (name, "state"))
    for name in sorted(set(sv["info"]) & set(pv["info"])):
        for member in INFO_MEMBERS:
            x, y = sv["info"][name][member], pv["info"][name][member]
            if x != y:
                out.append((name, f"info.{member}", show(x), show(y)))
    diff_keys(out, sv["started"], pv["started"], lambda name: (name, "started"))
    for name in sorted(set(sv["proc"]) & set(pv["proc"])):
        a, b = sv["proc"][name], pv["proc"][name]
        for field in PROC_FIELDS:
            if a[field] != b[field]:
                out.append((name, field, show(a[field]), show(b[field])))
        diff_keys(out, a["env"], b["env"], lambda var: (name, f"env.{var}"))
    return out


def table(rows):
    """rows of (config, program, field, supervisord, pidvisor) as an aligned text table."""
    head = ("config", "program", "field", "supervisord", "pidvisor")
    rows = [head, *rows]
    widths = [min(max(len(r[i]) for r in rows), 48) for i in range(4)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(4)] + [r[4]]
        lines.append(" | ".join(cells).rstrip())
        if r is head:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 11)
    return "\n".join(lines)


def parse_expected(path):
    """{(config, program, field, supervisord, pidvisor): reason} from corpus_expected.txt."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if cells[2] == "sigign":  # masked as read_proc masks what is read
            cells[3:5] = [show(sigign(json.loads(c))) for c in cells[3:5]]
        out[tuple(cells[:5])] = cells[5].lstrip("# ") if len(cells) > 5 else ""
    return out


def key_line(row):
    return "\t".join(row)
