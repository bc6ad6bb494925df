"""What every benchmark scenario shares: the supervisors under test (each as PID 1 of its own PID
namespace), the configs they run, readiness FIFOs, /proc readings and statistics.
Standard library only: this runs under Debian's /usr/bin/python3."""
import os
import select
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
HELPER = BUILD / "helper"
PIDVISOR = Path(os.environ.get("PIDVISOR", ROOT / "build" / "pidvisor"))
# the build pidvisor-image puts in images (make static): no shared libraries to map
PIDVISOR_STATIC = Path(os.environ.get("PIDVISOR_STATIC", ROOT / "build" / "pidvisor-static"))
SUPERVISORD = Path("/usr/bin/supervisord")
SUPERVISORCTL = Path("/usr/bin/supervisorctl")
# Where every program's output goes: the supervisor's stdout. Not /dev/stdout: supervisord's log
# clear (clearProcessLogs, `supervisorctl clear`) unlinks a log's path and reopens it, so one
# clear as root against a program logging to /dev/stdout leaves /dev/stdout a regular file, and
# every supervisord after it writes there instead of to its stdout (it relayed 0 bytes in the
# log scenario). /dev/fd/1 cannot be unlinked, and both supervisors take it for their stdout.
CHILD_STDOUT = "/dev/fd/1"
IMPLS = ("pidvisor", "supervisord")

now = time.monotonic


def median(xs):
    return statistics.median(xs) if xs else None


def spread(xs, scale=1.0):
    """'median (min-max)' of the samples, scaled; '-' when there are none."""
    if not xs:
        return "-"
    xs = [x * scale for x in xs]

    def f(v):
        return f"{v:.0f}" if v >= 10 else f"{v:.2g}"
    return f"{f(median(xs))} ({f(min(xs))}-{f(max(xs))})"


def alternate(run):
    """Both supervisors, first one then the other, swapping the order on every run."""
    return IMPLS if run % 2 == 0 else IMPLS[::-1]


def check_dev_stdout():
    """A warning when /dev/stdout is not the usual link to /proc/self/fd/1 (see CHILD_STDOUT)."""
    try:
        if os.readlink("/dev/stdout") in ("/proc/self/fd/1", "fd/1"):
            return None
    except OSError:
        pass
    return ("warning: /dev/stdout is not a link to /proc/self/fd/1 on this machine (a "
            "supervisord log clear as root replaces it with a regular file); the bench "
            f"configs use {CHILD_STDOUT}, but programs outside it writing to /dev/stdout will "
            "not reach their reader. Restore it with: ln -s /proc/self/fd/1 /dev/stdout.new && "
            "mv -T /dev/stdout.new /dev/stdout")


def build_helper():
    BUILD.mkdir(parents=True, exist_ok=True)
    src = ROOT / "bench" / "helper.c"
    if not HELPER.exists() or HELPER.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror",
                        "-o", str(HELPER), str(src)], check=True)


class Workdir:
    """A temporary directory for one supervisor's config, sockets, FIFOs and logs."""

    def __init__(self, tag):
        self.path = Path(tempfile.mkdtemp(prefix=f"pidvisor-bench-{tag}-"))

    def __truediv__(self, name):
        return self.path / name

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def config(wd, programs, extra_supervisord=""):
    """The config both supervisors get: a container-style setup (child output to the
    supervisor's stdout, main log to a file, a control socket) and `programs`, a list of
    (name, command, extra lines)."""
    text = (
        "[supervisord]\n"
        "nodaemon=true\n"
        "silent=true\n"
        f"logfile={wd / 'main.log'}\n"
        f"pidfile={wd / 'supervisord.pid'}\n"
        f"childlogdir={wd.path}\n"
        "minfds=8192\n"
        f"{extra_supervisord}\n"
        "[unix_http_server]\n"
        f"file={wd / 'sock'}\n\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{wd / 'sock'}\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
    )
    for name, command, extra in programs:
        text += (f"[program:{name}]\ncommand={command}\nstartsecs=0\n"
                 f"stdout_logfile={CHILD_STDOUT}\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n"
                 f"{extra}\n")
    path = wd / "supervisord.conf"
    path.write_text(text)
    return path


def ready_programs(n, fifo, extra=""):
    return [(f"p{i:04d}", f"{HELPER} ready {fifo}", extra) for i in range(n)]


