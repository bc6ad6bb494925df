"""pidvisor's XML-RPC surface against Debian's real supervisord 4.2.5: both servers run the same
config side by side, and the answers of every read-only method are compared member by member
(getAllConfigInfo over many configs, getProcessInfo and getAllProcessInfo once settled,
system.methodHelp/methodSignature/listMethods, the fault code and string of a table of bad
calls, multicall sequences that start and stop). What differs on purpose is listed in the
README ("Where pidvisor differs from supervisord, on purpose") and asserted here exactly."""
import http.client
import os
import re
import signal
import socket
import subprocess
import unicodedata
import xmlrpc.client

import pytest

import harness
from harness import Daemon, wait_until

IMPLS = ("supervisord", "pidvisor")


class _UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return _UnixConn(self.path)


def proxy(sock):
    return xmlrpc.client.ServerProxy("http://localhost", transport=_UnixTransport(str(sock)))


def call(px, method, *args):
    """The answer, or ("FAULT", code, string)."""
    try:
        return getattr(px, method)(*args)
    except xmlrpc.client.Fault as f:
        return ("FAULT", f.faultCode, f.faultString)


def state_name(px):
    """supervisord binds its socket and listens a moment later: a refused connect is no answer
    yet."""
    try:
        return call(px, "supervisor.getState")["statename"]
    except (ConnectionRefusedError, FileNotFoundError):
        return None


@pytest.fixture
def pair(tmp_path):
    """pair(conf) starts supervisord and pidvisor on conf ({tmp} is each one's own directory)
    and returns {impl: (daemon, proxy)}."""
    started = []

    def start(conf, klass=Daemon):
        out = {}
        for impl in IMPLS:
            tmp = tmp_path / impl
            tmp.mkdir()
            d = klass(impl, tmp, conf.replace("{tmp}", str(tmp)), control=True)
            started.append(d)
            out[impl] = (d, proxy(d.sock))
        for impl, (d, px) in out.items():
            wait_until(lambda: d.sock.exists() or d.proc.poll() is not None, timeout=60,
                       what=f"{impl}'s socket")
            assert d.proc.poll() is None, f"{impl} exited:\n{d.stderr()}"
            wait_until(lambda: state_name(px) == "RUNNING", timeout=60, what=f"{impl} running")
        return out
    yield start
    for d in started:
        d.close()


# An AUTO log file is named NAME-CHANNEL---IDENTIFIER-RANDOM.log in childlogdir; the random part
# differs from run to run (and between mktemp and mkstemps).
AUTO_NAME = re.compile(r"(---[^/]*?-)[A-Za-z0-9_]{6,8}(\.log)$")


def norm(value, tmp):
    """value with the server's own directory written {tmp} and AUTO names' random part X."""
    if isinstance(value, str):
        return AUTO_NAME.sub(r"\1X\2", value.replace(str(tmp), "{tmp}"))
    if isinstance(value, (list, tuple)):
        return type(value)(norm(v, tmp) for v in value)
    if isinstance(value, dict):
        return {k: norm(v, tmp) for k, v in value.items()}
    return value


def member_diffs(ours, theirs, skip=()):
    """[(name, member, supervisord's, pidvisor's)] over two lists of structs keyed by name."""
    out = []
    by_name = {(s.get("group"), s["name"]): s for s in ours}
    assert sorted(by_name) == sorted((s.get("group"), s["name"]) for s in theirs)
    for s in theirs:
        p = by_name[(s.get("group"), s["name"])]
        for key in sorted(set(s) | set(p)):
            if key in skip:
                continue
            if s.get(key, "<absent>") != p.get(key, "<absent>") or \
                    type(s.get(key)) is not type(p.get(key)):
                out.append((s["name"], key, s.get(key, "<absent>"), p.get(key, "<absent>")))
    return out


def answers(servers, fn):
    return {impl: norm(fn(px), d.tmp) for impl, (d, px) in servers.items()}


