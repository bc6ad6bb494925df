"""The control socket under bad and hostile clients, auth and permissions, and a plain
xmlrpc.client driving pidvisor."""
import base64
import grp
import hashlib
import http.client
import os
import pwd
import re
import socket
import stat
import subprocess
import time
import xmlrpc.client

import pytest

from harness import PIDVISOR, free_port, wait_until

PROGRAMS = """
[program:web]
command=sleep 1000
startsecs=0
[program:idle]
command=sleep 1000
autostart=false
"""


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return UnixConn(self.path)


def proxy(sock):
    return xmlrpc.client.ServerProxy("http://localhost", transport=UnixTransport(str(sock)))


@pytest.fixture
def served(run):
    """pidvisor with the harness's control socket; extra: more [unix_http_server] lines."""
    def start(extra="", impl="pidvisor"):
        d = run(impl, PROGRAMS, control=True, auth=extra)
        wait_until(lambda: d.sock.exists(), timeout=30, what="the socket")
        d.wait_log(r"success: web entered RUNNING", timeout=30)
        return d
    return start


def raw(sock, data, read=True):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(str(sock))
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before reading everything: that is the point
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass  # a server closing on unread input resets the connection
    s.close()
    return out


def test_xmlrpc_client_drives_pidvisor(served):
    d = served()
    sp = proxy(d.sock)
    assert sp.supervisor.getAPIVersion() == "3.0"
    assert sp.supervisor.getState() == {"statecode": 1, "statename": "RUNNING"}
    info = sp.supervisor.getProcessInfo("web")
    assert info["statename"] == "RUNNING" and info["pid"] > 0
    assert re.fullmatch(rf"pid {info['pid']}, uptime 0:\d\d:\d\d", info["description"])
    assert sp.supervisor.startProcess("idle") is True
    assert sp.supervisor.getProcessInfo("idle")["statename"] == "RUNNING"
    assert sp.supervisor.stopProcess("idle") is True
    assert sp.supervisor.getProcessInfo("idle")["statename"] == "STOPPED"
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.stopProcess("idle")
    assert e.value.faultCode == 70 and e.value.faultString == "NOT_RUNNING: idle"
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.getProcessInfo("nope")
    assert (e.value.faultCode, e.value.faultString) == (10, "BAD_NAME: nope")
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.noSuchMethod()
    assert e.value.faultCode == 1
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.getProcessInfo()
    assert e.value.faultCode == 2
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.getProcessInfo(42)
    assert e.value.faultCode == 3  # BAD_ARGUMENTS: a wrong type (a wrong count is 2)
    methods = sp.system.listMethods()
    assert "supervisor.startProcess" in methods and methods == sorted(methods)
    assert sp.system.methodSignature("supervisor.startProcess") == ["boolean", "string",
                                                                    "boolean"]
    multi = sp.system.multicall([{"methodName": "supervisor.getAPIVersion", "params": []},
                                 {"methodName": "supervisor.getProcessInfo",
                                  "params": ["nope"]}])
    assert multi[0] == "3.0"
    assert multi[1] == {"faultCode": 10, "faultString": "BAD_NAME: nope"}
    assert sp.supervisor.signalProcess("web", "USR1") is True
    with pytest.raises(xmlrpc.client.Fault) as e:
        sp.supervisor.signalProcess("web", "NOPE")
    assert e.value.faultCode == 11


def test_bad_requests_close_only_that_connection(served):
    d = served()
    sp = proxy(d.sock)
    garbage = [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\n\r\n<?xm",
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 20\r\n\r\n<methodCall><metho",
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n",
        b"GET /RPC2 HTTP/1.1\r\n\r\n",
        b"POST /RPC2 HTTP/1.1\r\n" + b"X-Long: " + b"a" * 100000 + b"\r\n\r\n",
        b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x00\xff\xfe" * 1000,
    ]
    for g in garbage:
        raw(d.sock, g)
        assert sp.supervisor.getAPIVersion() == "3.0"
    body = b"<?xml version='1.0'?><methodCall><methodName>supervisor.getAPIVersion</methodName>" \
           b"<params><param><value><array><data>" + b"<value><array><data>" * 200 + \
           b"</data></array></value>" * 200 + b"</data></array></value></param></params>" \
           b"</methodCall>"
    reply = raw(d.sock, b"POST /RPC2 HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: %d"
                b"\r\n\r\n" % len(body) + body)
    assert reply.startswith(b"HTTP/1.1 400")
    huge = b"<methodCall>" + b" " * (3 * 1024 * 1024)
    reply = raw(d.sock, b"POST /RPC2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(huge) + huge)
    assert reply.startswith(b"HTTP/1.1 413") or reply == b""
    assert sp.supervisor.getAPIVersion() == "3.0"
    assert d.proc.poll() is None


def test_idle_and_slow_clients_do_not_stall_others(served):
    d = served()
    idle = []
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(d.sock))
        idle.append(s)
    half = socket.socket(socket.AF_UNIX)
    half.connect(str(d.sock))
    half.sendall(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n<method")
    sp = proxy(d.sock)
    t0 = time.monotonic()
    for _ in range(50):
        assert sp.supervisor.getState()["statename"] == "RUNNING"
    assert time.monotonic() - t0 < 30, "the answers waited for the idle clients"
    for s in idle:
        s.close()
    half.close()
    assert sp.supervisor.getAPIVersion() == "3.0"


def test_keep_alive_serves_several_requests(served):
    d = served()
    conn = UnixConn(str(d.sock))
    body = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getPID</methodName>\n"
            "<params>\n</params>\n</methodCall>\n")
    pids = set()
    for _ in range(5):
        conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        r = conn.getresponse()
        assert r.status == 200
        pids.add(xmlrpc.client.loads(r.read())[0][0])
    assert pids == {1}  # pidvisor is PID 1 of its namespace
    conn.close()


