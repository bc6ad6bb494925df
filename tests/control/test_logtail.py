"""supervisorctl tail -f and maintail -f: the /logtail and /mainlogtail streams."""
import re
import subprocess
import time

from harness import wait_until

CONF = """
[unix_http_server]
file={sock}
[supervisorctl]
serverurl=unix://{sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:talk]
command=sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done'
startsecs=0
"""


def follow(conf, *args, seconds=1.5):
    p = subprocess.Popen(["supervisorctl", "-c", str(conf), *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    p.terminate()
    out, _ = p.communicate(timeout=5)
    return out


def test_tail_f_follows_new_output(run, impl, tmp_path):
    sock = tmp_path / "sock"
    d = run(impl, CONF.format(sock=sock))
    wait_until(lambda: sock.exists(), timeout=10, what="the socket")
    d.wait_log(r"success: talk entered RUNNING")
    time.sleep(0.5)
    out = follow(d.conf_path, "tail", "-f", "talk")
    numbers = [int(n) for n in re.findall(r"line (\d+)", out)]
    # it keeps streaming: more lines than were there when it started, in order
    assert len(numbers) >= 8, out
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), out
    main = follow(d.conf_path, "maintail", "-f", seconds=1.0)
    # at loglevel=debug supervisord also copies program output into its main log
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \w{4} .*talk", main), main
    assert d.stop() == 0


def test_tail_f_of_unknown_process(run, impl, tmp_path):
    sock = tmp_path / "sock"
    d = run(impl, CONF.format(sock=sock))
    wait_until(lambda: sock.exists(), timeout=10, what="the socket")
    r = subprocess.run(["supervisorctl", "-c", str(d.conf_path), "tail", "-f", "nosuch"],
                       capture_output=True, text=True, timeout=10)
    assert r.stderr.endswith("/logtail/nosuch/stdout Cannot read, status code 404\n"), r.stderr
