"""Listeners of superlance's kind, written here with supervisor.childutils as superlance's are
(superlance is not in Debian): crashmail mails an unexpected exit through a stub sendmail,
memmon restarts a program over its memory limit and httpok one whose HTTP port does not
answer, both through the XML-RPC interface named by SUPERVISOR_SERVER_URL. Each must act under
pidvisor as under supervisord."""
from pathlib import Path

from harness import free_port, wait_until

HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"


def restarted(d, name):
    d.wait_log(rf"stopped: {name} \(terminated by SIGTERM\)", timeout=20)
    d.wait_log(rf"spawned: '{name}' with pid \d+", count=2, timeout=10)


def test_crashmail_mails_unexpected_exits_only(run, impl, tmp_path):
    conf = (f"[eventlistener:crashmail]\ncommand={PY} {HERE}/crashmail.py -a "
            f"-m ops@example.com -s {HERE}/stub-sendmail.sh\n"
            "events=PROCESS_STATE_EXITED\nenvironment=MAILDIR=\"%(here)s/mail\"\n\n"
            "[program:crasher]\ncommand=sh -c 'sleep 1.5; exit 3'\nstartsecs=1\n"
            "autorestart=false\n\n"
            "[program:fine]\ncommand=sh -c 'sleep 1.5; exit 0'\nstartsecs=1\n"
            "autorestart=false\n\n")
    (tmp_path / "mail").mkdir()
    d = run(impl, conf, control=True)
    try:
        mail = wait_until(lambda: list((tmp_path / "mail").iterdir()), timeout=20,
                          what="a mail")
        d.wait_settled({"crasher": "EXITED", "fine": "EXITED"})
        assert len(list((tmp_path / "mail").iterdir())) == 1
        text = mail[0].read_text()
        assert "To: ops@example.com\n" in text and "Subject:  crasher crashed at " in text
        assert "Process crasher in group crasher exited unexpectedly (pid " in text
        assert text.rstrip().endswith(") from state RUNNING")
    finally:
        d.stop()


def test_memmon_restarts_a_program_over_its_limit(run, impl):
    conf = (f"[eventlistener:memmon]\ncommand={PY} {HERE}/memmon.py -p hog=40MB\n"
            "events=TICK_5\n\n"
            f"[program:hog]\ncommand={PY} -c \"b = b'x' * (80 << 20); import time; "
            "time.sleep(1000)\"\nstartsecs=0\n\n"
            "[program:small]\ncommand=sleep 1000\nstartsecs=0\n\n")
    d = run(impl, conf, control=True)
    try:
        restarted(d, "hog")
        assert "stopped: small" not in d.log()
    finally:
        d.stop()


def httpok(port):
    """The httpok listener, watching program web at http://127.0.0.1:port/ every 5 s."""
    return (f"[eventlistener:httpok]\ncommand={PY} {HERE}/httpok.py -p web -t 2 "
            f"http://127.0.0.1:{port}/\nevents=TICK_5\n\n")


def test_httpok_restarts_a_program_whose_port_does_not_answer(run, impl):
    port = free_port()
    conf = httpok(port) + "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\n"
    d = run(impl, conf, control=True)
    try:
        restarted(d, "web")
    finally:
        d.stop()


def test_httpok_leaves_a_program_that_answers(run, impl):
    port = free_port()
    conf = (httpok(port) +
            f"[program:web]\ncommand={PY} -m http.server --bind 127.0.0.1 {port}\n"
            "startsecs=0\ndirectory=%(here)s\n\n")
    d = run(impl, conf, control=True)
    try:
        wait_until(lambda: any("GET / HTTP" in p.read_text(errors="replace")
                               for p in Path(d.tmp).glob("web-std*")), timeout=15,
                   what="httpok's probe")
        assert "stopped: web" not in d.log()
    finally:
        d.stop()