# getAllConfigInfo over a spread of configs: every key away from its default, user set and
# unset, redirect_stderr, AUTO/NONE/a path//dev/stdout/syslog, numprocs, groups, serverurl,
# childlogdir with a trailing slash. Each config names the differences it is expected to show.
def _all_keys():
    return """
[program:every]
command=/bin/sleep 100
process_name=%(program_name)s_%(process_num)02d
numprocs=2
numprocs_start=3
priority=42
autostart=false
autorestart=true
startsecs=7
startretries=9
exitcodes=0,3
stopsignal=INT
stopwaitsecs=4
stopasgroup=true
killasgroup=true
user=nobody
redirect_stderr=false
stdout_logfile={tmp}/every-%(process_num)d.out
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=3
stdout_capture_maxbytes=2KB
stdout_events_enabled=true
stdout_syslog=true
stderr_logfile=NONE
stderr_logfile_maxbytes=5MB
stderr_logfile_backups=0
stderr_capture_maxbytes=0
stderr_events_enabled=true
stderr_syslog=false
directory=/tmp
umask=077
serverurl=http://127.0.0.1:9/
"""


CONFIGS = {
    "defaults": ("""
[program:plain]
command=/bin/sleep 100
""", []),
    "all_keys": (_all_keys(), []),
    "user_and_redirect": ("""
[program:asuser]
command=/bin/sleep 100
user=nobody
redirect_stderr=true
stderr_logfile={tmp}/ignored.log
[program:asroot]
command=/bin/sleep 100
user=0
""", []),
    "log_targets": ("""
[program:tostdout]
command=/bin/sleep 100
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0
[program:off]
command=/bin/sleep 100
stdout_logfile=off
stderr_logfile=none
[program:viasyslog]
command=/bin/sleep 100
stdout_logfile=syslog
[program:path]
command=/bin/sleep 100
stdout_logfile={tmp}/path.log
serverurl=AUTO
""", []),
    "groups_and_numprocs": ("""
[group:web]
programs=front,back
priority=5
[program:front]
command=/bin/sleep 100
numprocs=3
process_name=front-%(process_num)s
[program:back]
command=/bin/sleep 100
priority=7
[program:alone]
command=/bin/sleep 100
""", []),
    # exitcodes are kept as a set: sorted, without repeats
    "exitcodes_order": ("""
[program:codes]
command=/bin/sleep 100
exitcodes=2,0,2
""", [("codes", "exitcodes", [2, 0, 2], [0, 2])]),
    # an AUTO log of a program never started: supervisord names it at start-up, pidvisor at
    # the first spawn (child_output.c), so it answers "auto" until then: not on purpose,
    # reported to the log code's owner
    "auto_never_started": ("""
[program:later]
command=/bin/sleep 100
autostart=false
""", []),
}
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_get_all_config_info(pair, name):
    conf, expected = CONFIGS[name]
    servers = pair(conf)
    # pidvisor names an AUTO log at the first spawn: ask once every autostart process has had
    # one (on a loaded machine the answer to getState can come first)
    for impl, (d, px) in servers.items():
        def spawned():
            start = {(i["group"], i["name"]): i["start"]
                     for i in px.supervisor.getAllProcessInfo()}
            return all(start[(c["group"], c["name"])] > 0
                       for c in px.supervisor.getAllConfigInfo() if c["autostart"])
        wait_until(spawned, timeout=60, what=f"{impl}'s first spawns")
    got = answers(servers, lambda px: px.supervisor.getAllConfigInfo())
    assert [c["name"] for c in got["pidvisor"]] == [c["name"] for c in got["supervisord"]]
    assert member_diffs(got["pidvisor"], got["supervisord"]) == expected


