"""pidvisor's own log: to syslog ([supervisord] logfile=syslog, as supervisord), and rotated by
the same log-file module as the programs' logs."""
import re
import signal
import socket
import subprocess

import psutil

from harness import PIDVISOR, wait_until


def stop(p):
    """SIGTERM to pidvisor (unshare does not pass it on); its exit status. A pidvisor that does
    not stop is killed, so that no test leaves one behind."""
    kids = psutil.Process(p.pid).children()
    if kids:
        kids[0].send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for k in kids:
            k.kill()
        p.kill()
        p.wait()
        raise


def run_with_dev_log(tmp, conf):
    """pidvisor as PID 1 in its own mount namespace, whose /dev/log is a datagram socket
    of ours."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp / "devlog"))
    sock.settimeout(10)
    (tmp / "c.conf").write_text(conf)
    script = (f"mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && "
              f"ln -s {tmp}/devlog /dev/log && exec {PIDVISOR} -n -c {tmp}/c.conf")
    p = subprocess.Popen(["unshare", "--mount", "--pid", "--fork", "--mount-proc",
                          "--kill-child", "sh", "-c", script],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p, sock


def test_main_log_goes_to_syslog(tmp_path):
    conf = (f"[supervisord]\nlogfile=syslog\npidfile={tmp_path}/p\nsilent=true\n"
            "[program:hello]\ncommand=sh -c 'echo hi'\nstartsecs=0\nautorestart=false\n"
            "stdout_logfile=NONE\nstdout_syslog=true\n")
    p, sock = run_with_dev_log(tmp_path, conf)
    try:
        got = []
        while not any(b"exited: hello" in m for m in got):
            got.append(sock.recv(4096))
        main = [m for m in got if re.match(rb"<14>pidvisor: \d{4}-\d\d-\d\d ", m)]
        assert any(b" INFO supervisord started with pid 1" in m for m in main), got
        assert any(b"INFO spawned: 'hello'" in m for m in main), got
        assert b"<14>hello: hi" in got  # the program's own syslog line, as before
        assert all(not m.endswith(b"\n") for m in main)
    finally:
        assert stop(p) == 0
        sock.close()
    assert b"ERROR" not in p.stderr.read()


def test_main_log_rotates_at_maxbytes_keeping_backups(tmp_path):
    log = tmp_path / "main.log"
    conf = (f"[supervisord]\nlogfile={log}\nlogfile_maxbytes=2KB\nlogfile_backups=2\n"
            f"pidfile={tmp_path}/p\nsilent=true\nloglevel=info\n"
            "[program:flap]\ncommand=true\nstartsecs=0\nautorestart=true\n"
            "stdout_logfile=NONE\n")
    (tmp_path / "c.conf").write_text(conf)
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                          PIDVISOR, "-n", "-c", str(tmp_path / "c.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: (tmp_path / "main.log.2").exists(), timeout=30, interval=0.1,
                   what="two rotations")
    finally:
        assert stop(p) == 0
    assert not (tmp_path / "main.log.3").exists()
    for f in (log, tmp_path / "main.log.1", tmp_path / "main.log.2"):
        data = f.read_bytes()
        assert len(data) <= 2048, (f, len(data))
        assert data.endswith(b"\n") and all(
            re.match(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} ", line)
            for line in data.splitlines()), f
