"""Hostile XML-RPC over the real unix socket of pidvisor running as PID 1: every method called
with the wrong number of arguments, wrong types and int64 extremes (generated from
system.listMethods and system.methodSignature), and system.multicall amplification. Each call
must get a fault or a bounded answer, the daemon must stay alive and answering, and its RSS
must come back near where it started. Both builds."""
import http.client
import os
import random
import socket
import time
import xmlrpc.client
from pathlib import Path

import psutil
import pytest

import harness
from harness import wait_until

ROOT = Path(__file__).resolve().parent.parent.parent
BUILDS = ["build/asan/pidvisor", "build/pidvisor"]
MIB = 1024 * 1024
INCORRECT_PARAMETERS, BAD_ARGUMENTS, BAD_SIGNAL, FAILED = 2, 3, 11, 30

CONF = """
[unix_http_server]
file={sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:cat]
command=cat
startsecs=0
stdout_logfile={tmp}/cat.log
stdout_logfile_maxbytes=0
[program:idle]
command=sleep 1000
autostart=false
"""

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
EXTREMES = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 16 * MIB, -16 * MIB, INT64_MAX, INT64_MIN,
            INT64_MAX - 1, INT64_MIN + 1]


class I8(int):
    """An int sent as <i8>, which Python's xmlrpc.client refuses to write past int32."""


def value(v):
    if isinstance(v, I8):
        return f"<value><i8>{int(v)}</i8></value>"
    if isinstance(v, bool) or isinstance(v, int):
        return xmlrpc.client.dumps((v,)).split("<param>\n", 1)[1].rsplit("</param>", 1)[0]
    if isinstance(v, list):
        return "<value><array><data>" + "".join(value(x) for x in v) + "</data></array></value>"
    if isinstance(v, dict):
        return ("<value><struct>" + "".join(f"<member><name>{k}</name>{value(x)}</member>"
                                              for k, x in v.items()) + "</struct></value>")
    return xmlrpc.client.dumps((v,)).split("<param>\n", 1)[1].rsplit("</param>", 1)[0]


def body(method, params):
    return ("<?xml version='1.0'?>\n<methodCall>\n<methodName>" + method +
            "</methodName>\n<params>\n" +
            "".join(f"<param>\n{value(p)}</param>\n" for p in params) +
            "</params>\n</methodCall>\n").encode()


