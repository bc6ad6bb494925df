"""The soak (issue 11): pidvisor as PID 1 of a namespace for SOAK_S seconds (1800 by default)
under a mix of restarts, crash loops, log floods, reloads, `ctl` calls and hostile clients
(malformed HTTP, idle connections, wrong-typed XML-RPC calls). It reports RSS and open fds at
the start and the end (flat), zombies (none) and log lines (every numbered line of every writer
instance at the output, once and whole), and exits 1 when a check fails.

    make soak                       # 30 minutes, ASan+UBSan build
    SOAK_S=300 PIDVISOR=$PWD/build/pidvisor make soak
"""
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xmlrpc.client
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402  (after the path is set)
from harness import Daemon, wait_until  # noqa: E402

SOAK_S = float(os.environ.get("SOAK_S", "1800"))
ASAN = "asan" in harness.PIDVISOR
if ASAN:
    # ASan's quarantine keeps up to 256 MiB of freed memory by default: bound it, or RSS is noise
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
RSS_SLACK = (16 if ASAN else 2) << 20
WRITERS = {"w0": 100, "w1": 100, "w2": 100}  # lines a second, restarted by ctl
FLOOD = ("flood", 100000, 20000)  # every 10 s, 20,000 lines in two bursts, then exits
STDOUT_WRITER = ("wout", 200)  # to pidvisor's own stdout
LINE = re.compile(r"^(\S+) (\d+\.\d+\.\d+) (\d+|END)(?: (\d+)| the quick brown fox jumps over "
                  r"the lazy dog)$")


def config(work, writer, extra=False, quiet=False):
    """The soak's programs; quiet leaves out those that are not RUNNING all the time (a crash
    loop cannot be stopped by a request: it is EXITED nearly all the time, as in supervisord)."""
    c = (f"[unix_http_server]\nfile={work}/sock\n\n"
         f"[supervisorctl]\nserverurl=unix://{work}/sock\n\n")
    for name, rate in WRITERS.items():
        c += (f"[program:{name}]\ncommand={writer} {name} {rate}\nstartsecs=0\n"
              f"stdout_logfile={work}/{name}.log\nstdout_logfile_maxbytes=0\n\n")
    name, rate = STDOUT_WRITER
    c += (f"[program:{name}]\ncommand={writer} {name} {rate}\nstartsecs=0\n"
          "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n\n")
    if quiet:
        return c
    name, rate, limit = FLOOD
    c += (f"[program:{name}]\ncommand=sh -c 'sleep 10; exec {writer} {name} {rate} {limit}'\n"
          "startsecs=0\n"
          f"autorestart=true\nstdout_logfile={work}/{name}.log\nstdout_logfile_maxbytes=0\n\n")
    c += "[program:crash]\ncommand=/bin/false\nstartsecs=0\nautorestart=true\n\n"
    c += ("[program:flapper]\ncommand=sh -c 'sleep $(( $$ %% 3 )); exit 1'\nstartsecs=1\n"
          "startretries=100\nautorestart=true\n\n")
    if extra:
        c += "[program:extra]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n"
    return c


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def rpc(sock, method, *args, timeout=10):
    """One XML-RPC call; the parsed result, or an xmlrpc.client.Fault."""
    conn = UnixHTTP(sock, timeout)
    try:
        body = xmlrpc.client.dumps(args, methodname=method)
        conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"{method}: HTTP {r.status}")
        try:
            return xmlrpc.client.loads(data)[0][0]
        except xmlrpc.client.Fault as f:
            return f
    finally:
        conn.close()


# Wrong types and arities: each must be answered with a fault, PID 1 unharmed. The first two
# killed PID 1 before every argument was checked against the method table.
WRONG_CALLS = [
    ("supervisor.signalProcess", (0, 0)),
    ("supervisor.signalProcessGroup", (0, 0)),
    ("supervisor.getProcessInfo", (123,)),
    ("supervisor.getProcessInfo", ()),
    ("supervisor.startProcess", (1.5,)),
    ("supervisor.stopProcess", ([],)),
    ("supervisor.getState", (1, 2, 3)),
    ("supervisor.nosuchmethod", ("x",)),
    ("system.methodHelp", (42,)),
    ("supervisor.readProcessStdoutLog", ("w0", "a", "b")),
    ("supervisor.tailProcessStdoutLog", ("w0", -5, 100)),
    ("supervisor.startProcessGroup", ({"a": 1},)),
    ("system.multicall", ("notalist",)),
    ("system.multicall", ([{"methodName": 5}],)),
]

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"POST /RPC2 HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort",
    b"POST /RPC2 HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: 20\r\n\r\n"
    b"<methodCall><bad></x>",
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"\x00\xff\xfe binary \r\n\r\n",
    b"POST /RPC2 HTTP/1.1\r\nContent-Length: 10",  # head never ends
]


