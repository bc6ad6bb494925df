"""`pidvisor check` against the real supervisord, and authentication and the
config fallback for both clients."""

from ctlcompare import mask, our_ctl, real_ctl, supervisord
from ctlcompare import daemon  # noqa: F401 (fixture)
from harness import PIDVISOR, run_client, wait_until


def check(*args):
    return run_client([str(PIDVISOR), "check", *args])


def test_default_set_is_autostart_programs(daemon):
    rc, out, err = check("-c", str(daemon.conf_path))
    # failer is FATAL; manual (autostart=false) is not looked at
    assert (rc, err) == (1, "")
    assert out == "unhealthy: failer is FATAL\n"


def test_named_programs(daemon):
    url = daemon.url
    assert check("-s", url, "runner", "multi:*") == (0, "healthy: 3 processes\n", "")
    assert check("-s", url, "-q", "runner") == (0, "", "")
    # a finished one-shot with an expected exit code is healthy
    assert check("-s", url, "once") == (0, "healthy: 1 process\n", "")
    # named but never started
    assert check("-s", url, "multi:multi_01", "manual") == (
        1, "unhealthy: manual is STOPPED\n", "")
    assert check("-s", url, "runner", "nosuch", "nogroup:*") == (
        1, "unhealthy: nosuch: no such process, nogroup:*: no such process\n", "")


def test_no_answer_and_usage(daemon, tmp_path):
    rc, out, _ = check("-s", f"unix://{tmp_path}/nothing.sock")
    assert rc == 3 and out.startswith(f"no answer: unix://{tmp_path}/nothing.sock: ")
    rc, out, _ = check("-s", "http://127.0.0.1:1")
    assert rc == 3 and "refused" in out
    assert check("--bogus")[0] == 2
    assert check("-t", "zero")[0] == 2
    rc, out, _ = check("--help")
    assert rc == 0 and "Exit status: 0 healthy, 1 unhealthy" in out


SETTLING = """
[program:runner]
command=/bin/sleep 1000
startsecs=0

[program:slow]
command=/bin/sleep 1000
startsecs=60

[program:bad]
command=/bin/sh -c "sleep 0.3; exit 3"
startsecs=0
autorestart=false

[program:good]
command=/bin/sh -c "sleep 0.3; exit 3"
startsecs=0
autorestart=false
exitcodes=0,3

[program:manual]
command=/bin/sleep 1000
autostart=false
"""


def test_states(tmp_path):
    d = supervisord(tmp_path, SETTLING)
    try:
        d.wait_settled({"runner": "RUNNING", "slow": "STARTING", "bad": "EXITED",
                        "good": "EXITED"})
        assert check("-s", d.url, "runner", "good") == (0, "healthy: 2 processes\n", "")
        # STARTING is not ready yet; an unexpected exit code is not ready either
        assert check("-s", d.url, "--ready") == (
            1, "unhealthy: bad is EXITED (exit status 3), slow is STARTING\n", "")
        # for HEALTHCHECK, STARTING is no failure, nor an exit autorestart may still undo
        wait_until(lambda: check("-s", d.url)[0] == 1, timeout=30, what="bad to count")
        assert check("-s", d.url) == (1, "unhealthy: bad is EXITED (exit status 3)\n", "")
    finally:
        d.stop()


def test_authentication(tmp_path):
    d = supervisord(tmp_path, SETTLING.split("[program:slow]")[0],
               auth="username=user\npassword=s3cret")
    try:
        d.wait_settled({"runner": "RUNNING"})
        rc, out, _ = check("-s", d.url)
        assert rc == 3 and "HTTP 401" in out
        assert check("-s", d.url, "-u", "user", "-p", "s3cret")[0] == 0
        conf = str(d.conf_path)
        for creds in ([], ["-u", "user", "-p", "wrong"], ["-u", "user", "-p", "s3cret"],
                      ["-u", "user"]):
            for action in (["status"], ["avail"], ["restart", "runner"], ["tail", "runner"],
                           ["stop"]):
                real = run_client(real_ctl("-c", conf, *creds, *action))
                ours = run_client(our_ctl("-c", conf, *creds, *action))
                assert (ours[0], mask(ours[1]), ours[2]) == (real[0], mask(real[1]), real[2])
    finally:
        d.stop()


def test_unix_http_server_fallback(tmp_path):
    """A config without [supervisorctl] names its own socket (extension)."""
    d = supervisord(tmp_path, SETTLING.split("[program:slow]")[0], ctl_section=False)
    try:
        d.wait_settled({"runner": "RUNNING"})
        real = run_client(real_ctl("-c", str(d.conf_path), "status"))
        assert real[0] == 2 and "does not include supervisorctl section" in real[2]
        rc, out, _ = run_client(our_ctl("-c", str(d.conf_path), "status", "runner"))
        assert rc == 0 and out.startswith("runner ")
        assert check("-c", str(d.conf_path), "runner") == (0, "healthy: 1 process\n", "")
    finally:
        d.stop()
