"""[fcgi-program:x]: one listening socket per group, created before the first child spawns,
shared by every child on its fd 0, closed when the last child is reaped; run side by side with
the real supervisord (whose socket_manager.py is the reference)."""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import xmlrpc.client
from pathlib import Path

import pytest

from harness import (CORPUS, PIDVISOR, SUPERVISORCTL, Daemon, free_port, needs_corpus,
                     wait_until)

# a stand-in for uvicorn --fd 0 or php-cgi: accept() on fd 0, answer with our pid
CHILD = """#!/usr/bin/python3
import os, socket
s = socket.socket(fileno=0)
while True:
    c, _ = s.accept()
    c.sendall(b"%d\\n" % os.getpid())
    c.close()
"""

def child_script(tmp_path, name="child.py"):
    path = tmp_path / name
    path.write_text(CHILD)
    path.chmod(0o755)
    return path


def fd0(pid):
    """The inode of pid's fd 0 when it is a socket, else what it points to."""
    link = os.readlink(f"/proc/{pid}/fd/0")
    m = re.fullmatch(r"socket:\[(\d+)\]", link)
    return int(m.group(1)) if m else link


def listening_inodes():
    """Inodes of every listening unix and TCP socket of this network namespace."""
    found = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if int(parts[3], 16) & 0x10000:  # __SO_ACCEPTCON
                found.add(int(parts[6]))
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[3] == "0A":  # LISTEN
                    found.add(int(parts[9]))
    return found


def tcp_listening(port):
    with open("/proc/net/tcp") as f:
        next(f)
        return any(p[3] == "0A" and int(p[1].split(":")[1], 16) == port
                   for p in (line.split() for line in f))


def backlog(inode):
    """The listen() backlog of a listening socket, as ss shows it (Send-Q)."""
    for cmd in (["ss", "-Hlxn"], ["ss", "-Hltne"]):
        for line in subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines():
            f = line.split()
            if f[0] == "u_str" and f[5] == str(inode):
                return int(f[3])
            if f[0] == "LISTEN" and f"ino:{inode}" in f:
                return int(f[2])
    return None


def ask(addr):
    """The pid that the child serving one connection to addr answers with."""
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(10)
        s.connect(addr)
        return int(s.recv(64))


def ns_pids(d, names):
    """The pids the children have in their namespace, from the last spawn of each."""
    out = {}
    for name in names:
        d.program_pid(name)
        out[name] = int(re.findall(rf"spawned: '{name}' with pid (\d+)", d.log())[-1])
    return out


def ctl(d, *args):
    r = subprocess.run([SUPERVISORCTL, "-s", d.url, *args], capture_output=True, text=True,
                       timeout=30)
    return r.stdout


def rpc(d):
    from supervisor.xmlrpc import SupervisorTransport
    return xmlrpc.client.ServerProxy("http://127.0.0.1",
                                     transport=SupervisorTransport(None, None, d.url))


def fcgi_conf(child, sock, extra=""):
    return (f"[fcgi-program:web]\nsocket={sock}\ncommand={child}\nnumprocs=2\n"
            "process_name=%(program_name)s_%(process_num)02d\nstartsecs=0\n" + extra)


@pytest.fixture(params=["unix", "tcp"])
def address(request, tmp_path):
    """(socket= value, what to connect to)"""
    if request.param == "unix":
        path = str(tmp_path / "web.sock")
        return f"unix://{path}", path
    port = free_port()
    return f"tcp://127.0.0.1:{port}", ("127.0.0.1", port)


def test_children_share_one_listening_socket_on_fd0(run, impl, tmp_path, address):
    url, addr = address
    d = run(impl, fcgi_conf(child_script(tmp_path), url, "socket_backlog=7\n"), control=True)
    d.wait_settled({"web:web_00": "RUNNING", "web:web_01": "RUNNING"})
    pids = [d.program_pid("web_00"), d.program_pid("web_01")]
    inodes = {fd0(p) for p in pids}
    assert len(inodes) == 1, inodes
    inode = inodes.pop()
    assert isinstance(inode, int) and inode in listening_inodes()
    assert backlog(inode) == 7
    # the children have only 0-2, the socket included (once python has read its script);
    # stdout and stderr stay pipes
    wait_until(lambda: all(sorted(os.listdir(f"/proc/{p}/fd")) == ["0", "1", "2"]
                           for p in pids), what="the children to have only fds 0-2")
    for p in pids:
        assert os.readlink(f"/proc/{p}/fd/1").startswith("pipe:")
    # one of them answers every connection
    served = set(ns_pids(d, ["web_00", "web_01"]).values())
    answers = {ask(addr) for _ in range(8)}
    assert answers and answers <= served
    if isinstance(addr, str):
        st = os.stat(addr)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    log = d.log()
    assert f"Creating socket {url}" in log
    assert d.stop() == 0


