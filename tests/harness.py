"""Shared helpers for the process tests: run pidvisor, or Debian's real supervisord, as PID 1
of a fresh PID namespace (or as a plain child), optionally with a control socket for the
clients; run a client. (A plain module, not conftest: several conftest.py files exist.)"""
import http.client
import os
import re
import signal
import socket
import subprocess
import time
import xmlrpc.client
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
PIDVISOR = os.environ.get("PIDVISOR", str(ROOT / "build" / "asan" / "pidvisor"))
SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORCTL = "/usr/bin/supervisorctl"
# The two builds that tests of hostile input run against.
BUILDS = {"asan": ROOT / "build" / "asan" / "pidvisor", "release": ROOT / "build" / "pidvisor"}

# The corpus of real-world supervisord configs: third-party files, never copied into this
# repository. PIDVISOR_CORPUS names its directory, else it sits beside the checkout.
CORPUS = Path(os.environ.get("PIDVISOR_CORPUS",
                             ROOT.parent / "shared" / "corpus" / "supervisord-configs"))
CORPUS_MISSING = (f"no corpus of supervisord configs at {CORPUS} (its *.conf and MANIFEST.tsv): "
                  "put the team's shared/corpus beside the checkout, or set PIDVISOR_CORPUS")


def corpus():
    """The corpus directory, or None when it is absent (tests that need it skip with
    CORPUS_MISSING)."""
    return CORPUS if (CORPUS / "MANIFEST.tsv").is_file() else None


# A test, or a module's pytestmark, that reads the corpus.
needs_corpus = pytest.mark.skipif(corpus() is None, reason=CORPUS_MISSING)

# ASan: fail loudly on errors, but leaks in a process killed by a test are not findings.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")


# A program that grows by 8 MB ten times a second, to 512 MB at most, touching every page.
GROW_PY = ("import time\n"
           "held = []\n"
           "for _ in range(64):\n"
           "    b = bytearray(8 * 1024 * 1024)\n"
           "    for i in range(0, len(b), 4096): b[i] = 1\n"
           "    held.append(b)\n"
           "    time.sleep(0.1)\n"
           "time.sleep(1000)\n")

# A wrap (Daemon's) that makes every cgroup mount read-only in pidvisor's mount namespace
# (unshare --mount-proc made one): no writable cgroup, so memory_max is polled.
READ_ONLY_CGROUPS = ["sh", "-c",
                     "for m in $(awk '{for (i = 7; i <= NF; i++) if ($i == \"-\") {"
                     " if ($(i + 1) ~ /^cgroup2?$/) print $5; break }}' /proc/self/mountinfo);"
                     " do mount -o remount,bind,ro \"$m\" || exit 1; done; exec \"$@\"", "sh"]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = str(path)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path, timeout=60):
        super().__init__()
        self.path, self.timeout = path, timeout

    def make_connection(self, host):
        return UnixConnection(self.path, self.timeout)


def unix_proxy(sock, timeout=60):
    """An XML-RPC proxy talking to the control socket at path sock."""
    return xmlrpc.client.ServerProxy("http://localhost/RPC2",
                                     transport=UnixTransport(sock, timeout))


def scrape_metrics(port):
    """/metrics of the inet server on port, as the Prometheus client parses it: {family: ...}."""
    from prometheus_client.parser import text_string_to_metric_families
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    return {f.name: f for f in text_string_to_metric_families(text)}


def terminate(proc, timeout):
    """SIGTERM to a Popen, then SIGKILL if it has not exited within timeout seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(pred, timeout=30.0, interval=0.01, what="condition", detail=None):
    """pred()'s first true value, polled every interval; fails after timeout seconds, with
    detail() (what was last seen, say) appended to the message. The default deadline is
    generous: on a loaded 2-core machine an event can take seconds, and a deadline only costs
    time when the test fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            more = f": {detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{more}")
        time.sleep(interval)


def wait_steady(read, polls=5, interval=0.1, timeout=30.0, what="a steady value"):
    """Waits until read() gives the same value polls times in a row, polled every interval,
    and returns it; None is never steady (it starts the count again). For the quiet that comes
    before a negative window (a writer blocked, counters that stopped moving): a loaded machine
    only makes it take longer, where a fixed sleep could end before the quiet began."""
    last = []

    def steady():
        value = read()
        if value is None or (last and last[-1] != value):
            last.clear()
        if value is not None:
            last.append(value)
            del last[:-polls]
        return len(last) == polls
    wait_until(steady, timeout=timeout, interval=interval, what=f"{what} ({polls} reads alike)",
               detail=lambda: f"last reads {last}, now {read()!r}")
    return last[-1]


