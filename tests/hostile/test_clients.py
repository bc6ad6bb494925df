"""`pidvisor check` and `pidvisor ctl` against hostile servers on loopback and unix sockets: a
listener whose backlog is full and that never accepts (the nearest thing to dropped SYNs without
iptables), one that accepts and never answers, one that trickles a byte every 0.5 s forever, and
one that sends the answer's head but never its body. Both clients must give up within their
timeout (one deadline for the whole call, which a trickle does not reset) and say so. Calls that
legitimately wait (start, tail -f) are not cut off by ctl's timeout. Both builds."""
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager

import pytest

from harness import PIDVISOR, free_port, wait_until

# what must fail is the hang (40 s and more before the fix), not a slow machine
BOUND = 15


def fill_backlog(addr, family):
    """Connections that the listener never accepts, until its queue is full."""
    fillers = []
    for _ in range(8):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(addr)
        except (BlockingIOError, InterruptedError):
            pass
        fillers.append(s)
    return fillers


def answer_head_only(conn):
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n")


def trickle(conn):
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n"
    for i in range(10 ** 6):
        conn.sendall(reply[i:i + 1] if i < len(reply) else b" ")
        time.sleep(0.5)


class Hostile:
    """A listener on a unix socket or 127.0.0.1 that treats each connection with behave(conn),
    or never accepts at all (behave None)."""

    def __init__(self, tmp_path, transport, behave):
        if transport == "unix":
            path = str(tmp_path / "hostile.sock")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.url, addr, self.path = f"unix://{path}", path, path
        else:
            port = free_port()
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", port))
            self.url, addr, self.path = f"http://127.0.0.1:{port}", ("127.0.0.1", port), None
        self.conns, self.fillers, self.closing = [], [], False
        if behave is None:
            self.sock.listen(0)
            self.fillers = fill_backlog(addr, self.sock.family)
        else:
            self.sock.listen(16)
            threading.Thread(target=self.serve, args=(behave,), daemon=True).start()

    def serve(self, behave):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.handle, args=(behave, conn), daemon=True).start()

    def handle(self, behave, conn):
        try:
            behave(conn)
        except OSError:
            pass

    def close(self):
        self.closing = True
        for s in self.fillers + self.conns:
            s.close()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.path:
            os.unlink(self.path)


@contextmanager
def hostile(tmp_path, transport, behave):
    h = Hostile(tmp_path, transport, behave)
    try:
        yield h.url
    finally:
        h.close()


def run_bounded(argv):
    """(exit status, stdout + stderr, seconds), or a failure if it is still running at BOUND."""
    start = time.monotonic()
    try:
        r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[1:]} still running after {BOUND} s")
    return r.returncode, r.stdout + r.stderr, time.monotonic() - start


BEHAVIOURS = {
    "never_accepts": None,
    "never_answers": lambda conn: time.sleep(3600),
    "trickles": trickle,
    "head_only": answer_head_only,
}
# where each one stalls the client, as its message says
STALLS = {
    "never_accepts": "connecting",
    "never_answers": "waiting for the answer",
    "trickles": "reading the answer",
    "head_only": "reading the answer",
}


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_check_gives_up_within_timeout(build, tmp_path, transport, behaviour):
    with hostile(tmp_path, transport, BEHAVIOURS[behaviour]) as url:
        rc, out, _ = run_bounded([build, "check", "-s", url, "-t", "2"])
    assert (rc, out) == (3, f"no answer: {url}: timed out after 2 s {STALLS[behaviour]}\n")


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_ctl_gives_up_within_timeout(build, tmp_path, transport, behaviour):
    with hostile(tmp_path, transport, BEHAVIOURS[behaviour]) as url:
        rc, out, _ = run_bounded([build, "ctl", "-s", url, "-t", "2", "status"])
    assert rc == 1, out
    assert f"{url}: timed out after 2 s {STALLS[behaviour]}" in out, out