def test_socket_lives_while_a_child_does(run, impl, tmp_path, address):
    url, addr = address
    d = run(impl, fcgi_conf(child_script(tmp_path), url), control=True)
    d.wait_settled({"web:web_00": "RUNNING", "web:web_01": "RUNNING"})
    first = fd0(d.program_pid("web_00"))
    closed = d.log().count(f"Closing socket {url}")  # the check when the group was added
    # a child that dies is restarted on the same socket
    os.kill(d.program_pid("web_01"), signal.SIGKILL)
    d.wait_log(r"spawned: 'web_01'", count=2)
    d.wait_settled({"web:web_00": "RUNNING", "web:web_01": "RUNNING"})
    assert fd0(d.program_pid("web_01")) == first
    pids = ns_pids(d, ["web_00", "web_01"])

    ctl(d, "stop", "web:web_00")
    d.wait_settled({"web:web_00": "STOPPED", "web:web_01": "RUNNING"})
    assert first in listening_inodes()
    assert {ask(addr) for _ in range(3)} == {pids["web_01"]}
    assert d.log().count(f"Closing socket {url}") == closed

    ctl(d, "stop", "web:web_01")
    d.wait_settled({"web:web_00": "STOPPED", "web:web_01": "STOPPED"})
    d.wait_log(re.escape(f"Closing socket {url}"), count=closed + 1)
    assert first not in listening_inodes()
    with pytest.raises(ConnectionRefusedError):
        ask(addr)
    if isinstance(addr, str):
        # as supervisord: the file stays, and the next creation unlinks it first
        assert stat.S_ISSOCK(os.stat(addr).st_mode)
    else:
        assert not tcp_listening(addr[1])

    ctl(d, "start", "web:*")
    d.wait_settled({"web:web_00": "RUNNING", "web:web_01": "RUNNING"})
    again = {fd0(d.program_pid(n)) for n in ("web_00", "web_01")}
    assert len(again) == 1 and first not in again and again <= listening_inodes()
    assert ask(addr) in set(ns_pids(d, ["web_00", "web_01"]).values())
    assert d.stop() == 0


def owner_conf(tmp_path):
    sections = {
        "default": "",
        "mode": "socket_mode=0660\n",
        "owner": "socket_owner=nobody\n",
        "both": "socket_owner=nobody:nogroup\nsocket_mode=0666\n",
        "user": "user=nobody\n",
        "user_owner": "user=nobody\nsocket_owner=root:nogroup\n",
    }
    return "".join(f"[fcgi-program:{name}]\nsocket=unix://{tmp_path}/{name}.sock\n"
                   f"command=/bin/sleep 1000\nstartsecs=0\n{extra}\n"
                   for name, extra in sections.items()), list(sections)


def test_unix_socket_owner_and_mode_as_supervisord(run, tmp_path):
    seen = {}
    for impl in ("supervisord", "pidvisor"):
        for f in tmp_path.glob("*.sock"):
            f.unlink()
        conf, names = owner_conf(tmp_path)
        d = run(impl, conf, control=True)
        d.wait_settled({n: "RUNNING" for n in names})
        seen[impl] = {}
        for n in names:
            st = os.stat(tmp_path / f"{n}.sock")
            seen[impl][n] = (st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode)))
        assert d.stop() == 0
    nobody, nogroup = 65534, 65534
    assert seen["pidvisor"] == {
        "default": (0, 0, "0o700"),
        "mode": (0, 0, "0o660"),
        "owner": (nobody, 0, "0o700"),
        "both": (nobody, nogroup, "0o666"),
        "user": (nobody, nogroup, "0o700"),
        "user_owner": (0, nogroup, "0o700"),
    }
    assert seen["pidvisor"] == seen["supervisord"]