class Fifo:
    """A FIFO the harness reads; held open read-write so that writers never see it closed."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.buf = b""

    def lines(self, count, timeout):
        """Wait for `count` lines; returns (lines, time the last one was read) or raises."""
        got = []
        deadline = now() + timeout
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while len(got) < count:
            left = deadline - now()
            if left <= 0:
                raise TimeoutError(f"{self.path}: {len(got)} of {count} lines in {timeout} s")
            if not poller.poll(left * 1000):
                continue
            self.buf += os.read(self.fd, 65536)
            *done, self.buf = self.buf.split(b"\n")
            got += done
        return got, now()

    def close(self):
        os.close(self.fd)
        self.fd = None


class Orphans:
    """The FIFOs of `helper orphans`: n children that block on GO until its EOF (close_go), then
    each write a byte to DONE and exit; RDY gets a line once all are forked and the maker gone."""

    def __init__(self, wd, n):
        self.go, self.done, self.rdy = Fifo(wd / "go"), Fifo(wd / "done"), Fifo(wd / "rdy")
        self.maker = [str(HELPER), "orphans", str(n), str(wd / "go"), str(wd / "done"),
                      str(wd / "rdy")]

    def close(self):
        if self.go.fd is not None:
            self.go.close()
        self.done.close()
        self.rdy.close()


def children_of(pid):
    """Host pids whose parent is `pid` (no /proc/PID/task/TID/children on every kernel)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
            kids.append(int(entry))
    return kids


def smaps_rollup(pid):
    """{'Rss': kB, 'Pss': kB, ...} of a process."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def cpu_and_switches(pid):
    """(user+system CPU seconds, voluntary and involuntary context switches) over all threads."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    vol = invol = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        cpu += (int(fields[11]) + int(fields[12])) / ticks
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    invol += int(line.split()[1])
    return cpu, vol, invol


def cpu_seconds(pid):
    """CPU seconds over all threads, to the nanosecond: the time each ran on a CPU
    (/proc/PID/task/*/schedstat, user and system alike). /proc/PID/stat counts 10 ms ticks,
    which is the size of the effects measured on the busiest rows; without schedstat (a kernel
    without CONFIG_SCHED_INFO), those ticks."""
    if not os.path.exists("/proc/self/schedstat"):
        return cpu_and_switches(pid)[0]
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that has just ended
            pass
    return total / 1e9


class Supervisor:
    """pidvisor, supervisord or the reference spawner, as PID 1 of a new PID namespace.
    `started` is the monotonic time just before the exec."""

    def __init__(self, impl, conf=None, argv=None, stdout=subprocess.DEVNULL):
        self.impl = impl
        if impl == "pidvisor":
            argv = [str(PIDVISOR), "-n", "-c", str(conf)]
        elif impl == "pidvisor-static":
            argv = [str(PIDVISOR_STATIC), "-n", "-c", str(conf)]
        elif impl == "supervisord":
            argv = [str(SUPERVISORD), "-n", "-c", str(conf)]
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *argv]
        self.conf = conf
        self.started = now()
        # unshare's and the supervisor's complaints go to the work directory, not the table
        self.stderr = open(conf.parent / "stderr.txt", "wb") if conf else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout,
                                     stderr=self.stderr, cwd=str(conf.parent) if conf else None)
        self._pid = None

    @property
    def pid(self):
        """The supervisor's host pid (unshare's only child)."""
        deadline = now() + 10
        while self._pid is None:
            kids = children_of(self.proc.pid)
            if kids:
                self._pid = kids[0]
            elif now() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.impl} did not start")
            else:
                time.sleep(0.002)
        return self._pid

    def ns_children(self):
        """Host pids of the supervisor's children."""
        return children_of(self.pid)

    def ns_tasks(self):
        """How many processes (zombies included) the namespace holds, the supervisor included."""
        return sum(1 for e in os.listdir(f"/proc/{self.pid}/root/proc") if e.isdigit())

    def terminate(self, timeout=30):
        """SIGTERM to the supervisor; returns the seconds until it has exited."""
        t0 = now()
        os.kill(self.pid, signal.SIGTERM)
        self.proc.wait(timeout)
        return now() - t0

    def kill(self):
        """SIGKILL to the namespace's PID 1: the kernel kills everything in it."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, RuntimeError):
                self.proc.kill()
            self.proc.wait()
        if self.stderr is not subprocess.DEVNULL:
            self.stderr.close()


def perf_attach(sup, perf_dir, name):
    """With --perf: sample pidvisor's stacks (kernel included) during a measured window."""
    if not perf_dir or sup.impl != "pidvisor":
        return None
    out = Path(perf_dir) / f"{name}.data"
    p = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-g",
                          "-o", str(out), "-p", str(sup.pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # perf needs a moment to attach
    return p, out


def perf_stop(profiler):
    if not profiler:
        return
    p, out = profiler
    p.send_signal(signal.SIGINT)
    p.wait()
    report = subprocess.run(["perf", "report", "-i", str(out), "--stdio", "--no-children",
                             "-g", "none", "--sort", "dso,sym", "--percent-limit", "1"],
                            capture_output=True, text=True).stdout
    out.with_suffix(".txt").write_text(report)


def print_columns(rows):
    """Prints (figure, unit, {column: value}) rows as a Markdown table, a column per key; a
    missing value is blank, None is "-" (not measured or over the cap)."""
    names = list(dict.fromkeys(n for _, _, vals in rows for n in vals))
    head = ["figure", "unit", *names]

    def cell(vals, n):
        if n not in vals:
            return ""
        v = vals[n]
        if isinstance(v, str):
            return v
        return "-" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.2g}"
    body = [[f, u, *(cell(vals, n) for n in names)] for f, u, vals in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths)) + " |")