def test_socket_mode_defaults_to_0700(served):
    d = served()
    st = os.stat(d.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


# chmod values the umask could not give by accident; chown with a group that is not the user's
# primary one (daemon's is gid 1), or with no group: then supervisord leaves the group as it was
# (datatypes.colon_separated_user_group gives gid -1).
@pytest.mark.parametrize("chmod,chown", [("0606", "daemon:nogroup"), ("0770", "nobody")])
def test_socket_chmod_and_chown(served, impl, chmod, chown):
    d = served(f"chmod={chmod}\nchown={chown}\n", impl=impl)
    st = os.stat(d.sock)
    user, _, group = chown.partition(":")
    assert stat.S_IMODE(st.st_mode) == int(chmod, 8)
    assert st.st_uid == pwd.getpwnam(user).pw_uid
    assert st.st_gid == (grp.getgrnam(group).gr_gid if group else os.getgid())


def test_auth_is_enforced(served):
    d = served("username=admin\npassword=secret\n")
    sock = d.sock
    reply = raw(sock, b"POST /RPC2 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 401")
    assert b'WWW-Authenticate: Basic realm="default"' in reply
    token = base64.b64encode(b"admin:secret")
    body = (b"<?xml version='1.0'?><methodCall><methodName>supervisor.getAPIVersion"
            b"</methodName></methodCall>")
    ok = raw(sock, b"POST /RPC2 HTTP/1.1\r\nAuthorization: Basic " + token +
             b"\r\nContent-Type: text/xml\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
             % len(body) + body)
    assert ok.startswith(b"HTTP/1.1 200") and b"<string>3.0</string>" in ok
    bad = raw(sock, b"POST /RPC2 HTTP/1.1\r\nAuthorization: Basic " +
              base64.b64encode(b"admin:wrong") + b"\r\nContent-Type: text/xml\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert bad.startswith(b"HTTP/1.1 401")


def test_sha_password(served):
    digest = hashlib.sha1(b"hunter2").hexdigest()
    d = served(f"username=u\npassword={{SHA}}{digest}\n")
    body = (b"<?xml version='1.0'?><methodCall><methodName>supervisor.getAPIVersion"
            b"</methodName></methodCall>")
    call = (b"POST /RPC2 HTTP/1.1\r\nAuthorization: Basic %s\r\nContent-Type: text/xml\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s")
    ok = raw(d.sock, call % (base64.b64encode(b"u:hunter2"), len(body), body))
    assert ok.startswith(b"HTTP/1.1 200") and b"<string>3.0</string>" in ok
    bad = raw(d.sock, call % (base64.b64encode(b"u:" + digest.encode()), len(body), body))
    assert bad.startswith(b"HTTP/1.1 401"), "the stored digest is not itself a password"


def test_inet_server_on_an_open_address_without_password_starts_and_shouts(run, tmp_path):
    """supervisord runs such a config, so pidvisor must not stop the container: it starts
    with one CRIT line, and --check-config calls it an error."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=*:{port}\n[program:x]\ncommand=sleep 100\n"
            "startsecs=0\n")
    d.wait_log(r"success: x entered RUNNING", timeout=30)
    assert d.log().count(f"CRIT [inet_http_server] port=*:{port} listens beyond loopback "
                         "with no password") == 1
    r = subprocess.run([PIDVISOR, "-c", str(d.conf_path), "--check-config"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "listens beyond loopback with no password" in r.stdout


def test_literal_include_that_does_not_exist_starts_with_a_warning(run, tmp_path):
    d = run("pidvisor", f"[include]\nfiles={tmp_path}/nope/app.conf\n"
            "[program:x]\ncommand=sleep 100\nstartsecs=0\n")
    d.wait_log(r"success: x entered RUNNING")
    assert "warning: [include] files: included file" in d.stderr()
    r = subprocess.run([PIDVISOR, "-c", str(d.conf_path), "--check-config"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and f"included file '{tmp_path}/nope/app.conf' does not exist" \
        in r.stdout


def test_a_second_supervisor_on_the_same_socket_is_refused(run, tmp_path):
    d = run("pidvisor", f"[unix_http_server]\nfile={tmp_path}/s.sock\n"
            "[program:x]\ncommand=sleep 100\nstartsecs=0\n")
    d.wait_log(r"success: x entered RUNNING")
    r = subprocess.run([PIDVISOR, "-n", "-c", str(d.conf_path)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2 and "Another program is already listening" in r.stderr
    assert d.log().count("spawned: 'x'") == 1, "the first one's programs only"
    assert d.proc.poll() is None


def test_inet_server_on_loopback(run, tmp_path):
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n[program:web]\n"
                        "command=sleep 1000\nstartsecs=0\n")
    d.wait_log(r"success: web entered RUNNING", timeout=30)
    sp = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2")
    wait_until(lambda: _try(sp), what="the inet server")
    assert sp.supervisor.getProcessInfo("web")["statename"] == "RUNNING"


def _try(sp):
    try:
        return sp.supervisor.getAPIVersion() == "3.0"
    except OSError:
        return False