# what a socket that cannot be made looks like: supervisord exits at start-up with this message,
# pidvisor keeps running and gives it as the spawn error
FAILURES = {
    "port_in_use": ("tcp://127.0.0.1:{port}", "[Errno 98] Address already in use"),
    "no_directory": ("unix://{tmp}/missing/web.sock", "[Errno 2] No such file or directory"),
    "is_a_directory": ("unix://{tmp}/adir", "[Errno 21] Is a directory: '{tmp}/adir'"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_socket_failure_is_a_spawn_error_and_pid1_stays(run, build, tmp_path, case):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    # a long unix path too: the whole message is kept (tests/proc/test_spawnerr.py)
    short = Path(tempfile.mkdtemp(prefix="fcgi-" + "x" * 60))
    (short / "adir").mkdir()
    fill = {"port": holder.getsockname()[1], "tmp": short}
    url, why = (s.format(**fill) for s in FAILURES[case])
    message = f"Could not create FastCGI socket {url}: {why}"
    conf = (f"[fcgi-program:web]\nsocket={url}\ncommand=/bin/sleep 1000\nstartretries=1\n\n"
            "[program:other]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
    try:
        sd = run("supervisord", conf)
        assert sd.proc.wait(timeout=30) != 0
        assert f"ValueError: {message}" in sd.stderr()
        sd.close()

        d = run("pidvisor", conf, binary=build, control=True)
        d.wait_settled({"web": "FATAL", "other": "RUNNING"}, timeout=20)
        log = d.log()
        assert f"ERRO {message}" in log  # when the group is added
        assert log.count(f"spawnerr: {message}") == 2  # the first try and one retry
        assert "gave up: web entered FATAL state" in log
        info = rpc(d).supervisor.getProcessInfo("web")
        assert info["statename"] == "FATAL" and info["spawnerr"] == message
        assert re.search(r"web\s+FATAL\s+" + re.escape(message), ctl(d, "status"))
        # a start request fails alone, and the daemon answers the next one
        with pytest.raises(xmlrpc.client.Fault) as e:
            rpc(d).supervisor.startProcess("web")
        assert e.value.faultString == f"SPAWN_ERROR: web"
        assert rpc(d).supervisor.getState()["statename"] == "RUNNING"
        d.wait_settled({"web": "FATAL", "other": "RUNNING"}, timeout=20)
        assert d.proc.poll() is None
        if case == "port_in_use":
            holder.close()
            assert rpc(d).supervisor.startProcess("web") is True
            assert fd0(d.program_pid("web")) in listening_inodes()
        assert d.stop() == 0
    finally:
        holder.close()
        shutil.rmtree(short)


def test_fcgi_groups_listed_as_supervisord(run, tmp_path):
    """getAllConfigInfo, getAllProcessInfo and ctl status name the same groups and processes;
    inside a [group:x] an fcgi-program is a plain program, with no socket."""
    child = child_script(tmp_path)
    conf = (fcgi_conf(child, f"unix://{tmp_path}/web.sock")
            + f"\n[group:pool]\nprograms=lone,plain\n\n"
            f"[fcgi-program:lone]\nsocket=unix://{tmp_path}/lone.sock\n"
            "command=/bin/sleep 1000\nstartsecs=0\n\n"
            "[program:plain]\ncommand=/bin/sleep 1000\nstartsecs=0\n")
    expect = {"web:web_00": "RUNNING", "web:web_01": "RUNNING", "pool:lone": "RUNNING",
              "pool:plain": "RUNNING"}
    seen = {}
    for impl in ("supervisord", "pidvisor"):
        d = run(impl, conf, control=True)
        d.wait_settled(expect)
        s = rpc(d).supervisor
        config = sorted((c["group"], c["name"], c["inuse"], c["autostart"], c["group_prio"], c["process_prio"],
                         c["command"]) for c in s.getAllConfigInfo())
        procs = sorted((p["group"], p["name"], p["statename"]) for p in s.getAllProcessInfo())
        one = s.getProcessInfo("web:web_01")
        status = [line.split()[:2] for line in ctl(d, "status").splitlines()]
        lone = d.program_pid("lone")
        seen[impl] = (config, procs, (one["group"], one["name"], one["statename"]), status,
                      fd0(lone).split(":")[0], (tmp_path / "lone.sock").exists())
        assert d.stop() == 0
    assert seen["pidvisor"] == seen["supervisord"]
    assert seen["pidvisor"][4:] == ("pipe", False)


class CorpusDaemon(Daemon):
    """The corpus file as it is: no header of ours."""

    def header(self):
        return ""


@needs_corpus
def test_corpus_cvat_uvicorn_behind_a_shared_socket(tmp_path):
    """opencv/cvat's server.conf, unchanged: its /tmp paths live in a private /tmp, and the
    uvicorn command ($HOME/wait_for_deps.sh python3 -m uvicorn --fd 0 ...) runs a stand-in
    at the same argv."""
    home = tmp_path
    (home / "wait_for_deps.sh").write_text(CHILD)
    (home / "wait_for_deps.sh").chmod(0o755)
    # a private /tmp that still shows this test's directory
    # (and the build directory, which a checkout under /tmp has there too)
    wrap = ["sh", "-c",
            'exec 3<"$T" 4<"$B" && mount -t tmpfs tmpfs /tmp && mkdir -p "$T" "$B" '
            '&& mount --no-canonicalize --bind /proc/self/fd/3 "$T" '
            '&& mount --no-canonicalize --bind /proc/self/fd/4 "$B" && exec 3<&- 4<&- '
            '&& mkdir -p /tmp/supervisord "$HOME/logs" && exec "$@"', "sh"]
    env = {"T": str(tmp_path), "B": str(Path(PIDVISOR).resolve().parent), "HOME": str(home),
           "NUMPROCS": "2", "SMOKESCREEN_OPTS": ""}
    seen = {}
    for impl in ("supervisord", "pidvisor"):
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            d = CorpusDaemon(impl, tmp_path, (CORPUS / "11-cvat-server.conf").read_text(),
                             wrap=wrap)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k)
                else:
                    os.environ[k] = v
        try:
            d.log_path = home / "logs" / "supervisord.log"
            root = Path(f"/proc/{d.pid}/root")
            d.sock = root / "tmp/supervisord/supervisor.sock"
            d.url = f"unix://{d.sock}"
            d.wait_settled({"uvicorn:uvicorn-0": "RUNNING", "uvicorn:uvicorn-1": "RUNNING"},
                           timeout=30)
            pids = [d.program_pid(f"uvicorn-{n}") for n in (0, 1)]
            inodes = {fd0(p) for p in pids}
            assert len(inodes) == 1 and inodes <= listening_inodes()
            served = set(ns_pids(d, ["uvicorn-0", "uvicorn-1"]).values())
            assert {ask(str(root / "tmp/uvicorn.sock")) for _ in range(6)} <= served
            argv = [Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[1:-1] for p in pids]
            envs = [dict(kv.split(b"=", 1) for kv in
                         Path(f"/proc/{p}/environ").read_bytes().split(b"\0") if b"=" in kv)
                    for p in pids]
            sock = os.stat(root / "tmp/uvicorn.sock")
            seen[impl] = (argv, [e[b"CVAT_EVENTS_LOCAL_DB_FILENAME"] for e in envs],
                          oct(stat.S_IMODE(sock.st_mode)))
            d.signal(signal.SIGTERM)
            assert d.proc.wait(timeout=30) == 0
        finally:
            d.close()
    expect_argv = [str(home / "wait_for_deps.sh").encode(), b"python3", b"-m", b"uvicorn",
                   b"--fd", b"0", b"--forwarded-allow-ips=*", b"cvat.asgi:application"]
    assert seen["pidvisor"][0] == [expect_argv, expect_argv]
    assert seen["pidvisor"][1] == [b"events_000.db", b"events_001.db"]
    assert seen["pidvisor"] == seen["supervisord"]


def test_reload_moves_a_changed_socket(run, impl, tmp_path):
    """SIGHUP with a new socket= for one group: its children come back on the new socket and the
    old one is closed. pidvisor keeps an unchanged group, socket and children, running."""
    child = child_script(tmp_path)
    other = (f"[fcgi-program:other]\nsocket=unix://{tmp_path}/other.sock\ncommand={child}\n"
             "startsecs=0\n\n")
    a, b = str(tmp_path / "a.sock"), str(tmp_path / "b.sock")
    d = run(impl, other + fcgi_conf(child, f"unix://{a}"), control=True)
    expect = {"web:web_00": "RUNNING", "web:web_01": "RUNNING", "other": "RUNNING"}
    d.wait_settled(expect)
    before = fd0(d.program_pid("other"))
    d.conf_path.write_text(d.header() + d.control("", True) + other
                           + fcgi_conf(child, f"unix://{b}"))
    d.signal(signal.SIGHUP)
    d.wait_log(r"spawned: 'web_01'", count=2)
    d.wait_settled(expect)
    with pytest.raises(ConnectionRefusedError):
        ask(a)
    assert ask(b) in set(ns_pids(d, ["web_00", "web_01"]).values())
    inodes = {fd0(d.program_pid(n)) for n in ("web_00", "web_01")}
    assert len(inodes) == 1 and inodes <= listening_inodes()
    after = fd0(d.program_pid("other"))
    assert after in listening_inodes()
    assert (after == before) == (impl == "pidvisor")
    assert d.stop() == 0