def test_config_info_after_reload_config(pair):
    """reloadConfig gives supervisord a new config whose AUTO logs are named only when a group
    is added from it: until then getAllConfigInfo answers "auto" for them, as pidvisor must."""
    servers = pair("[program:a]\ncommand=/bin/sleep 100\n"
                   "[program:b]\ncommand=/bin/sleep 100\nstdout_logfile={tmp}/b.log\n")
    for impl, (d, px) in servers.items():
        px.supervisor.reloadConfig()
    got = answers(servers, lambda px: px.supervisor.getAllConfigInfo())
    assert member_diffs(got["pidvisor"], got["supervisord"]) == []
    by_name = {c["name"]: c for c in got["pidvisor"]}
    assert by_name["a"]["stdout_logfile"] == "auto"
    assert by_name["b"]["stdout_logfile"] == "{tmp}/b.log"


class SlashDaemon(Daemon):
    """childlogdir written with a trailing '/'."""

    def header(self):
        return super().header().replace(f"childlogdir={self.tmp}\n", f"childlogdir={self.tmp}/\n")


def test_config_info_childlogdir_trailing_slash(pair):
    """supervisord joins childlogdir and an AUTO name with no double slash."""
    servers = pair("[program:a]\ncommand=/bin/sleep 100\n", klass=SlashDaemon)
    got = answers(servers, lambda px: px.supervisor.getAllConfigInfo())
    assert got["supervisord"][0]["stdout_logfile"] == "{tmp}/a-stdout---supervisor-X.log"
    assert member_diffs(got["pidvisor"], got["supervisord"]) == []


def describe(info):
    """description with the pid, the uptime and the date written as words."""
    text = re.sub(r"^pid \d+, uptime (\d+ days?, )?\d+:\d\d:\d\d", "pid N, uptime T",
                  info["description"])
    return re.sub(r"^\w{3} \d\d \d\d:\d\d [AP]M$", "DATE", text)


TIMES = ("now", "start", "stop", "pid", "description")

PROCESS_CONF = """
[program:run]
command=/bin/sleep 100
startsecs=0
[program:idle]
command=/bin/sleep 100
autostart=false
stdout_logfile={tmp}/idle.out
stderr_logfile=NONE
[program:tostdout]
command=/bin/sleep 100
autostart=false
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
[program:nolog]
command=/bin/sleep 100
startsecs=0
stdout_logfile=NONE
stderr_logfile={tmp}/nolog.err
[program:exits]
command=/bin/sh -c "exit 3"
startsecs=0
autorestart=false
[program:fatal]
command=/bin/false
startsecs=1
startretries=0
[group:grp]
programs=member
[program:member]
command=/bin/sleep 100
startsecs=0
"""
SETTLED = {"run": "RUNNING", "idle": "STOPPED", "tostdout": "STOPPED", "nolog": "RUNNING",
           "exits": "EXITED", "fatal": "FATAL", "grp:member": "RUNNING"}


def settle(servers):
    for impl, (d, px) in servers.items():
        def settled():
            infos = px.supervisor.getAllProcessInfo()
            states = {(i["name"] if i["group"] == i["name"] else f"{i['group']}:{i['name']}"):
                      i["statename"] for i in infos}
            return states == SETTLED
        wait_until(settled, timeout=60, interval=0.1, what=f"{impl} to settle")


def test_process_info_after_settling(pair):
    servers = pair(PROCESS_CONF)
    settle(servers)
    got = answers(servers, lambda px: px.supervisor.getAllProcessInfo())
    assert member_diffs(got["pidvisor"], got["supervisord"], skip=TIMES) == []
    for s, p in zip(got["supervisord"], got["pidvisor"]):
        assert (s["name"], describe(s), s["pid"] > 0) == (p["name"], describe(p), p["pid"] > 0)
    assert [i["name"] for i in got["pidvisor"]] == [i["name"] for i in got["supervisord"]]
    for name in ("tostdout", "grp:member", "fatal", "nope", "grp:*"):
        one = answers(servers, lambda px: call(px, "supervisor.getProcessInfo", name))
        if isinstance(one["supervisord"], tuple):
            assert one["pidvisor"] == one["supervisord"]
        else:
            assert member_diffs([one["pidvisor"]], [one["supervisord"]], skip=TIMES) == []
    by_name = {i["name"]: i for i in got["pidvisor"]}
    assert by_name["tostdout"]["stdout_logfile"] == "/dev/stdout"
    assert by_name["exits"]["exitstatus"] == 3


