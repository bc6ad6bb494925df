"""Health checks against hostile conditions, with pidvisor as PID 1 (both builds): a resolver
that never answers (in a mount namespace whose /etc/resolv.conf names a silent loopback UDP
socket), a program removed while its check runs, a check command with 1 MB of output, and
hundreds of programs checked every 100 ms."""
import random
import signal
import socket
import subprocess
import threading
import time
import xmlrpc.client

import psutil
import pytest

from harness import free_port, unix_proxy, wait_until

MIB = 1024 * 1024


def rpc(d):
    return unix_proxy(d.sock)


def answers(build, d, name, timeout=30):
    """Waits until `pidvisor ctl status` lists program name; fails the test (the daemon is
    stuck) when that takes more than timeout seconds."""
    deadline = time.monotonic() + timeout

    def listed():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r = subprocess.run([str(build), "ctl", "-c", str(d.conf_path), "status"],
                           capture_output=True, text=True, timeout=left)
        return name in r.stdout
    try:
        wait_until(listed, timeout=timeout, interval=0.1, what=f"ctl status to list {name}")
    except subprocess.TimeoutExpired:
        raise AssertionError(f"ctl status got no answer within {timeout}s") from None


def program_log(tmp_path, name):
    return "".join(p.read_text(errors="replace") for p in tmp_path.glob(f"{name}-stdout*"))


def assert_no_sanitizer_report(d):
    err = d.stderr()
    assert "AddressSanitizer" not in err and "runtime error" not in err, err[-4000:]


@pytest.fixture
def silent_resolver(tmp_path):
    """A resolv.conf naming a UDP socket on 127.x.y.z:53 that reads queries and never answers,
    and the number of queries it got so far."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(20):
        addr = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
        try:
            sock.bind((addr, 53))
            break
        except OSError:
            continue
    else:
        pytest.fail("no free 127.x.y.z:53")
    queries = []
    sock.settimeout(0.2)
    done = threading.Event()

    def swallow():
        while not done.is_set():
            try:
                queries.append(sock.recvfrom(4096)[0])
            except OSError:
                pass
    t = threading.Thread(target=swallow, daemon=True)
    t.start()
    conf = tmp_path / "resolv.conf"
    # glibc's longest wait: 30 s a try, 5 tries
    conf.write_text(f"nameserver {addr}\noptions timeout:30 attempts:5\n")
    yield conf, queries
    done.set()
    t.join()
    sock.close()


def in_mount_ns_with(resolv):
    """A wrap for Daemon: runs pidvisor with resolv bind-mounted on /etc/resolv.conf, inside
    the private mount namespace the harness's unshare made."""
    return ["sh", "-c", f'mount --bind {resolv} /etc/resolv.conf && exec "$@"', "sh"]


NAME = "probe.pidvisor-test"  # not in /etc/hosts: only the silent resolver is asked


def test_silent_resolver_does_not_freeze_pid1(run, tmp_path, build, silent_resolver):
    resolv, queries = silent_resolver
    conf = ("[program:web]\ncommand=sleep 1000\nstartsecs=0\n"
            f"healthcheck=http://{NAME}:8080/health\nhealthcheck_interval=0.1s\n"
            "healthcheck_timeout=0.2s\nhealthcheck_retries=1\n\n"
            "[program:other]\ncommand=sleep 1000\nstartsecs=0\n\n")
    d = run("pidvisor", conf, binary=build, control=True, wrap=in_mount_ns_with(resolv))
    # the load did not wait for the name: the daemon answers while the lookups hang
    answers(build, d, "web")
    d.wait_log(r"web is unhealthy", timeout=30)
    wait_until(lambda: queries, timeout=30, what="a query at the silent resolver")
    wait_until(lambda: f"no address for {NAME} within 0.2s (name lookup)"
               in program_log(tmp_path, "web"), timeout=30, what="the timeout in web's log")
    # the lookups hang for minutes: new checks fail at the bound instead of piling up threads
    wait_until(lambda: "name lookups are running already" in program_log(tmp_path, "web"),
               timeout=60, what="the lookup bound in web's log")
    assert psutil.Process(d.pid).num_threads() <= 1 + 32
    answers(build, d, "other")
    # a reload does not look the name up either
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded configuration", timeout=30)
    answers(build, d, "web")
    assert_no_sanitizer_report(d)