def xmlrpc_answer(value_xml):
    body = (f"<?xml version='1.0'?><methodResponse><params><param><value>{value_xml}"
            "</value></param></params></methodResponse>").encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


def read_request(conn):
    """One HTTP request (head and Content-Length body); its bytes, or b"" at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return b""
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        body += conn.recv(65536)
    return data


def slow_start(conn):
    """getVersion at once; startProcess (which waits for startsecs) after 4 s."""
    while True:
        req = read_request(conn)
        if not req:
            return
        if b"supervisor.startProcess" in req:
            time.sleep(4)
            conn.sendall(xmlrpc_answer("<boolean>1</boolean>"))
        else:
            conn.sendall(xmlrpc_answer("<string>3.0</string>"))


def quiet_log(conn):
    """getVersion at once; the /logtail stream's head, then 4 s of silence, then a line."""
    while True:
        req = read_request(conn)
        if not req:
            return
        if req.startswith(b"GET /logtail/"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            time.sleep(4)
            conn.sendall(b"6\r\nlater\n\r\n0\r\n\r\n")
            return
        conn.sendall(xmlrpc_answer("<string>3.0</string>"))


def test_ctl_timeout_spares_waiting_calls(build, tmp_path):
    with hostile(tmp_path, "unix", slow_start) as url:
        rc, out, secs = run_bounded([build, "ctl", "-s", url, "-t", "1", "start", "web"])
    assert (rc, out) == (0, "web: started\n")
    assert secs >= 4
    with hostile(tmp_path, "unix", quiet_log) as url:
        rc, out, _ = run_bounded([build, "ctl", "-s", url, "-t", "1", "tail", "-f", "web"])
    assert (rc, out) == (0, "==> Press Ctrl-C to exit <==\nlater\n")


def test_ctl_timeout_option_and_key(build, tmp_path):
    rc, out, _ = run_bounded([build, "ctl", "-t", "soon", "status"])
    assert rc == 2 and "Error: invalid value for -t 'soon'" in out, out
    rc, out, _ = run_bounded([build, "ctl", "--help"])
    assert rc == 0 and "-t/--timeout SECONDS" in out
    conf = tmp_path / "ctl.conf"
    with hostile(tmp_path, "unix", BEHAVIOURS["never_answers"]) as url:
        conf.write_text(f"[supervisorctl]\nserverurl={url}\ntimeout=2\n")
        rc, out, _ = run_bounded([build, "ctl", "-c", conf, "status"])
        assert rc == 1 and "timed out after 2 s" in out, out
        # the command line wins over the file
        rc, out, _ = run_bounded([build, "ctl", "-c", conf, "-t", "1", "status"])
        assert rc == 1 and "timed out after 1 s" in out, out
    conf.write_text("[supervisorctl]\ntimeout=-1\n")
    rc, out, _ = run_bounded([build, "ctl", "-c", conf, "status"])
    assert rc == 2 and "Error: invalid value for [supervisorctl] timeout '-1'" in out, out


REAL = """
[unix_http_server]
file={sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:quiet]
command=sleep 1000
startsecs=0
[program:slow]
command=sleep 1000
startsecs=3
autostart=false
"""


def test_ctl_timeout_spares_real_waits(run, impl, tmp_path):
    """The same against the real servers: start waits out startsecs=3 under -t 1, and tail -f
    of a silent program keeps streaming past the timeout."""
    sock = tmp_path / "sock"
    d = run(impl, REAL.format(sock=sock))
    wait_until(lambda: sock.exists(), timeout=10, what="the socket")
    url = f"unix://{sock}"
    rc, out, secs = run_bounded([PIDVISOR, "ctl", "-s", url, "-t", "1", "start", "slow"])
    assert (rc, out) == (0, "slow: started\n") and secs >= 3
    p = subprocess.Popen([PIDVISOR, "ctl", "-s", url, "-t", "1", "tail", "-f", "quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)
        assert p.poll() is None
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=10)
    assert out == "==> Press Ctrl-C to exit <==\n", out
    assert d.stop() == 0