def test_exitstatus_after_automatic_respawn(pair):
    """supervisord forgets the last exit status when it spawns again: 0 while running."""
    servers = pair("""
[program:again]
command=/bin/sh -c "sleep 1; exit 3"
startsecs=0
autorestart=true
""")
    for impl, (d, px) in servers.items():
        d.wait_log(r"spawned: 'again'", count=2, timeout=20)
        info = wait_until(lambda: (lambda i: i if i["statename"] == "RUNNING" else None)(
            px.supervisor.getProcessInfo("again")), timeout=30, what=f"{impl}: again running")
        assert info["exitstatus"] == 0, (impl, info)


def test_method_help_signature_list(pair):
    servers = pair("")
    got = answers(servers, lambda px: {
        m: (px.system.methodHelp(m), px.system.methodSignature(m))
        for m in px.system.listMethods()})
    assert sorted(got["pidvisor"]) == sorted(got["supervisord"])
    for m in got["supervisord"]:
        assert got["pidvisor"][m] == got["supervisord"][m], m
    assert "@param string name" in got["pidvisor"]["supervisor.startProcess"][0]


FAULT_CONF = """
[program:run]
command=/bin/sleep 100
startsecs=0
[program:idle]
command=/bin/sleep 100
autostart=false
[program:broken]
command=/nonexistent/x
autostart=false
[program:noexec]
command={tmp}
autostart=false
[program:quick]
command=/bin/true
autostart=false
startsecs=5
startretries=0
[program:redir]
command=/bin/sh -c "echo out; exec sleep 100"
startsecs=0
redirect_stderr=true
[program:nolog]
command=/bin/sh -c "echo out; exec sleep 100"
startsecs=0
stdout_logfile=NONE
[group:g]
programs=idle
"""

