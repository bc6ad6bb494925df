"""ready= as PID 1 of a PID namespace: a program that announces its readiness itself (sd_notify
on NOTIFY_SOCKET, s6's notification-fd, a line of its output) stays STARTING until it does;
ready_timeout and EXTEND_TIMEOUT_USEC; the watchdog (WATCHDOG=1, watchdog_sec); STATUS= where
people look; depends_on=x:ready; and real php-fpm and postgres with no wrapper."""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import PIDVISOR, Daemon, UnixConnection, wait_until

# Prints a line, then waits for ./go and says READY=1 (with a STATUS=) on $NOTIFY_SOCKET.
NOTIFY = """
import os, socket, sys, time
print("booting", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=serving 3 clients\\nREADY=1", os.environ["NOTIFY_SOCKET"])
while True:
    time.sleep(1)
"""


def ctl_status(d):
    return subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "status"],
                          capture_output=True, text=True).stdout


def write(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def check_config(tmp_path, text):
    """pidvisor --check-config on text: (exit status, what it said)."""
    conf = write(tmp_path, "p.conf", text)
    r = subprocess.run([PIDVISOR, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True)
    return r.returncode, r.stdout + r.stderr


def test_notify_ready_after_the_program_says_so(run, tmp_path):
    write(tmp_path, "notify.py", NOTIFY)
    conf = (f"[program:web]\ncommand=python3 -u {tmp_path}/notify.py {tmp_path}/go\n"
            "startsecs=0\nready=notify\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"web": "STARTING"})
    wait_until(lambda: "booting" in (tmp_path / "stdout.txt").read_text() or
               glob.glob(f"{tmp_path}/web-stdout*"), what="the program's first line")
    # a sender that is not the program (here: outside its namespace) is not heard
    path = glob.glob(f"{tmp_path}/pidvisor-notify.*/web.sock")
    assert len(path) == 1, path
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1", path[0])
    d.wait_log(r"web: ignored a notify message from pid \d+, not the program's")
    assert d.states()["web"] == "STARTING"
    assert re.search(r"web\s+STARTING\s+not ready yet \(ready=notify\)", ctl_status(d))
    check = [PIDVISOR, "check", "--ready", "-c", str(d.conf_path)]
    assert subprocess.run(check, capture_output=True).returncode != 0
    (tmp_path / "go").touch()
    d.wait_log(r"success: web entered RUNNING state, process is ready \(ready=notify\)")
    d.wait_settled({"web": "RUNNING"})
    assert re.search(r"web\s+RUNNING\s+pid \d+, uptime \S+, serving 3 clients", ctl_status(d))
    assert subprocess.run(check, capture_output=True).returncode == 0
    log = d.log()
    assert log.index("ready: web says it is ready") < log.index("success: web entered RUNNING")


@pytest.mark.parametrize("ready, says, how", [
    # a line of its output (stderr here), matched by a POSIX extended regex
    ("log:ready to accept (connections|queries)$",
     "echo database system is ready to accept connections >&2", "log"),
    # s6's notification-fd: a newline on fd 5
    ("fd:5", "echo >&5", "fd"),
])
def test_log_and_fd_ready(run, tmp_path, ready, says, how):
    conf = ("[program:db]\ncommand=sh -c 'echo starting; until [ -e %(here)s/go ]; do sleep 0.02;"
            f" done; {says}; exec sleep 1000'\nstartsecs=0\nready={ready}\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"db": "STARTING"})
    (tmp_path / "go").touch()
    d.wait_log(rf"ready: db says it is ready \(ready={how}\)")
    d.wait_settled({"db": "RUNNING"})


def test_ready_timeout_is_a_failed_start(run, tmp_path):
    conf = ("[program:mute]\ncommand=sleep 1000\nstartsecs=0\nready=notify\n"
            "ready_timeout=300ms\nstartretries=1\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"not ready: mute did not say it is ready within 0.3 seconds \(ready_timeout\)")
    d.wait_log(r"gave up: mute entered FATAL state", timeout=30)
    assert "success: mute" not in d.log()
    assert re.search(r"mute\s+FATAL\s+not ready within 0.3 seconds", ctl_status(d))


def test_dependent_waits_for_ready(run, tmp_path):
    write(tmp_path, "notify.py", NOTIFY)
    conf = (f"[program:db]\ncommand=python3 -u {tmp_path}/notify.py {tmp_path}/go\n"
            "startsecs=0\nready=notify\n\n"
            "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:ready\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"db": "STARTING"})
    wait_until(lambda: "waiting for db (ready)" in ctl_status(d), what="app waiting")
    assert "spawned: 'app'" not in d.log()
    (tmp_path / "go").touch()
    d.wait_log(r"spawned: 'app'")
    log = d.log()
    assert log.index("success: db entered RUNNING") < log.index("spawned: 'app'")


@pytest.mark.parametrize("value, why", [
    ("log:(", r"ready: 'log:\(' is not a valid POSIX extended regex"),
    ("fd:2", r"ready: 'fd:2' does not name a descriptor from 3 to 1023"),
    ("sd", r"ready: 'sd' is not one of notify, fd:N, log:REGEX"),
])
def test_check_config_refuses_a_bad_ready(tmp_path, value, why):
    rc, said = check_config(tmp_path,
                            f"[supervisord]\n[program:x]\ncommand=sleep 1\nready={value}\n")
    assert rc == 2, said
    assert re.search(rf"p.conf:4: \[program:x\] {why}", said), said


def test_ready_condition_needs_a_ready_key(tmp_path):
    rc, said = check_config(tmp_path, "[supervisord]\n[program:db]\ncommand=sleep 1\n\n"
                            "[program:app]\ncommand=sleep 1\ndepends_on=db:ready\n")
    assert rc == 2, said
    assert "'db:ready' needs a ready= key in [program:db]" in said


def php_fpm():
    found = shutil.which("php-fpm") or sorted(glob.glob("/usr/sbin/php-fpm*"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def test_a_user_that_cannot_reach_its_notify_socket_is_told(run, tmp_path):
    """A user= program whose notify socket sits below a directory its user cannot pass (here
    pytest's tmp_path, root's alone, where the control socket is) could never say READY=1:
    the log says which directory stops it, instead of a silent ready_timeout."""
    if os.geteuid():
        pytest.skip("needs root: the program runs as another user")
    os.chmod(tmp_path, 0o700)
    d = run("pidvisor", "[program:web]\ncommand=sleep 1000\nuser=nobody\nstartsecs=0\n"
            "ready=notify\n\n", control=True)
    d.wait_log(r"WARN web: user nobody cannot reach its notify socket \S+/web\.sock: it cannot "
               rf"pass the directory {re.escape(str(tmp_path))} \(give it o\+x")


def test_real_php_fpm_becomes_ready_through_notify_socket(run, tmp_path):
    fpm = php_fpm()
    if not fpm:
        pytest.skip("php-fpm is not installed (apt-get install php-fpm)")
    write(tmp_path, "fpm.conf", f"""[global]
error_log = /proc/self/fd/2
pid = {tmp_path}/fpm.pid
[www]
listen = {tmp_path}/fpm.sock
pm = static
pm.max_children = 1
""")
    user = "" if os.geteuid() else "user=root\n"
    conf = (f"[program:fpm]\ncommand={fpm} -F -R -y {tmp_path}/fpm.conf\nstartsecs=0\n"
            f"ready=notify\nready_timeout=30\n{user}\n"
            "[program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=fpm:ready\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"ready: fpm says it is ready \(ready=notify\)")
    d.wait_settled({"fpm": "RUNNING", "app": "RUNNING"})
    log = d.log()
    assert log.index("success: fpm entered RUNNING") < log.index("spawned: 'app'")
    assert re.search(r"fpm\s+RUNNING\s+pid \d+, uptime \S+, \S", ctl_status(d))


def postgres():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return found[-1] if found else None


def test_real_postgres_becomes_ready_through_notify_socket(tmp_path):
    pg = postgres()
    if not pg:
        pytest.skip("postgres is not installed (apt-get install postgresql)")
    if os.geteuid() or subprocess.run(["id", "postgres"], capture_output=True).returncode:
        pytest.skip("postgres refuses root: needs root to run it as the postgres user")
    bindir = os.path.dirname(pg)
    # postgres runs as its own user, so the notify socket's directory (beside the control
    # socket) and the data must be reachable by it: pytest's own tmp_path is root's alone
    top = tempfile.mkdtemp(prefix="pidvisor-pg-")
    try:
        os.chmod(top, 0o711)
        data, sockdir = os.path.join(top, "data"), os.path.join(top, "run")
        for path in (data, sockdir):
            os.mkdir(path, 0o700)
            shutil.chown(path, "postgres", "postgres")
        init = subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/initdb", "-D", data,
                        "-A", "trust", "--no-sync"], cwd="/", capture_output=True, text=True,
                              timeout=120)
        assert init.returncode == 0, init.stdout + init.stderr
        # pg_isready succeeds only once postgres accepts connections: run the first time, it
        # shows the dependent started after postgres was ready, not merely spawned
        conf = (f"[program:pg]\ncommand={pg} -D {data} -k {sockdir} -c listen_addresses='' "
                "-c dynamic_shared_memory_type=mmap\n"
                "user=postgres\nstartsecs=0\nready=notify\nready_timeout=60\n"
                "stopsignal=INT\n\n"
                f"[program:probe]\ncommand=sh -c '{bindir}/pg_isready -h {sockdir} && "
                "echo probe: accepting'\nuser=postgres\nstartsecs=0\nautorestart=false\n"
                "startretries=0\ndepends_on=pg:ready\n\n")
        d = Daemon("pidvisor", Path(top), conf, control=True)
        try:
            d.wait_log(r"ready: pg says it is ready \(ready=notify\)", timeout=60)
            d.wait_log(r"exited: probe \(exit status 0; expected\)", timeout=60)
            d.wait_settled({"pg": "RUNNING", "probe": "EXITED"})
            log = d.log()
            assert (log.index("ready: pg says it is ready")
                    < log.index("success: pg entered RUNNING") < log.index("spawned: 'probe'"))
            assert log.count("spawned: 'probe'") == 1
            # a clean stop (SIGINT, postgres's fast shutdown) frees its shared memory; a kill
            # would leave it on the machine
            assert d.stop(timeout=60) == 0
            d.wait_log(r"stopped: pg \(exit status 0\)")
        finally:
            d.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


# Says READY=1 with a STATUS=, then what argv[1] asks: "keep" sends WATCHDOG=1 every 0.1 s and
# prints "kept" after 40 of them; "lapse" sends three, then none until ./go exists; "trigger"
# sends WATCHDOG=trigger once ./go exists (and removes it). argv[2]: a file for its environment.
WATCHDOG = """
import json, os, socket, sys, time
mode, envfile = sys.argv[1], sys.argv[2]
with open(envfile + ".new", "w") as f:
    json.dump({"pid": os.getpid(), "usec": os.environ.get("WATCHDOG_USEC"),
               "wpid": os.environ.get("WATCHDOG_PID")}, f)
os.replace(envfile + ".new", envfile)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
s.sendto(b"STATUS=watching\\nREADY=1", addr)
go = os.path.join(os.path.dirname(envfile), "go")
for n in range(10 ** 9):
    if mode == "keep" or (mode == "lapse" and (n < 3 or os.path.exists(go))):
        s.sendto(b"WATCHDOG=1", addr)
    if mode == "keep" and n == 40:
        print("kept", flush=True)
    if mode == "trigger" and os.path.exists(go):
        os.unlink(go)
        s.sendto(b"WATCHDOG=trigger", addr)
    time.sleep(0.1)
"""


def watchdog_program(tmp_path, name, mode, extra=""):
    write(tmp_path, "watchdog.py", WATCHDOG)
    return (f"[program:{name}]\ncommand=python3 -u {tmp_path}/watchdog.py {mode} "
            f"{tmp_path}/{name}.env\nstartsecs=0\nready=notify\n{extra}\n")


def test_watchdog_kept_in_time_stays_running(run, tmp_path):
    conf = watchdog_program(tmp_path, "web", "keep",
                            "watchdog_sec=2\non_unhealthy=restart\n"
                            f"stdout_logfile={tmp_path}/web.out\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"web": "RUNNING"})
    # 40 WATCHDOG=1 a tenth of a second apart: two deadlines of 2 s have come and gone
    wait_until(lambda: "kept" in (tmp_path / "web.out").read_text(), what="40 WATCHDOG=1")
    assert d.states()["web"] == "RUNNING"
    log = d.log()
    assert "watchdog:" not in log and len(re.findall(r"spawned: 'web'", log)) == 1, log


def test_watchdog_missed_restarts_the_program(run, tmp_path):
    conf = watchdog_program(tmp_path, "web", "lapse", "watchdog_sec=0.5\non_unhealthy=restart\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"success: web entered RUNNING state")
    d.wait_log(r"watchdog: web sent no WATCHDOG=1 within 0.5 seconds \(watchdog_sec\)")
    d.wait_log(r"restarting web: it missed its watchdog \(watchdog_sec\) \(on_unhealthy=restart\)")
    d.wait_log(r"spawned: 'web'", count=2)
    log = d.log()
    assert log.index("watchdog: web sent no") < log.index("restarting web")


def test_watchdog_missed_with_on_unhealthy_none_is_only_said(run, tmp_path):
    conf = watchdog_program(tmp_path, "web", "lapse", "watchdog_sec=0.5\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"watchdog: web sent no WATCHDOG=1 within 0.5 seconds")
    wait_until(lambda: "watchdog missed (watchdog_sec)" in ctl_status(d), what="ctl status")
    assert d.states()["web"] == "RUNNING"
    # the Docker HEALTHCHECK probe sees it, until the program sends WATCHDOG=1 again
    check = [PIDVISOR, "check", "-c", str(d.conf_path)]
    r = subprocess.run(check, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "web" in r.stdout, r
    (tmp_path / "go").touch()
    d.wait_log(r"watchdog: web sends WATCHDOG=1 again")
    wait_until(lambda: subprocess.run(check, capture_output=True).returncode == 0,
               what="pidvisor check passes")
    assert "restarting web" not in d.log()


def triggered(run, tmp_path, on_unhealthy):
    """A RUNNING program with a 600 s watchdog that sends WATCHDOG=trigger."""
    conf = watchdog_program(tmp_path, "web", "trigger",
                            f"watchdog_sec=600\non_unhealthy={on_unhealthy}\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"web": "RUNNING"})
    (tmp_path / "go").touch()
    d.wait_log(r"watchdog: web asks for its watchdog to fire \(WATCHDOG=trigger\)")
    return d


def test_watchdog_trigger_counts_as_missed(run, tmp_path):
    d = triggered(run, tmp_path, "restart")
    d.wait_log(r"restarting web: it missed its watchdog")
    d.wait_log(r"spawned: 'web'", count=2)
    d.wait_settled({"web": "RUNNING"})


def test_watchdog_shutdown(run, tmp_path):
    d = triggered(run, tmp_path, "shutdown")
    assert d.proc.wait(timeout=60) == 1
    assert re.search(r"web missed its watchdog \(watchdog_sec\) and has on_unhealthy=shutdown: "
                     r"stopping everything; pidvisor will exit 1", d.log()), d.log()


def test_watchdog_environment(run, tmp_path):
    # rounded to the microsecond: 2.01 * 1e6 is 2009999.99... in a double
    conf = (watchdog_program(tmp_path, "web", "keep", "watchdog_sec=2.01\n") +
            watchdog_program(tmp_path, "plain", "keep"))
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"web": "RUNNING", "plain": "RUNNING"})
    web = json.loads((tmp_path / "web.env").read_text())
    ns_pid = int(re.findall(r"spawned: 'web' with pid (\d+)", d.log())[-1])
    assert web == {"pid": ns_pid, "usec": "2010000", "wpid": str(ns_pid)}
    plain = json.loads((tmp_path / "plain.env").read_text())
    assert plain["usec"] is None and plain["wpid"] is None


def test_reload_removes_a_program_with_an_armed_watchdog(run, tmp_path):
    conf = watchdog_program(tmp_path, "wd", "keep", "watchdog_sec=1\non_unhealthy=restart\n")
    keep = "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n\n"
    d = run("pidvisor", keep + conf, control=True)
    d.wait_settled({"wd": "RUNNING", "plain": "RUNNING"})
    d.rewrite(keep)
    update = [PIDVISOR, "ctl", "-c", str(d.conf_path), "update"]
    subprocess.run(update, timeout=30, check=True, capture_output=True)
    wait_until(lambda: "wd" not in ctl_status(d), what="wd removed")
    # a program that takes 2 s to be RUNNING: the removed watchdog's 1 s has passed
    d.rewrite(keep + "[program:after]\ncommand=sleep 1000\nstartsecs=2\n\n")
    subprocess.run(update, timeout=30, check=True, capture_output=True)
    d.wait_settled({"after": "RUNNING", "plain": "RUNNING"})
    assert d.proc.poll() is None, d.stderr()
    assert "AddressSanitizer" not in d.stderr()
    assert "watchdog: wd" not in d.log() and "restarting wd" not in d.log()


def test_status_text_on_the_page_and_in_json(run, tmp_path):
    write(tmp_path, "notify.py", NOTIFY)
    (tmp_path / "go").touch()
    conf = (f"[program:web]\ncommand=python3 -u {tmp_path}/notify.py {tmp_path}/go\n"
            "startsecs=0\nready=notify\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_settled({"web": "RUNNING"})
    r = subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "status", "--json"],
                       capture_output=True, text=True, timeout=30)
    assert json.loads(r.stdout)[0]["status_text"] == "serving 3 clients", r.stdout
    c = UnixConnection(str(d.sock))
    c.request("GET", "/")
    page = c.getresponse().read().decode()
    c.close()
    assert re.search(r'<tr class="\w+" data-name="web">.*<td class="desc">pid \d+, uptime \S+, '
                     r"serving 3 clients</td>", page), page


# Says EXTEND_TIMEOUT_USEC=30 s at once, READY=1 once ./go exists; before that MAINPID=, after
# a SIGTERM STOPPING=1.
EXTEND = """
import os, signal, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
def stopping(sig, frame):
    s.sendto(b"STOPPING=1", addr)
    sys.exit(0)
signal.signal(signal.SIGTERM, stopping)
s.sendto(b"EXTEND_TIMEOUT_USEC=30000000", addr)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
s.sendto(("MAINPID=%d\\nREADY=1" % os.getpid()).encode(), addr)
while True:
    time.sleep(1)
"""


def test_extend_timeout_mainpid_and_stopping(run, tmp_path):
    write(tmp_path, "extend.py", EXTEND)
    # mute starts after web with the same ready_timeout: its timeout says web's has passed
    conf = (f"[program:web]\ncommand=python3 -u {tmp_path}/extend.py {tmp_path}/go\n"
            "startsecs=0\nready=notify\nready_timeout=3\npriority=1\n\n"
            "[program:mute]\ncommand=sleep 1000\nstartsecs=0\nready=notify\nready_timeout=3\n"
            "startretries=0\npriority=2\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"web asks for 30 more seconds to get ready \(EXTEND_TIMEOUT_USEC\)")
    d.wait_log(r"not ready: mute did not say it is ready within 3 seconds")
    assert d.states()["web"] == "STARTING"
    (tmp_path / "go").touch()
    d.wait_settled({"web": "RUNNING"})
    d.wait_log(r"web says its main pid is \d+ \(MAINPID=\)")
    log = d.log()
    assert "not ready: web" not in log and len(re.findall(r"spawned: 'web'", log)) == 1
    subprocess.run([PIDVISOR, "ctl", "-c", str(d.conf_path), "stop", "web"], timeout=30,
                   capture_output=True)
    d.wait_log(r"web says it is stopping \(STOPPING=1\)")
    d.wait_log(r"stopped: web \(exit status 0\)")


@pytest.mark.parametrize("keys, key, why", [
    ("watchdog_sec=5\n", "watchdog_sec", r"needs ready=notify in the same section"),
    ("ready=log:x\nwatchdog_sec=5\n", "watchdog_sec", r"needs ready=notify in the same section"),
    ("ready=notify\nwatchdog_sec=ten\n", "watchdog_sec", r"'ten'"),
    ("on_unhealthy=restart\n", "on_unhealthy", r"needs a healthcheck or watchdog_sec"),
])
def test_check_config_refuses_a_bad_watchdog(tmp_path, keys, key, why):
    rc, said = check_config(tmp_path, f"[supervisord]\n[program:x]\ncommand=sleep 1\n{keys}")
    assert rc == 2, said
    line = 3 + keys.count("\n")
    assert re.search(rf"p.conf:{line}: \[program:x\] {key}: .*{why}", said), said


def test_check_config_takes_a_watchdog(tmp_path):
    rc, said = check_config(tmp_path, "[supervisord]\n[program:x]\ncommand=sleep 1\n"
                            "ready=notify\nwatchdog_sec=2.5\non_unhealthy=restart\n")
    assert rc == 0, said
