"""Health checks as PID 1 of a PID namespace: HTTP, TCP and command checks against real
loopback servers, on_unhealthy=restart and =shutdown, failures in the program's own log,
check commands reaped."""
import http.server
import threading
import time

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


class Switchable(http.server.BaseHTTPRequestHandler):
    """200 while the server's healthy flag is set, else 503."""

    def do_GET(self):
        self.send_response(200 if self.server.healthy.is_set() else 503)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_http_check_restarts_an_unhealthy_program(run, tmp_path):
    # The server is the test's, listening before pidvisor starts: a program that had to start
    # one first could fail its first checks on a loaded machine and be restarted before ever
    # being healthy.
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Switchable)
    srv.healthy = threading.Event()
    srv.healthy.set()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        conf = ("[program:web]\ncommand=sleep 1000\nstartsecs=0\n"
                f"healthcheck=http://127.0.0.1:{srv.server_port}/health\n"
                "healthcheck_interval=0.3s\nhealthcheck_retries=2\non_unhealthy=restart\n\n")
        d = run("pidvisor", conf)
        d.wait_log(r"web is healthy", timeout=30)
        srv.healthy.clear()
        d.wait_log(r"web is unhealthy", timeout=30)
        d.wait_log(r"restarting web: it is unhealthy", timeout=30)
        d.wait_log(r"spawned: 'web'", count=2, timeout=30)
        # the failures went to the program's own log, with the prefix
        wait_until(lambda: "healthcheck: HTTP status 503" in "".join(
            p.read_text() for p in tmp_path.glob("web-stdout*")), timeout=30,
            what="the failures in web's log")
        srv.healthy.set()
        d.wait_log(r"web is healthy", count=2, timeout=30)
    finally:
        srv.shutdown()
        srv.server_close()


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
    # a check that has just exited is a zombie until pidvisor reaps it: one left is one that
    # stays, as in test_pid1
    wait_until(lambda: not d.zombies(), timeout=10, what="no zombies",
               detail=lambda: f"zombies {d.zombies()}")


def test_start_period_failures_do_not_count(run, tmp_path):
    conf = ("[program:slow]\ncommand=sleep 1000\nstartsecs=0\n"
            "healthcheck=cmd:test -e %(here)s/up\nhealthcheck_interval=0.2s\n"
            "healthcheck_retries=1\nhealthcheck_start_period=3s\n\n")
    d = run("pidvisor", conf)
    # failed checks, said in slow's log, that did not make it unhealthy
    wait_until(lambda: "".join(p.read_text() for p in tmp_path.glob("slow-stdout*")).count(
        "(within healthcheck_start_period: not counted)") >= 2, timeout=30,
        what="two failed checks within the start period")
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