class Soak:
    def __init__(self, work):
        self.work = work
        self.stop = threading.Event()
        self.failures = []
        self.counts = {}
        self.lock = threading.Lock()
        writer = work / "writer"
        subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-o", str(writer),
                        str(HERE / "writer.c")], check=True)
        self.writer = writer
        self.extra = False
        # at info: at debug the main log on stdout would carry a copy of every program's output
        self.d = Daemon("pidvisor", work, config(work, writer), args=("-e", "info"))
        self.sock = str(work / "sock")

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def fail(self, what):
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr, flush=True)

    def ctl(self, *args, timeout=60):
        return subprocess.run([harness.PIDVISOR, "ctl", "-c", str(self.d.conf_path), *args],
                              capture_output=True, text=True, timeout=timeout)

    def states(self):
        info = rpc(self.sock, "supervisor.getAllProcessInfo")
        return {p["name"]: p["statename"] for p in info}

    def alive(self):
        return self.d.proc.poll() is None

    # --- the mix ---------------------------------------------------------------------------

    def loop(self, name, period, body):
        rnd = random.Random(name)
        while not self.stop.is_set():
            try:
                body(rnd)
            except Exception as e:  # a failure is recorded; the soak goes on
                self.fail(f"{name}: {type(e).__name__}: {e}")
                if not self.alive():
                    return
            self.stop.wait(rnd.uniform(0.5, 1.5) * period)

    def ctl_calls(self, rnd):
        action = rnd.choice(["status", "restart", "stopstart", "tail", "pid", "avail"])
        if action == "status":
            r = self.ctl("status")
            ok = r.returncode in (0, 3) and len(r.stdout.splitlines()) >= 7
        elif action == "restart":
            r = self.ctl("restart", rnd.choice(list(WRITERS)))
            ok = r.returncode == 0 and "started" in r.stdout
        elif action == "stopstart":
            r = self.ctl("stop", "flapper")
            ok = r.returncode in (0, 1)
            r = self.ctl("start", "flapper")
            ok = ok and "flapper" in r.stdout  # started, or a spawn error: it exits early
        elif action == "tail":
            r = self.ctl("tail", rnd.choice(list(WRITERS)))
            ok = r.returncode == 0
        elif action == "pid":
            r = self.ctl("pid", "w0")
            ok = r.returncode == 0 and r.stdout.strip().isdigit()
        else:
            r = self.ctl("avail")
            ok = r.returncode == 0 and "w0" in r.stdout
        self.count(f"ctl {action}")
        if not ok:
            self.fail(f"ctl {action}: rc {r.returncode}: {r.stdout[-300:]} {r.stderr[-300:]}")

    def rpc_calls(self, rnd):
        method, args = rnd.choice(WRONG_CALLS)
        res = rpc(self.sock, method, *args)
        self.count("wrong-typed rpc")
        if not isinstance(res, xmlrpc.client.Fault):
            # some are legal after all (an unknown name in multicall answers inside a list)
            self.count("wrong-typed rpc answered")
        st = self.states()
        self.count("getAllProcessInfo")
        if "w0" not in st:
            self.fail(f"getAllProcessInfo: {st}")

    def malformed_http(self, rnd):
        req = rnd.choice(MALFORMED)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(self.sock)
            try:
                s.sendall(req)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the end (a head too long)
            if rnd.random() < 0.5:
                s.shutdown(socket.SHUT_WR)
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass  # a head that never ends waits for the server's header timeout
        finally:
            s.close()
        self.count("malformed http")

    def idle_connections(self, rnd):
        socks = []
        try:
            for _ in range(20):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                socks.append(s)
            self.count("idle connections", len(socks))
            self.stop.wait(rnd.uniform(1, 5))
            # ctl still gets in while they are open
            if self.ctl("status").returncode not in (0, 3):
                self.fail("ctl status refused while 20 idle connections are open")
        finally:
            for s in socks:
                s.close()

    def reloads(self, rnd):
        self.extra = not self.extra
        self.configure(extra=self.extra)
        self.count("reloads")

    def watch(self, rnd):
        if not self.alive():
            self.fail(f"pidvisor exited with {self.d.proc.returncode}")
            self.stop.set()
            return
        self.count("samples")
        with self.lock:
            self.peak_rss = max(getattr(self, "peak_rss", 0), rss(self.d.pid))
            self.peak_fds = max(getattr(self, "peak_fds", 0), fds(self.d.pid))

    # --- measuring -------------------------------------------------------------------------

    def configure(self, **kw):
        self.d.rewrite(config(self.work, self.writer, **kw))
        self.d.signal(signal.SIGHUP)

    def quiet(self):
        """The same state at the start and the end: only the writers, all RUNNING, and no
        client connected."""
        self.configure(quiet=True)
        always = {*WRITERS, STDOUT_WRITER[0]}

        def settled():
            st = self.states()
            return set(st) == always and set(st.values()) == {"RUNNING"}
        wait_until(settled, timeout=60, interval=0.2, what="the quiet config")
        time.sleep(1)
        return {"rss": rss(self.d.pid), "fds": fds(self.d.pid), "cpu": cpu(self.d.pid)}

    def run(self):
        d = self.d
        d.wait_log(r"success: w0 entered RUNNING", timeout=60)
        time.sleep(min(10, SOAK_S / 10))  # warm-up: buffers reach their working size
        start = self.quiet()
        self.configure()
        t0 = time.monotonic()
        mix = [("ctl", 0.5, self.ctl_calls), ("rpc", 0.2, self.rpc_calls),
               ("malformed", 0.2, self.malformed_http), ("idle", 5, self.idle_connections),
               ("reload", 30, self.reloads), ("watch", 1, self.watch)]
        threads = [threading.Thread(target=self.loop, args=m, daemon=True) for m in mix]
        for t in threads:
            t.start()
        while time.monotonic() - t0 < SOAK_S and not self.stop.is_set():
            self.stop.wait(min(60, SOAK_S))
            if not self.stop.is_set():
                print(f"soak: {time.monotonic() - t0:.0f} s, RSS {rss(d.pid) >> 10} KiB, "
                      f"fds {fds(d.pid)}, {sum(self.counts.values())} operations, "
                      f"{len(self.failures)} failures", flush=True)
        self.stop.set()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - t0
        if not self.alive():
            self.fail("pidvisor died")
            return self.report(start, None, elapsed, None, None)
        end = self.quiet()
        zombies = d.zombies()
        # every writer writes its END line when stopped; then pidvisor exits and flushes
        r = self.ctl("stop", "all")
        if r.returncode != 0:
            self.fail(f"ctl stop all: {r.stdout} {r.stderr}")
        status = d.stop(timeout=60)
        if status != 0:
            self.fail(f"pidvisor exit status {status}")
        lines = self.account()
        return self.report(start, end, elapsed, zombies, lines)

    def account(self):
        """Every instance's lines 0..END-1 present once, nothing torn, per output."""
        outputs = {n: self.work / f"{n}.log" for n in [*WRITERS, FLOOD[0]]}
        outputs[STDOUT_WRITER[0]] = self.d.stdout_path
        result = {}
        for name, path in outputs.items():
            seen, ends, torn, dup = {}, {}, 0, 0
            with open(path, errors="replace") as f:
                for line in f:
                    m = LINE.match(line.rstrip("\n"))
                    if not m or m.group(1) != name:
                        # pidvisor's own stdout also carries its main log lines
                        if line.startswith(name + " ") or "the quick brown" in line:
                            torn += 1
                        continue
                    inst = m.group(2)
                    if m.group(3) == "END":
                        ends[inst] = int(m.group(4))
                        continue
                    s = seen.setdefault(inst, set())
                    seq = int(m.group(3))
                    if seq in s:
                        dup += 1
                    s.add(seq)
            missing = sum(n - len(seen.get(i, ())) for i, n in ends.items())
            unended = [i for i in seen if i not in ends]
            total = sum(len(s) for s in seen.values())
            result[name] = {"instances": len(seen), "lines": total, "missing": missing,
                            "torn": torn, "duplicated": dup, "without END": len(unended)}
            if missing or torn or dup or unended:
                self.fail(f"lines of {name}: {result[name]}")
        return result

    def report(self, start, end, elapsed, zombies, lines):
        rep = {"build": harness.PIDVISOR, "seconds": round(elapsed, 1), "start": start,
               "end": end, "peak_rss": getattr(self, "peak_rss", None),
               "peak_fds": getattr(self, "peak_fds", None), "zombies": zombies,
               "lines": lines, "operations": self.counts, "failures": self.failures}
        if end:
            grow = end["rss"] - start["rss"]
            rep["cpu_s"] = round(end["cpu"] - start["cpu"], 2)
            if end["fds"] > start["fds"]:
                self.fail(f"fds {start['fds']} -> {end['fds']}")
            if grow > RSS_SLACK:
                self.fail(f"RSS grew {grow >> 10} KiB (more than {RSS_SLACK >> 10} KiB)")
            if zombies:
                self.fail(f"zombies: {zombies}")
        print(json.dumps(rep, indent=1))
        print(f"soak: {rep['seconds']} s; RSS {start['rss'] >> 10} -> "
              f"{end['rss'] >> 10 if end else '?'} KiB; fds {start['fds']} -> "
              f"{end['fds'] if end else '?'}; zombies {len(zombies) if zombies is not None else '?'}; "
              f"lines {sum(v['lines'] for v in (lines or {}).values())} written, "
              f"{sum(v['missing'] for v in (lines or {}).values())} missing; "
              f"{len(self.failures)} failures")
        return 1 if self.failures else 0


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    work = Path(tempfile.mkdtemp(prefix="pidvisor-soak-"))
    soak = Soak(work)
    try:
        status = soak.run()
    except Exception:
        traceback.print_exc()
        soak.fail("soak aborted")
        status = 1
    finally:
        soak.d.close()
    if status == 0 and not os.environ.get("SOAK_KEEP"):
        subprocess.run(["rm", "-rf", str(work)])
    else:
        print(f"soak: files kept in {work}")
    return status


if __name__ == "__main__":
    sys.exit(main())