# In order: later calls see what earlier ones did.
FAULT_CALLS = [
    ("system.methodHelp", ["nope.x"]), ("system.methodSignature", ["nope.x"]),
    ("system.methodHelp", []), ("nope", []), ("supervisor.nope", []),
    ("supervisor._update", ["x"]), ("system.multicall", [[{}]]),
    ("system.multicall", [[{"methodName": "system.multicall", "params": [[]]}]]),
    ("system.multicall", [[{"methodName": 5}]]),
    ("system.multicall", [[{"methodName": [1]}]]),
    ("system.multicall", [[{"methodName": "supervisor.getPID", "params": [1]}]]),
    ("supervisor.getProcessInfo", ["nope"]), ("supervisor.getProcessInfo", ["g:nope"]),
    ("supervisor.getProcessInfo", ["g:*"]), ("supervisor.getProcessInfo", ["g"]),
    ("supervisor.getProcessInfo", ["idle"]), ("supervisor.getProcessInfo", []),
    ("supervisor.startProcess", ["run"]), ("supervisor.startProcess", ["broken"]),
    ("supervisor.startProcess", ["noexec"]), ("supervisor.startProcess", ["nope"]),
    ("supervisor.stopProcess", ["g:idle"]), ("supervisor.startProcessGroup", ["nope"]),
    ("supervisor.stopProcessGroup", ["nope"]), ("supervisor.signalProcess", ["g:idle", "HUP"]),
    ("supervisor.signalProcess", ["run", "BOGUS"]), ("supervisor.signalProcess", ["run", 999]),
    ("supervisor.signalProcess", ["run", "999"]), ("supervisor.signalProcess", ["run", -1]),
    ("supervisor.signalProcessGroup", ["run", "BOGUS"]),
    ("supervisor.signalProcessGroup", ["g", "BOGUS"]),
    ("supervisor.signalAllProcesses", ["BOGUS"]), ("supervisor.signalProcess", ["run:*", "BOGUS"]),
    ("supervisor.signalProcessGroup", ["nope", "HUP"]),
    ("supervisor.sendProcessStdin", ["idle", "x"]), ("supervisor.sendProcessStdin", ["nope", "x"]),
    ("supervisor.sendProcessStdin", ["run", 123]), ("supervisor.sendProcessStdin", ["nope", 123]),
    ("supervisor.sendProcessStdin", ["run", 1.5]), ("supervisor.sendProcessStdin", ["run", True]),
    ("supervisor.sendRemoteCommEvent", [1, 2]), ("supervisor.sendRemoteCommEvent", ["a", "b"]),
    ("supervisor.sendRemoteCommEvent", [True, 1.5]),
    ("supervisor.sendRemoteCommEvent", [[1], {"a": 1}]),
    ("supervisor.readProcessStdoutLog", ["idle", 0, 10]),
    ("supervisor.readProcessStdoutLog", ["nope", 0, 10]),
    ("supervisor.readProcessStdoutLog", ["run", -1, 10]),
    ("supervisor.readProcessStdoutLog", ["run", 0, -1]),
    ("supervisor.readProcessStderrLog", ["run", 0, 10]),
    ("supervisor.readProcessStderrLog", ["redir", 0, 10]),
    ("supervisor.tailProcessStderrLog", ["redir", 0, 10]),
    ("supervisor.readProcessStdoutLog", ["redir", 0, 0]),
    ("supervisor.readLog", [-1, 5]), ("supervisor.readLog", [0, -5]),
    ("supervisor.tailProcessStdoutLog", ["nope", 0, 10]),
    ("supervisor.clearProcessLogs", ["nope"]), ("supervisor.addProcessGroup", ["nope"]),
    ("supervisor.addProcessGroup", ["g"]), ("supervisor.removeProcessGroup", ["nope"]),
    ("supervisor.removeProcessGroup", ["run"]), ("supervisor.startProcess", ["quick"]),
    ("supervisor.stopProcess", ["run"]), ("supervisor.stopProcess", ["run"]),
    ("supervisor.startProcess", ["run", False]), ("supervisor.startProcess", ["run", False]),
    ("supervisor.startProcess", ["run", "x"]), ("supervisor.startProcess", ["run", []]),
    ("supervisor.getPID", [1]),
]
# The deliberate differences (README): a wrong-typed argument is a BAD_ARGUMENTS fault where
# supervisord answers HTTP 500.
WRONG_TYPED = {
    ("system.multicall", "['x']"): "BAD_ARGUMENTS: argument 1 of system.multicall must be a array",
    ("system.multicall", "[[5]]"): "INCORRECT_PARAMETERS: No methodName",
    ("supervisor.readLog", "['a', 1]"): "BAD_ARGUMENTS: argument 1 of supervisor.readLog must "
                                        "be an int",
}


def test_fault_codes_and_strings(pair):
    servers = pair(FAULT_CONF)
    for impl, (d, px) in servers.items():
        for name in ("run", "redir", "nolog"):
            wait_until(lambda: px.supervisor.getProcessInfo(name)["statename"] == "RUNNING",
                       timeout=20, what=f"{impl}: {name}")
        wait_until(lambda: px.supervisor.tailProcessStdoutLog("redir", 0, 10)[1] == 4,
                   timeout=10, what=f"{impl}: redir's output")
    for method, args in FAULT_CALLS:
        got = answers(servers, lambda px: call(px, method, *args))
        assert got["pidvisor"] == got["supervisord"], (method, args)
    # on purpose: a program with no log file keeps its last output in memory, to read
    got = answers(servers, lambda px: (call(px, "supervisor.readProcessStdoutLog", "nolog", 0, 0),
                                       px.supervisor.tailProcessStdoutLog("nolog", 0, 10)))
    assert got["supervisord"] == (("FAULT", 20, "NO_FILE"), ["", 0, False])
    assert got["pidvisor"] == ("out\n", ["out\n", 4, False])
    for (method, args), text in WRONG_TYPED.items():
        s = servers["supervisord"][1]
        with pytest.raises(xmlrpc.client.ProtocolError) as e:
            getattr(s, method)(*eval(args))
        assert e.value.errcode == 500
        got = call(servers["pidvisor"][1], method, *eval(args))
        if method == "system.multicall" and args == "[[5]]":
            got = got[0]["faultString"]
        else:
            got = got[2]
        assert got == text