class Client:
    def __init__(self, sock):
        self.sock = str(sock)

    def raw(self, method, params=()):
        """The response body and its size; an HTTP error is an assertion."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(60)
        s.connect(self.sock)
        conn = http.client.HTTPConnection("localhost", timeout=60)
        conn.sock = s
        data = body(method, params)
        conn.request("POST", "/RPC2", data, {"Content-Type": "text/xml"})
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        assert resp.status == 200, (method, params, resp.status, out[:200])
        return out

    def call(self, method, *params):
        """The result, or the xmlrpc.client.Fault as a value."""
        out = self.raw(method, params)
        try:
            return xmlrpc.client.loads(out, use_builtin_types=True)[0][0]
        except xmlrpc.client.Fault as f:
            return f


@pytest.fixture(params=BUILDS)
def daemon(request, run, tmp_path, monkeypatch):
    binary = ROOT / request.param
    assert binary.exists(), f"build {request.param} first"
    monkeypatch.setattr(harness, "PIDVISOR", str(binary))
    # ASan keeps freed memory in quarantine; a small one lets RSS show what pidvisor holds
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:quarantine_size_mb=16:"
                       "allocator_release_to_os_interval_ms=0")
    # a stdout log over the 16 MiB a single read may answer
    with open(tmp_path / "cat.log", "wb") as f:
        f.write((b"x" * 1023 + b"\n") * (17 * 1024))
    sock = tmp_path / "s.sock"
    d = run("pidvisor", CONF.format(sock=sock, tmp=tmp_path))
    d.asan = "asan" in request.param
    wait_until(lambda: sock.exists(), what="the socket")
    c = Client(sock)
    wait_until(lambda: c.call("supervisor.getProcessInfo", "cat")["statename"] == "RUNNING",
               what="cat running")
    return d, c


def alive(d, c):
    assert d.proc.poll() is None, d.stderr()
    assert isinstance(c.call("supervisor.getPID"), int)
    assert "runtime error" not in d.stderr() and "AddressSanitizer" not in d.stderr()


def rss(d):
    return psutil.Process(d.pid).memory_info().rss


def signatures(c):
    sigs = {}
    for m in c.call("system.listMethods"):
        sigs[m] = c.call("system.methodSignature", m)
    return sigs


# A value of the right type for each signature slot, and values of every other type.
RIGHT = {"string": "cat", "int": 0, "boolean": False, "array": []}
WRONG = {"string": [7, 1.5, [], {"a": 1}, True],
         "int": ["x", 1.5, [], {"a": 1}],
         "boolean": ["x", 1.5, [], {"a": 1}],
         "array": ["x", 7, True, {"a": 1}]}
# Slots that take any value, as supervisord: a boolean by Python's truth (`if wait:`), and both
# of sendRemoteCommEvent's (it formats what it gets).
ANY_VALUE = ("boolean", "supervisor.sendRemoteCommEvent")
# Slots a method checks itself, with supervisord's fault: sendProcessStdin's chars.
OWN_CHECK = {("supervisor.sendProcessStdin", 1): INCORRECT_PARAMETERS}
# start, stop and restart would change what the rest of the test sees; shutdown would end it
RUNS_HANDLER_SAFELY = ("supervisor.read", "supervisor.tail", "supervisor.signal",
                       "supervisor.getProcessInfo", "system.")


def test_wrong_arity_every_method(daemon):
    d, c = daemon
    sigs = signatures(c)
    assert len(sigs) >= 40
    for m, sig in sigs.items():
        params = [RIGHT[t] for t in sig[1:]]
        f = c.call(m, *(params + ["extra", 1]))
        assert isinstance(f, xmlrpc.client.Fault) and f.faultCode == INCORRECT_PARAMETERS, (m, f)
        if params and not m.startswith(("supervisor.start", "supervisor.stop")):
            f = c.call(m)
            assert isinstance(f, xmlrpc.client.Fault), (m, f)
            assert f.faultCode == INCORRECT_PARAMETERS, (m, f)
    alive(d, c)


def test_wrong_types_every_method(daemon):
    d, c = daemon
    sigs = signatures(c)
    checked = 0
    for m, sig in sigs.items():
        types = sig[1:]
        for i, t in enumerate(types):
            for bad in WRONG[t]:
                # a signal may be a number; a boolean may be an int (Python's truth)
                if "signal" in m and i == len(types) - 1 and isinstance(bad, int):
                    continue
                params = [RIGHT[x] for x in types]
                params[i] = bad
                if (t in ANY_VALUE or m in ANY_VALUE) and \
                        m.startswith(("supervisor.start", "supervisor.stop")):
                    continue  # they would run, and change what the rest of the test sees
                f = c.call(m, *params)
                if (m, i) in OWN_CHECK:
                    assert isinstance(f, xmlrpc.client.Fault), (m, params, f)
                    assert f.faultCode == OWN_CHECK[(m, i)], (m, params, f)
                    continue
                if t in ANY_VALUE or m in ANY_VALUE:
                    assert not isinstance(f, xmlrpc.client.Fault) or \
                        f.faultCode != BAD_ARGUMENTS, (m, params, f)
                    continue
                assert isinstance(f, xmlrpc.client.Fault), (m, params, f)
                assert f.faultCode == BAD_ARGUMENTS, (m, params, f)
                checked += 1
    assert checked > 100
    # the calls of the issue, which killed PID 1
    for m in ("supervisor.signalProcess", "supervisor.signalProcessGroup"):
        f = c.call(m, 0, 0)
        assert isinstance(f, xmlrpc.client.Fault) and f.faultCode == BAD_ARGUMENTS, (m, f)
    alive(d, c)


def test_extremes(daemon):
    d, c = daemon
    for off in EXTREMES:
        for length in EXTREMES:
            for m, args in (("supervisor.readLog", ()), ("supervisor.readProcessStdoutLog", ("cat",)),
                            ("supervisor.readProcessStderrLog", ("cat",)),
                            ("supervisor.tailProcessStdoutLog", ("cat",)),
                            ("supervisor.tailProcessStderrLog", ("cat",))):
                r = c.call(m, *args, I8(off), I8(length))
                if isinstance(r, xmlrpc.client.Fault):
                    assert r.faultCode in (BAD_ARGUMENTS, FAILED, 20), (m, off, length, r)
                    continue
                data = r[0] if m.startswith("supervisor.tail") else r
                assert len(data) <= 16 * MIB, (m, off, length)
    for sig in EXTREMES + [65, 1000]:
        if sig in (0, 1, 2):
            continue
        r = c.call("supervisor.signalProcess", "idle", I8(sig))
        assert isinstance(r, xmlrpc.client.Fault) and r.faultCode == BAD_SIGNAL, (sig, r)
        # over many, a bad signal is each signallable process's result, as supervisord's
        assert c.call("supervisor.signalProcessGroup", "idle", I8(sig)) == []
        assert c.call("supervisor.signalAllProcesses", I8(sig)) == [
            {"name": "cat", "group": "cat", "status": BAD_SIGNAL,
             "description": f"BAD_SIGNAL: {sig}"}]
    # the exact windows of supervisord's readFile/tailFile at the edges
    size = 17 * MIB
    assert len(c.call("supervisor.readProcessStdoutLog", "cat", -10, 0)) == 10
    tail = c.call("supervisor.tailProcessStdoutLog", "cat", I8(INT64_MAX), I8(INT64_MAX))
    assert tail == ["", size, False]
    tail = c.call("supervisor.tailProcessStdoutLog", "cat", 0, 100)
    assert tail == ["x" * 99 + "\n", size, True]
    alive(d, c)


LONG = ["", ":", "::", "*", ":*", "a" * 200_000, "g:" + "b" * 100_000, "\u00e9\u4e2d" * 1000]


def test_extreme_strings_every_method(daemon):
    d, c = daemon
    start = rss(d)
    for m, sig in signatures(c).items():
        types = sig[1:]
        for i, t in enumerate(types):
            if t != "string":
                continue
            for text in LONG:
                params = [RIGHT[x] for x in types]
                params[i] = text
                r = c.call(m, *params)
                assert r is not None, (m, i)
                if isinstance(r, xmlrpc.client.Fault):
                    assert r.faultCode != FAILED, (m, i, r)
                    assert len(r.faultString) <= 1024
    # nesting as deep as the parser takes, where a name belongs
    deep = "x"
    for _ in range(25):
        deep = [deep]
    r = c.call("supervisor.getProcessInfo", deep)
    assert isinstance(r, xmlrpc.client.Fault) and r.faultCode == BAD_ARGUMENTS
    alive(d, c)
    settled_rss(d, start, 16 * MIB)


def multicall_body(calls):
    return ("<?xml version='1.0'?>\n<methodCall>\n<methodName>system.multicall</methodName>\n"
            "<params>\n<param>\n<value><array><data>" + "".join(calls) +
            "</data></array></value></param>\n</params>\n</methodCall>\n").encode()


def multicall(c, calls):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect(c.sock)
    conn = http.client.HTTPConnection("localhost", timeout=120)
    conn.sock = s
    conn.request("POST", "/RPC2", multicall_body(calls), {"Content-Type": "text/xml"})
    resp = conn.getresponse()
    out = resp.read()
    conn.close()
    assert resp.status == 200, (resp.status, out[:300])
    return out, xmlrpc.client.loads(out, use_builtin_types=True)[0][0]


def entry(method, *params):
    """One call of a multicall, as short as XML-RPC allows (9,000 of them fit in 1 MiB)."""
    args = ("<member><name>params</name><value><array><data>" +
            "".join(value(p) for p in params) + "</data></array></value></member>"
            if params else "")
    return ("<value><struct><member><name>methodName</name><value>" + method +
            "</value></member>" + args + "</struct></value>")


def settled_rss(d, start, slack):
    """RSS comes back within slack bytes of start (allocators return memory lazily). The ASan
    build also keeps its quarantine of freed blocks (16 MiB here) and their shadow."""
    if d.asan:
        slack += 24 * MIB
    try:
        wait_until(lambda: rss(d) <= start + slack, timeout=10, interval=0.2,
                   what="RSS to come back")
    except AssertionError:
        raise AssertionError(f"RSS {rss(d) / MIB:.1f} MiB, started at {start / MIB:.1f} MiB")


def test_multicall_amplification_process_info(daemon):
    d, c = daemon
    alive(d, c)
    start = rss(d)
    calls = [entry("supervisor.getAllProcessInfo")] * 9000
    assert len(multicall_body(calls)) < MIB
    raw, results = multicall(c, calls)
    assert len(results) == 9000
    # the default multicall_max_calls is 1000: the rest get a fault and are not run
    assert all(isinstance(r, list) and len(r) == 2 for r in results[:1000])
    assert all(r["faultCode"] == FAILED and "multicall_max_calls" in r["faultString"]
               for r in results[1000:])
    assert len(raw) < 64 * MIB
    alive(d, c)
    settled_rss(d, start, 16 * MIB)


def test_multicall_amplification_log_reads(daemon):
    d, c = daemon
    alive(d, c)
    start = rss(d)
    raw, results = multicall(c, [entry("supervisor.readProcessStdoutLog", "cat", 0,
                                       16 * MIB)] * 200)
    assert len(results) == 200
    reads = [r for r in results if isinstance(r, str)]
    faults = [r for r in results if isinstance(r, dict)]
    # the default multicall_max_bytes is 64 MiB: a few whole reads, then faults
    assert 1 <= len(reads) <= 4 and all(len(r) == 16 * MIB for r in reads)
    assert len(faults) == 200 - len(reads)
    assert all("multicall_max_bytes" in f["faultString"] for f in faults)
    assert len(raw) <= 64 * MIB
    alive(d, c)
    settled_rss(d, start, 24 * MIB)


@pytest.mark.parametrize("build", BUILDS)
def test_multicall_limits_from_config(run, tmp_path, monkeypatch, build):
    monkeypatch.setattr(harness, "PIDVISOR", str(ROOT / build))
    sock = tmp_path / "s.sock"
    conf = CONF.format(sock=sock, tmp=tmp_path).replace(
        f"file={sock}\n", f"file={sock}\nmulticall_max_calls=3\nmulticall_max_bytes=2000\n")
    d = run("pidvisor", conf)
    wait_until(lambda: sock.exists(), what="the socket")
    c = Client(sock)
    _, results = multicall(c, [entry("supervisor.getPID")] * 5)
    assert [type(r) for r in results] == [int, int, int, dict, dict]
    assert "multicall_max_calls (3)" in results[3]["faultString"]
    _, results = multicall(c, [entry("supervisor.getAllConfigInfo")] * 3)
    assert all(isinstance(r, dict) and "multicall_max_bytes (2000)" in r["faultString"]
               for r in results), results
    alive(d, c)


TEXT = ("é中€😀a\n" * 3000).encode()  # 1 to 4 bytes a character
LOGREAD_CONF = """
[unix_http_server]
file={sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:text]
command=sleep 1000
stdout_logfile={tmp}/text.log
stdout_logfile_maxbytes=0
stderr_logfile={tmp}/noise.log
stderr_logfile_maxbytes=0
[program:ring]
command=/bin/sh -c "cat {tmp}/text.src; exec sleep 1000"
stdout_logfile=NONE
"""


@pytest.mark.parametrize("build", BUILDS)
def test_log_reads_are_well_formed_utf8(run, tmp_path, monkeypatch, build):
    """Log reads at any offset never split a UTF-8 character, and bytes that are not UTF-8 or
    that XML cannot carry still make an answer xmlrpc.client parses: from a file, from the
    in-memory tail, from the main log, and in /logtail's first chunk."""
    monkeypatch.setattr(harness, "PIDVISOR", str(ROOT / build))
    rnd = random.Random(13)
    noise = bytes(rnd.randrange(256) for _ in range(50_000)) + b"\n"
    (tmp_path / "text.log").write_bytes(TEXT)
    (tmp_path / "text.src").write_bytes(TEXT)
    (tmp_path / "noise.log").write_bytes(noise)
    (tmp_path / "main.log").write_bytes(TEXT + noise)
    sock = tmp_path / "s.sock"
    d = run("pidvisor", LOGREAD_CONF.format(sock=sock, tmp=tmp_path))
    wait_until(lambda: sock.exists(), what="the socket")
    c = Client(sock)
    wait_until(lambda: c.call("supervisor.tailProcessStdoutLog", "ring", 0, 0)[1] >= len(TEXT),
               timeout=20, what="ring's output")
    text = TEXT.decode()
    windows = [(o, n) for o in range(0, 40) for n in (1, 2, 3, 5, 17)]
    windows += [(rnd.randrange(len(TEXT)), rnd.randrange(1, 300)) for _ in range(150)]
    for off, length in windows:
        for m, args in (("supervisor.readProcessStdoutLog", ("text",)),
                        ("supervisor.readProcessStdoutLog", ("ring",)),
                        ("supervisor.readLog", ())):
            r = c.call(m, *args, off, length)  # parses, or this raises
            if m == "supervisor.readLog" and off + length > len(TEXT):
                continue  # the noise follows TEXT there
            assert r in text, (m, off, length, r)
            # at most 3 bytes skipped at each end, those of the characters cut there
            assert len(r.encode()) >= min(length, len(TEXT) - off) - 6, (m, args, off, length)
        r = c.call("supervisor.tailProcessStdoutLog", "text", off, length)
        assert r[0] in text and r[1] == len(TEXT), (off, length, r)
    for off, length in windows:
        for m, args in (("supervisor.readProcessStderrLog", ("text",)),
                        ("supervisor.readLog", ())):
            r = c.call(m, *args, len(TEXT) + off if m == "supervisor.readLog" else off,
                       length)
            assert isinstance(r, str), (m, off, length, r)
        r = c.call("supervisor.tailProcessStderrLog", "text", off, length)
        assert isinstance(r[0], str) and r[1] == len(noise), (off, length, r)
    # the whole noise at once: every byte came through, as itself or as U+FFFD
    whole = c.call("supervisor.readProcessStderrLog", "text", 0, 0)
    assert len(whole) <= len(noise) and whole.count("\ufffd") > 1000
    # /logtail starts 1024 bytes from the end: here in the middle of a character
    (tmp_path / "text.log").write_bytes(TEXT + "é".encode() * 600 + b"x\n")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(str(sock))
    s.sendall(b"GET /logtail/text HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 1024:
        data += s.recv(65536)
    s.close()
    body = data.split(b"\r\n\r\n", 1)[1]
    size, rest = body.split(b"\r\n", 1)
    chunk = rest[:int(size, 16)]
    assert chunk.decode() == "é" * 511 + "x\n"  # 1024 bytes less the half character
    alive(d, c)


@pytest.mark.parametrize("build", BUILDS)
def test_multicall_waiting_client_goes_away(run, tmp_path, monkeypatch, build):
    """A client that sends a multicall whose start/stop wait, and leaves while they wait: the
    daemon frees what the multicall held (the sanitizer build sees a use after free) and
    serves everyone else."""
    monkeypatch.setattr(harness, "PIDVISOR", str(ROOT / build))
    sock = tmp_path / "s.sock"
    conf = CONF.format(sock=sock, tmp=tmp_path) + """
[program:slow]
command=/bin/sh -c "trap '' TERM; while :; do sleep 0.1; done"
startsecs=0
stopwaitsecs=1
"""
    d = run("pidvisor", conf)
    wait_until(lambda: sock.exists(), what="the socket")
    c = Client(sock)
    wait_until(lambda: c.call("supervisor.getProcessInfo", "slow")["statename"] == "RUNNING",
               what="slow running")
    time.sleep(0.3)  # its shell has set the trap
    calls = [entry("supervisor.stopProcess", "slow"), entry("supervisor.startProcess", "slow"),
             entry("supervisor.stopProcess", "slow"), entry("supervisor.getPID")]
    for _ in range(3):
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(sock))
        body = multicall_body(calls)
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        s.close()
        alive(d, c)
    # the stop under way when each client left ends (SIGKILL after 1 s); nothing is left
    # waiting for a connection that is gone
    wait_until(lambda: "stopped: slow" in d.log(), timeout=20, what="a stop")
    wait_until(lambda: c.call("supervisor.getProcessInfo", "slow")["statename"] in
               ("STOPPED", "RUNNING"), timeout=20, what="slow settled")
    assert c.call("system.multicall", [{"methodName": "supervisor.getPID"}])[0] > 0
    alive(d, c)