def test_program_removed_while_its_check_runs(run, tmp_path, build):
    conf = ("[program:app]\ncommand=sleep 1000\nstartsecs=0\nstopwaitsecs=30\n"
            "healthcheck=cmd:sleep 300\nhealthcheck_interval=0.1s\nhealthcheck_timeout=600s\n\n"
            "[program:other]\ncommand=sleep 1000\nstartsecs=0\n\n")
    d = run("pidvisor", conf, binary=build, control=True)
    for _ in range(3):
        wait_until(lambda: any(p.cmdline() == ["sleep", "300"] for p in d.children()),
                   timeout=30, what="the check command")
        multi = xmlrpc.client.MultiCall(rpc(d))
        multi.supervisor.stopProcess("app")
        multi.supervisor.removeProcessGroup("app")
        res = multi().results
        assert res == [True, True], res  # supervisord answers bare values, as pidvisor
        # the check command is killed and reaped, the daemon lives on
        wait_until(lambda: not any(p.cmdline() == ["sleep", "300"] for p in d.children()),
                   timeout=30, what="the check command to go")
        assert rpc(d).supervisor.getState()["statename"] == "RUNNING"
        assert rpc(d).supervisor.addProcessGroup("app") is True
    wait_until(lambda: not d.zombies(), timeout=30, what="no zombies")
    assert d.proc.poll() is None
    assert_no_sanitizer_report(d)


def test_program_reloaded_away_while_its_check_runs(run, tmp_path, build):
    app = ("[program:app]\ncommand=sleep 1000\nstartsecs=0\n"
           "healthcheck=cmd:sleep 300\nhealthcheck_interval=0.1s\nhealthcheck_timeout=600s\n\n")
    other = "[program:other]\ncommand=sleep 1000\nstartsecs=0\n\n"
    d = run("pidvisor", app + other, binary=build, control=True)
    header = d.conf_path.read_text()[:-len(app + other)]
    for n in range(1, 4):
        wait_until(lambda: any(p.cmdline() == ["sleep", "300"] for p in d.children()),
                   timeout=30, what="the check command")
        d.conf_path.write_text(header + other)
        d.signal(signal.SIGHUP)
        d.wait_log(r"removed process group app", count=n, timeout=30)
        wait_until(lambda: not any(p.cmdline() == ["sleep", "300"] for p in d.children()),
                   timeout=30, what="the check command to go")
        d.conf_path.write_text(header + app + other)
        d.signal(signal.SIGHUP)
        d.wait_log(r"added process group app", count=n, timeout=30)
    assert rpc(d).supervisor.getState()["statename"] == "RUNNING"
    assert_no_sanitizer_report(d)


def test_big_check_output_does_not_fail_the_check(run, tmp_path, build):
    conf = ("[program:big]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:sh -c 'yes 0123456789abcdef | head -c 1048576'\n"
            "healthcheck_interval=0.5s\nhealthcheck_timeout=30s\nhealthcheck_retries=1\n\n")
    d = run("pidvisor", conf, binary=build)
    d.wait_log(r"big is healthy", timeout=30)
    time.sleep(2)  # a few more checks, each with its megabyte
    assert "big is unhealthy" not in d.log()
    assert "healthcheck:" not in program_log(tmp_path, "big")
    assert_no_sanitizer_report(d)


def rss(pid):
    return psutil.Process(pid).memory_info().rss


def test_hundreds_of_checks_every_100ms(run, tmp_path, build, monkeypatch):
    # ASan keeps freed memory aside (256 MB by default): keep little, so RSS shows growth
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:quarantine_size_mb=4:"
                       "thread_local_quarantine_size_kb=64")
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                listener.accept()[0].close()
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    programs = []
    for i in range(300):
        check = ("cmd:true" if i % 3 == 0 else f"tcp:127.0.0.1:{port}" if i % 3 == 1
                 else f"tcp:127.0.0.1:{free_port()}")  # refused: a failure each time
        programs.append(f"[program:p{i}]\ncommand=sleep 1000\nstartsecs=0\n"
                        f"healthcheck={check}\nhealthcheck_interval=0.1s\n"
                        "stdout_logfile=/dev/null\nstdout_logfile_maxbytes=0\n"
                        "stderr_logfile=/dev/null\nstderr_logfile_maxbytes=0\n\n")
    try:
        d = run("pidvisor", "".join(programs), binary=build, control=True)
        d.wait_log(r"p299 is (un)?healthy", timeout=120)
        fds, sizes = [], []
        for _ in range(6):
            answers(build, d, "p299", timeout=60)
            fds.append(psutil.Process(d.pid).num_fds())
            sizes.append(rss(d.pid))
            time.sleep(2)
        # each program holds 5 (3 pipes, 2 log files), each check in flight 1 more
        assert max(fds) < 300 * 5 + 300 + 64, fds
        # the first rounds allocate what the checks need; later ones nothing more
        assert sizes[-1] - sizes[2] < 8 * MIB, sizes
        assert d.proc.poll() is None
        assert_no_sanitizer_report(d)
    finally:
        stop.set()
        t.join()
        listener.close()