MULTI_CONF = """
[program:a]
command=/bin/sleep 100
startsecs=1
[program:b]
command=/bin/sleep 100
startsecs=1
[program:broken]
command=/bin/false
autostart=false
startsecs=1
startretries=0
[group:g]
programs=a,b
"""


def mc(*calls):
    return [{"methodName": m, "params": list(p)} for m, *p in calls]


def results_sorted(answer):
    """Many-process results sorted by name: the order in which stops end is a race."""
    if isinstance(answer, list):
        return [sorted(r, key=lambda x: x["name"]) if isinstance(r, list) else r for r in answer]
    return answer


MULTICALLS = [
    mc(("supervisor.stopProcessGroup", "g"), ("supervisor.startProcessGroup", "g")),
    mc(("supervisor.startProcess", "broken"), ("supervisor.getState",)),
    mc(("supervisor.stopProcess", "g:a"), ("supervisor.getProcessInfo", "g:a"),
       ("supervisor.startProcess", "g:a"), ("supervisor.stopProcess", "g:a"),
       ("supervisor.startProcess", "g:a", False)),
    mc(("supervisor.stopAllProcesses",), ("supervisor.startAllProcesses",),
       ("supervisor.signalAllProcesses", "BOGUS"), ("supervisor.getPID", 1)),
    mc(("supervisor.stopProcess", "g:*"), ("supervisor.startProcess", "g:*", True)),
]


def test_multicall_waits_in_order(pair):
    servers = pair(MULTI_CONF)
    for impl, (d, px) in servers.items():
        wait_until(lambda: all(i["statename"] == "RUNNING" for i in px.supervisor.getAllProcessInfo()
                               if i["group"] == "g"), timeout=20, what=f"{impl}: g running")
    for calls in MULTICALLS:
        got = answers(servers, lambda px: results_sorted(px.system.multicall(calls)))
        for one in got.values():
            for r in one:
                if isinstance(r, dict) and "description" in r and "pid" in r:
                    r.update(now=0, start=0, stop=0, pid=0, description=describe(r))
        assert got["pidvisor"] == got["supervisord"], calls

        def steady(px):
            states = sorted((i["name"], i["statename"]) for i in px.supervisor.getAllProcessInfo())
            return states if not any(s in ("STARTING", "STOPPING", "BACKOFF")
                                     for _, s in states) else None
        states = {impl: wait_until(lambda: steady(px), timeout=20, what=f"{impl} steady")
                  for impl, (d, px) in servers.items()}
        assert states["pidvisor"] == states["supervisord"], calls
    # [stopProcessGroup g, startProcessGroup g] leaves g RUNNING
    px = servers["pidvisor"][1]
    px.system.multicall(MULTICALLS[0])
    assert {i["name"]: i["statename"] for i in px.supervisor.getAllProcessInfo()
            if i["group"] == "g"} == {"a": "RUNNING", "b": "RUNNING"}
    assert px.system.multicall(mc(("supervisor.startProcess", "broken"))) == [
        {"faultCode": 50, "faultString": "SPAWN_ERROR: broken"}]