def proc_wait(pid):
    """(state letter, wchan) of pid from /proc, as ("S", "anon_pipe_write") for a writer
    blocked on a full pipe or ("S", "poll_schedule_timeout...") for one in select() or poll();
    None once pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            return state, f.read()
    except (OSError, IndexError):
        return None


class Daemon:
    """A supervisor (pidvisor or supervisord) running on a config, as PID 1 or not.

    control=True adds a unix control socket (self.sock, self.url) with the XML-RPC interface and
    a [supervisorctl] section that names it (unless ctl_section=False); auth holds extra
    [unix_http_server] lines such as "username=u\npassword=p" or "chmod=0770" (self.creds are
    the client options for the username and password, if any). binary overrides PIDVISOR for
    impl "pidvisor"; wrap is a command that execs it, such as ["prlimit", "--as=N"]; env
    replaces the supervisor's start-up environment."""

    def __init__(self, impl, tmp_path, conf, pid1=True, args=(), binary=None, control=False,
                 auth="", ctl_section=True, wrap=(), env=None):
        self.impl = impl
        self.tmp = tmp_path
        self.conf_path = tmp_path / "supervisord.conf"
        self.log_path = tmp_path / "main.log"
        self.sock = tmp_path / "sup.sock" if control else None
        self.url = f"unix://{self.sock}" if control else None
        creds = dict(line.split("=", 1) for line in auth.split("\n") if "=" in line)
        self.creds = (["-u", creds["username"], "-p", creds.get("password", "")]
                      if "username" in creds else [])
        self.control_text = self.control(auth, ctl_section) if control else ""
        self.conf_path.write_text(self.header() + self.control_text + conf)
        self.stdout_path = tmp_path / "stdout.txt"
        self.stderr_path = tmp_path / "stderr.txt"
        if binary is None:
            binary = PIDVISOR if impl == "pidvisor" else SUPERVISORD
        cmd = [*wrap, str(binary), "-n", "-c", str(self.conf_path), *args]
        if pid1:
            cmd = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *cmd]
        self.out = open(self.stdout_path, "wb")
        self.err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, cwd=tmp_path,
                                     stdin=subprocess.DEVNULL, env=env)
        self.pid1 = pid1
        self._daemon_pid = None

    def header(self):
        return (
            "[supervisord]\n"
            f"logfile={self.log_path}\n"
            f"pidfile={self.tmp}/supervisord.pid\n"
            f"childlogdir={self.tmp}\n"
            "loglevel=debug\n\n"
        )

    def control(self, auth, ctl_section):
        text = (f"[unix_http_server]\nfile={self.sock}\n{auth}\n\n"
                "[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
        if ctl_section:
            text += f"[supervisorctl]\nserverurl={self.url}\n\n"
        return text

    def rewrite(self, conf):
        """Replaces the config file in one step (the header and control section kept): a
        reload that runs meanwhile reads the old file or the new one, never a part of one."""
        tmp = self.conf_path.with_name(self.conf_path.name + ".new")
        tmp.write_text(self.header() + self.control_text + conf)
        os.replace(tmp, self.conf_path)

    @property
    def pid(self):
        """The supervisor's pid as seen from here (not 1)."""
        if self._daemon_pid is None:
            if not self.pid1:
                self._daemon_pid = self.proc.pid
            else:
                def child():
                    try:
                        kids = psutil.Process(self.proc.pid).children()
                    except psutil.NoSuchProcess:
                        return None
                    return kids[0].pid if kids else None
                self._daemon_pid = wait_until(child, what="the supervisor to start")
        return self._daemon_pid

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, count=1, timeout=30.0):
        rx = re.compile(pattern)

        def found():
            hits = rx.findall(self.log())
            return hits if len(hits) >= count else None
        try:
            return wait_until(found, timeout=timeout, what=f"log /{pattern}/ x{count}")
        except AssertionError:
            raise AssertionError(f"log /{pattern}/ x{count} not seen in {timeout}s; log:\n"
                                 + self.log()[-4000:] + "\nstderr:\n" + self.stderr())

    def stderr(self):
        self.err.flush()
        return self.stderr_path.read_text(errors="replace")

    def stdout(self):
        self.out.flush()
        return self.stdout_path.read_text(errors="replace")

    def children(self, recursive=False):
        try:
            return psutil.Process(self.pid).children(recursive=recursive)
        except psutil.NoSuchProcess:
            return []

    def zombies(self):
        """pids of the zombies among the supervisor's descendants."""
        out = []
        for p in self.children(recursive=True):
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    out.append(p.pid)
            except psutil.NoSuchProcess:
                pass
        return out

    def program_pid(self, name, timeout=30.0):
        """pid of the latest 'spawned: NAME' in the log, as seen from here."""
        self.wait_log(rf"spawned: '{re.escape(name)}' with pid \d+", timeout=timeout)
        ns_pid = int(re.findall(rf"spawned: '{re.escape(name)}' with pid (\d+)", self.log())[-1])
        if not self.pid1:
            return ns_pid
        for p in self.children(recursive=True):
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        if line.startswith("NSpid:") and int(line.split()[-1]) == ns_pid:
                            return p.pid
            except OSError:
                continue
        raise AssertionError(f"no process with namespace pid {ns_pid}")

    def states(self):
        """{namespec: state} as Debian's supervisorctl reports them; {} when nothing answers."""
        if not self.sock.exists():
            return {}
        r = subprocess.run([SUPERVISORCTL, "-s", self.url, *self.creds, "status"],
                           capture_output=True, text=True, timeout=30)
        return {p[0]: p[1] for p in (line.split() for line in r.stdout.splitlines())
                if len(p) >= 2}

    def wait_settled(self, expect, timeout=60.0):
        """Waits until every process named in expect is in the given state (needs control)."""
        last = {}

        def settled():
            nonlocal last
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.impl} exited:\n{self.stderr()}")
            last = self.states()
            return all(last.get(k) == v for k, v in expect.items())
        wait_until(settled, timeout=timeout, interval=0.1, what=f"{self.impl} to settle",
                   detail=lambda: f"last states {last}")

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=20.0):
        if self.proc.poll() is None:
            try:
                self.signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


def run_client(argv, stdin=None, timeout=30):
    """Runs a client to its end with LeakSanitizer on (a leak in a short-lived client is a
    finding): (exit status, stdout, stderr)."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    r = subprocess.run([str(a) for a in argv], input=stdin if stdin is not None else "",
                       capture_output=True, text=True, timeout=timeout, env=env)
    return r.returncode, r.stdout, r.stderr
