"""The main log says what supervisord says, in its words, wherever a script could grep it: the
same scenario (spawn, success, expected and unexpected exits, a death by signal, FATAL, a stop
and a signal through supervisorctl, a log reopen, shutdown) under Debian's real supervisord and
under pidvisor, the logs compared line by line with times and pids masked. pidvisor may add
only the lines listed in PIDVISOR_ONLY."""
import re
import signal
import subprocess

from harness import SUPERVISORCTL, Daemon, wait_until

# Lines of pidvisor's own, beside supervisord's: its version, and its exit.
PIDVISOR_ONLY = [
    re.compile(r"^INFO pidvisor \S+ \(as supervisord [\d.]+\)$"),
    re.compile(r"^INFO pidvisor exiting$"),
]

# (names that are no word of a log line: the lines are grouped by the name they hold)
PROGRAMS = ["longrun", "goodexit", "badexit", "sigkilled", "fatal", "stopme", "signalled"]

# goodexit, badexit and sigkilled end once the test has seen them RUNNING (./go): supervisord
# logs "success:" from its loop's tick, so one that exits before a late tick has no such line.
SCENARIO = """
[program:longrun]
command=sleep 1000
startsecs=1

[program:goodexit]
command=sh -c 'until [ -e %(here)s/go ]; do sleep 0.1; done; exit 0'
startsecs=1
autorestart=false

[program:badexit]
command=sh -c 'until [ -e %(here)s/go ]; do sleep 0.1; done; exit 3'
startsecs=1
autorestart=false

[program:sigkilled]
command=sh -c 'until [ -e %(here)s/go ]; do sleep 0.1; done; kill -9 $$'
startsecs=1
autorestart=false

[program:fatal]
command=sh -c 'exit 1'
startsecs=10
startretries=1

[program:stopme]
command=sleep 1000
startsecs=1

[program:signalled]
command=sleep 1000
startsecs=1
autorestart=false
"""

SETTLED = {"longrun": "RUNNING", "goodexit": "EXITED", "badexit": "EXITED",
           "sigkilled": "EXITED", "fatal": "FATAL", "stopme": "RUNNING",
           "signalled": "RUNNING"}


def normalized(text):
    """'LEVL message' per record, times and pids masked."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ([A-Z]{4} .*)$", line)
        assert m, f"not a main-log line: {line!r}"
        out.append(re.sub(r"\bpid \d+", "pid N", m.group(1)))
    return out


def by_subject(lines):
    """The records grouped by the one program they name ('' for the rest), each group in
    order: the programs run side by side, so only each one's own order is fixed."""
    groups = {}
    for line in lines:
        named = [p for p in PROGRAMS if re.search(rf"(?<![\w-]){p}(?![\w-])", line)]
        group = groups.setdefault(named[0] if len(named) == 1 else "", [])
        # "waiting for x to die" is said again every 3 s of waiting: how often is timing.
        # supervisord says "waiting for x to stop" only when x has not stopped by its first
        # check, which is timing too: that line is compared by name (pidvisor's list below)
        repeat = group and group[-1] == line
        if re.match(r"INFO waiting for .* to stop$", line):
            continue
        if not (repeat and re.match(r"INFO waiting for .* to die$", line)):
            group.append(line)
    return groups


def run_scenario(impl, tmp_path, conf, actions, args):
    d = Daemon(impl, tmp_path / impl, conf, control=True, args=("-e", "info", *args))
    try:
        actions(d)
        assert d.stop() == 0
    finally:
        d.close()
    return d.log()


def compare(tmp_path, conf, actions, args=()):
    logs = {}
    for impl in ("supervisord", "pidvisor"):
        (tmp_path / impl).mkdir()
        logs[impl] = normalized(run_scenario(impl, tmp_path, conf, actions, args))
    extra = [line for line in logs["pidvisor"] if any(rx.match(line) for rx in PIDVISOR_ONLY)]
    ours = [line for line in logs["pidvisor"] if line not in extra]
    assert len(extra) == len(PIDVISOR_ONLY), extra
    theirs, mine = by_subject(logs["supervisord"]), by_subject(ours)
    assert mine == theirs, "\n".join(["supervisord:", *logs["supervisord"], "pidvisor:",
                                      *logs["pidvisor"]])
    return logs


def test_main_log_matches_supervisord_line_by_line(tmp_path):
    def actions(d):
        for name in ("goodexit", "badexit", "sigkilled"):
            d.wait_log(rf"success: {name} entered RUNNING", timeout=60)
        (d.tmp / "go").touch()
        d.wait_settled(SETTLED, timeout=60)
        r = subprocess.run([SUPERVISORCTL, "-s", d.url, "stop", "stopme"], capture_output=True,
                           text=True, timeout=30)
        assert "stopme: stopped" in r.stdout, r.stdout + r.stderr
        r = subprocess.run([SUPERVISORCTL, "-s", d.url, "signal", "TERM", "signalled"],
                           capture_output=True, text=True, timeout=30)
        assert "signalled: signalled" in r.stdout, r.stdout + r.stderr
        d.wait_log(r"exited: signalled", timeout=30)
        d.signal(signal.SIGUSR2)
        d.wait_log(r"logreopen", timeout=30)
    logs = compare(tmp_path, SCENARIO, actions)
    mine = logs["pidvisor"]
    # the lines readiness scripts and log alerts grep for, each checked by name
    for want in [
        "CRIT Supervisor is running as root.  Privileges were not dropped because no user is "
        "specified in the config file.  If you intend to run as root, you can set user=root in "
        "the config file to avoid this message.",
        "INFO RPC interface 'supervisor' initialized",
        "CRIT Server 'unix_http_server' running without any HTTP authentication checking",
        "INFO supervisord started with pid N",
        "INFO spawned: 'longrun' with pid N",
        "INFO success: longrun entered RUNNING state, process has stayed up for > than 1 "
        "seconds (startsecs)",
        "INFO exited: goodexit (exit status 0; expected)",
        "WARN exited: badexit (exit status 3; not expected)",
        "WARN exited: sigkilled (terminated by SIGKILL; not expected)",
        "INFO gave up: fatal entered FATAL state, too many start retries too quickly",
        "INFO waiting for stopme to stop",
        "WARN stopped: stopme (terminated by SIGTERM)",
        "WARN exited: signalled (terminated by SIGTERM; not expected)",
        "INFO received SIGUSR2 indicating log reopen request",
        "INFO supervisord logreopen",
        "WARN received SIGTERM indicating exit request",
        "INFO waiting for longrun to die",
        "WARN stopped: longrun (terminated by SIGTERM)",
    ]:
        assert want in mine, want


def test_user_line_matches_supervisord(tmp_path):
    conf = "[program:longrun]\ncommand=sleep 1000\nstartsecs=0\n"

    def actions(d):
        d.wait_log(r"success: longrun entered RUNNING")
        wait_until(lambda: d.states().get("longrun") == "RUNNING", what="longrun RUNNING")
    logs = compare(tmp_path, conf, actions, args=("-u", "root"))
    assert "INFO Set uid to user 0 succeeded" in logs["pidvisor"]
    assert not any("running as root" in line for line in logs["pidvisor"])