def test_multicall_waiting_does_not_block_others(run, tmp_path):
    """A multicall waiting for a slow stop leaves the loop serving other clients."""
    d = run("pidvisor", """
[program:slow]
command=/bin/sh -c "trap '' TERM; touch %(here)s/trapped; while :; do sleep 0.1; done"
startsecs=0
stopwaitsecs=600
""", control=True)
    wait_until(lambda: d.sock.exists(), timeout=60, what="the socket")
    px = proxy(d.sock)
    wait_until(lambda: (tmp_path / "trapped").exists(), timeout=60, what="slow's trap")
    import threading
    answer = {}
    t = threading.Thread(target=lambda: answer.update(r=proxy(d.sock).system.multicall(
        mc(("supervisor.stopProcess", "slow"), ("supervisor.getProcessInfo", "slow")))))
    t.start()
    wait_until(lambda: px.supervisor.getProcessInfo("slow")["statename"] == "STOPPING",
               timeout=30, what="slow stopping")
    # answered while the multicall waits (slow ignores TERM, and stopwaitsecs is long)
    assert px.supervisor.getState()["statename"] == "RUNNING"
    assert t.is_alive()
    os.kill(d.program_pid("slow"), signal.SIGKILL)  # the stop ends: the multicall goes on
    t.join(30)
    assert not t.is_alive()
    assert answer["r"][0] is True
    assert answer["r"][1]["statename"] == "STOPPED"


STATUS_CONF = """
[program:café]
command=/bin/sleep 100
autostart=false
[program:naïve-ünïcode-name-longer-than-thirty]
command=/bin/sleep 100
autostart=false
[program:日本語]
command=/bin/sleep 100
autostart=false
[program:plain]
command=/bin/sleep 100
autostart=false
"""


def status_lines(argv):
    r = subprocess.run(argv, capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                       timeout=30)
    return r.stdout.decode().splitlines()


def columns(line):
    """The display column where the state starts (a wide character takes two)."""
    name = line.split("STOPPED")[0]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in name)


@pytest.mark.parametrize("impl", IMPLS)
def test_ctl_status_pads_by_display_width(run, tmp_path, impl):
    """pidvisor ctl status prints what Debian's supervisorctl prints, except that a wide
    character takes two columns (supervisorctl counts it as one): the states line up."""
    d = run(impl, STATUS_CONF, control=True)
    px = proxy(d.sock)
    wait_until(lambda: state_name(px) == "RUNNING", timeout=60, what=f"{impl} running")
    wait_until(lambda: len(px.supervisor.getAllProcessInfo()) == 4, timeout=20, what="programs")
    ours = status_lines([harness.PIDVISOR, "ctl", "-c", d.conf_path, "status"])
    theirs = status_lines([harness.SUPERVISORCTL, "-c", d.conf_path, "status"])
    assert len(ours) == len(theirs) == 4, (ours, theirs)
    for o, t in zip(ours, theirs):
        if "日本語" in o:
            assert t.replace("日本語   ", "日本語", 1) == o  # 3 wide characters: 3 spaces fewer
        else:
            assert o == t
    assert len({columns(line) for line in ours}) == 1, ours


# What the tests above allow to differ, and the words of the README that say so.
DELIBERATE = {
    "wrong-typed arguments (WRONG_TYPED)": "A wrong-typed XML-RPC argument",
    "exitcodes (CONFIGS['exitcodes_order'])": "`exitcodes` sorted and without repeats",
    "log reads (tests/hostile/test_rpc.py)": "never split a UTF-8\n  character",
    "status columns (test_ctl_status_pads_by_display_width)": "pads names by display width",
    "added members": "`depends_on` member",
    "in-memory logs (test_fault_codes_and_strings)": "keeps its last output in\n  memory",
}


def test_readme_lists_the_differences_allowed_here():
    readme = (harness.ROOT / "README.md").read_text()
    section = readme.split("### Where pidvisor differs from supervisord, on purpose", 1)[1]
    section = section.split("\n## ", 1)[0]
    for what, words in DELIBERATE.items():
        assert words in section, what
    expected = [diff for conf, diff in CONFIGS.values() if diff]
    assert expected == [[("codes", "exitcodes", [2, 0, 2], [0, 2])]]
