"""Health checks as PID 1 of a PID namespace: HTTP, TCP and command checks against real
loopback servers, on_unhealthy=restart and =shutdown, failures in the program's own log,
check commands reaped."""
import time

import psutil

from harness import free_port, wait_until


# A loopback HTTP server that answers 200 while <dir>/healthy exists, else 503.
SERVER_PY = """import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(s):
        s.send_response(200 if os.path.exists(sys.argv[2] + '/healthy') else 503)
        s.end_headers()
    def log_message(s, *a):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"""


def server(tmp_path, port):
    (tmp_path / "server.py").write_text(SERVER_PY)
    return f"command=python3 {tmp_path}/server.py {port} {tmp_path}\n"


def test_http_check_restarts_an_unhealthy_program(run, tmp_path):
    port = free_port()
    (tmp_path / "healthy").write_text("yes")
    conf = (f"[program:web]\n{server(tmp_path, port)}startsecs=0\n"
            f"healthcheck=http://127.0.0.1:{port}/health\nhealthcheck_interval=0.3s\n"
            "healthcheck_retries=2\non_unhealthy=restart\n\n")
    d = run("pidvisor", conf)
    d.wait_log(r"web is healthy", timeout=15)
    (tmp_path / "healthy").unlink()
    d.wait_log(r"web is unhealthy", timeout=10)
    d.wait_log(r"restarting web: it is unhealthy", timeout=5)
    d.wait_log(r"spawned: 'web'", count=2, timeout=10)
    # the failures went to the program's own log, with the prefix
    out = "".join(p.read_text() for p in tmp_path.glob("web-stdout*"))
    assert "healthcheck: HTTP status 503" in out, out
    (tmp_path / "healthy").write_text("yes")
    d.wait_log(r"web is healthy", count=2, timeout=15)


def test_tcp_and_command_checks(run, tmp_path):
    port = free_port()
    conf = (f"[program:db]\n{server(tmp_path, port)}startsecs=0\n"
            f"healthcheck=tcp:127.0.0.1:{port}\nhealthcheck_interval=0.2s\n\n"
            "[program:job]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:sh -c 'echo probing; test -e %(here)s/ready'\n"
            "healthcheck_interval=0.2s\nhealthcheck_retries=1\n\n")
    d = run("pidvisor", conf)
    d.wait_log(r"db is healthy", timeout=15)
    d.wait_log(r"job is unhealthy", timeout=10)
    (tmp_path / "ready").write_text("")
    d.wait_log(r"job is healthy", timeout=10)
    out = "".join(p.read_text() for p in tmp_path.glob("job-stdout*"))
    assert "healthcheck: exit status 1: probing" in out, out
    time.sleep(1)  # several more checks pass; none leaves a zombie
    zombies = [p for p in psutil.Process(d.pid).children(recursive=True)
               if p.status() == psutil.STATUS_ZOMBIE]
    assert not zombies


def test_start_period_failures_do_not_count(run, tmp_path):
    conf = ("[program:slow]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:test -e %(here)s/up\nhealthcheck_interval=0.2s\n"
            "healthcheck_retries=1\nhealthcheck_start_period=3s\n\n")
    d = run("pidvisor", conf)
    time.sleep(1.5)
    assert "slow is unhealthy" not in d.log()
    (tmp_path / "up").write_text("")
    d.wait_log(r"slow is healthy", timeout=10)


def test_on_unhealthy_shutdown_ends_pidvisor(run, tmp_path):
    conf = ("[program:other]\ncommand=sleep 1000\nstartsecs=0\n\n"
            "[program:api]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:false\nhealthcheck_interval=0.2s\nhealthcheck_retries=2\n"
            "on_unhealthy=shutdown\nshutdown_exitcode=9\n\n")
    d = run("pidvisor", conf)
    assert d.proc.wait(timeout=15) == 9
    assert "api is unhealthy and has on_unhealthy=shutdown" in d.log()


def test_a_check_command_that_cannot_start_is_named(run, tmp_path):
    conf = ("[program:job]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:/no/such/probe --x\nhealthcheck_interval=0.2s\n"
            "healthcheck_retries=1\n\n")
    d = run("pidvisor", conf)
    d.wait_log(r"job is unhealthy", timeout=15)

    def logged():
        out = "".join(p.read_text() for p in tmp_path.glob("job-stdout*"))
        return "healthcheck: cannot start the check: '/no/such/probe': No such file" in out
    wait_until(logged, timeout=15, what="the failed check in job's log")
