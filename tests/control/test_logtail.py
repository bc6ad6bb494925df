"""supervisorctl tail -f and maintail -f: the /logtail and /mainlogtail streams."""
import re
import subprocess
import threading

from harness import wait_until

TALK = """
[program:talk]
command=sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done'
startsecs=0
"""


def follow(conf, *args, until, what):
    """supervisorctl's output for a command that streams, read until until(output) holds
    (30 s at most), then the client is stopped."""
    p = subprocess.Popen(["supervisorctl", "-c", str(conf), *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(p.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        wait_until(lambda: until("".join(chunks)), timeout=30, interval=0.05, what=what)
    finally:
        p.terminate()
        p.wait(timeout=30)
        reader.join(timeout=30)
    return "".join(chunks)


def numbers(out):
    return [int(n) for n in re.findall(r"^line (\d+)\n", out, re.M)]


def test_tail_f_follows_new_output(run, impl, tmp_path):
    d = run(impl, TALK, control=True)
    wait_until(lambda: d.sock.exists(), timeout=30, what="the socket")
    d.wait_log(r"success: talk entered RUNNING", timeout=30)
    # what talk has written when the client starts
    logged = wait_until(lambda: list(d.tmp.glob("talk-stdout*")), timeout=30,
                        what="talk's log file")
    before = max(numbers(logged[0].read_text()) or [0])
    out = follow(d.conf_path, "tail", "-f", "talk", until=lambda o: max(
        numbers(o) or [0]) >= before + 8, what="8 lines written after tail -f started")
    got = numbers(out)
    # it keeps streaming: lines written after it started, every one, in order
    assert got == list(range(got[0], got[0] + len(got))), out
    main = follow(d.conf_path, "maintail", "-f", what="talk in maintail -f",
                  until=lambda o: re.search(
                      r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \w{4} .*talk", o))
    # at loglevel=debug supervisord also copies program output into its main log
    assert "talk" in main
    assert d.stop() == 0


def test_tail_f_of_unknown_process(run, impl, tmp_path):
    d = run(impl, TALK, control=True)
    # supervisord binds its socket and listens a moment later; it spawns after that
    d.wait_log(r"success: talk entered RUNNING", timeout=60)
    r = subprocess.run(["supervisorctl", "-c", str(d.conf_path), "tail", "-f", "nosuch"],
                       capture_output=True, text=True, timeout=30)
    assert r.stderr.endswith("/logtail/nosuch/stdout Cannot read, status code 404\n"), r.stderr
