"""Output without a trailing newline (a prompt, a progress bar): the program's log file and its
tail get the bytes as they come, as in supervisord; pidvisor's stdout gets the unfinished line
after a short quiet time (PARTIAL_QUIET, 100 ms; PARTIAL_MAX_WAIT, 1 s, at most), marked as a
piece, and the rest of the line later."""
import json
import random
import re
import xmlrpc.client

import pytest
from supervisor.xmlrpc import SupervisorTransport

import harness
from harness import BUILDS, Daemon, wait_until

PROMPT = "command=sh -c 'printf \"prompt> \"; sleep 4; echo done'\nstartsecs=0\nautorestart=false\n"


def ctl_tail(d, name):
    """readProcessStdoutLog, what supervisorctl tail shows (before it adds a newline)."""
    proxy = xmlrpc.client.ServerProxy("http://localhost",
                                      SupervisorTransport(None, None, d.url))
    return proxy.supervisor.readProcessStdoutLog(name, 0, 0)


@pytest.mark.parametrize("impl", ["supervisord", "pidvisor"])
def test_prompt_reaches_log_file_and_tail_at_once(impl, tmp_path):
    conf = f"[program:filed]\n{PROMPT}stdout_logfile={tmp_path}/filed.log\n"
    d = Daemon(impl, tmp_path, conf, control=True)
    try:
        d.wait_log(r"spawned: 'filed'")
        log = tmp_path / "filed.log"
        # "prompt> " alone: before the program went on to write "done" (4 s later)
        wait_until(lambda: log.exists() and log.read_bytes() == b"prompt> ", timeout=10,
                   what="the prompt in the log file")
        assert ctl_tail(d, "filed") == "prompt> "
    finally:
        d.stop()


def test_prompt_on_stdout_after_quiet_time_marked(tmp_path):
    conf = "".join(
        f"[program:{name}]\n{PROMPT}stdout_logfile=/dev/stdout\nlog_format={fmt}\n"
        for name, fmt in [("plain", "plain"), ("pre", "prefix"), ("js", "json")])
    (tmp_path / "bar.py").write_text("import os, time\nfor i in range(60):\n"
                                     "    os.write(1, b'.')\n    time.sleep(0.05)\n"
                                     "os.write(1, b'|\\n')\n")
    conf += (f"[program:bar]\ncommand=/usr/bin/python3 {tmp_path}/bar.py\nstartsecs=0\n"
             "autorestart=false\nstdout_logfile=/dev/stdout\n")
    d = Daemon("pidvisor", tmp_path, conf, control=True, args=("-e", "info"))
    try:
        d.wait_log(r"spawned: 'plain'")
        # the tail, kept in memory for /dev/stdout, has the bytes before any newline; each wait
        # below can only succeed before the program goes on ("done" 4 s later): the piece, marked
        # as one, proves it went out before the rest of its line was written
        wait_until(lambda: ctl_tail(d, "plain") == "prompt> ", timeout=10,
                   what="the prompt in the tail")
        wait_until(lambda: all(
            s in d.stdout() for s in ["prompt> \\\n", "pre   | prompt> \\\n", '"partial":true']),
            timeout=10, what="the pieces on stdout")
        # a progress bar that never pauses 100 ms still goes out within PARTIAL_MAX_WAIT, before
        # its end (3 s): a piece of dots alone, marked, not the whole bar
        wait_until(lambda: re.search(r"^\.+\\$", d.stdout(), re.M), timeout=10,
                   what="a piece of the bar")
        # every program's end: plain's and pre's "done" are asserted too
        for name in ("plain", "pre", "js", "bar"):
            d.wait_log(rf"exited: {name} ", timeout=30)
    finally:
        d.stop()
    lines = d.stdout_path.read_text().splitlines()
    # plain: the piece, marked, then the rest on its own line
    i = lines.index("prompt> \\")
    assert "done" in lines[i + 1:]
    # prefix: the rest continues with the program's name and '+'
    assert "pre   | prompt> \\" in lines and "pre   + done" in lines
    assert lines.index("pre   | prompt> \\") < lines.index("pre   + done")
    # JSON: "partial" true on the piece, false on the rest
    js = [json.loads(x) for x in lines if x.startswith("{")]
    js = [(o["line"], o.get("partial")) for o in js if o["program"] == "js"]
    assert js == [("prompt> ", True), ("done", False)], js
    # the bar: its pieces put back together are what it wrote, each piece marked
    bar = [x for x in lines if re.fullmatch(r"\.+\\|\.*\|", x)]
    assert len(bar) >= 3, bar
    assert "".join(x.rstrip("\\") for x in bar) == "." * 60 + "|"
    # nothing else was torn: every line is a main-log line or one of the programs'
    for x in lines:
        assert (re.match(r"^\d{4}-\d\d-\d\d ", x) or x in ("prompt> \\", "done")
                or x.startswith(("pre   ", "{")) or x in bar), x


# Numbered lines written in random cuts, with pauses long enough for the quiet timer now and then.
CUTTER = r"""
import os, random, sys, time
name, count = sys.argv[1], int(sys.argv[2])
rnd = random.Random(name)
data = b"".join(b"%s %05d %s\n" % (name.encode(), i, b"y" * rnd.randrange(0, 120))
                for i in range(count))
at = 0
while at < len(data):
    n = rnd.randrange(1, 200)
    os.write(1, data[at:at + n])
    at += n
    if rnd.random() < 0.01:
        time.sleep(rnd.uniform(0.12, 0.25))
"""


@pytest.mark.parametrize("which", sorted(BUILDS))
def test_cut_writes_from_many_programs_stay_apart_and_whole(which, tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "PIDVISOR", str(BUILDS[which]))
    (tmp_path / "cut.py").write_text(CUTTER)
    names = ["ant", "bee", "cat", "dog"]
    conf = "".join(f"[program:{n}]\ncommand=/usr/bin/python3 {tmp_path}/cut.py {n} 500\n"
                   "startsecs=0\nautorestart=false\nstdout_logfile=/dev/stdout\n"
                   "log_format=prefix\n" for n in names)
    want = {}
    for n in names:
        rnd = random.Random(n)
        want[n] = "".join(f"{n} {i:05d} {'y' * rnd.randrange(0, 120)}\n" for i in range(500))
    d = Daemon("pidvisor", tmp_path, conf, args=("-e", "info"))
    try:
        for n in names:
            d.wait_log(rf"exited: {n} ", timeout=60)
        # relayed while running, not only drained at the stop: all of it on stdout first
        wait_until(lambda: relayed(d.stdout(), names)[0] == want, timeout=60,
                   what="every program's 500 lines on stdout",
                   detail=lambda: "not whole yet: " + ", ".join(
                       n for n, out in relayed(d.stdout(), names)[0].items() if out != want[n]))
    finally:
        assert d.stop() == 0
    got, pieces = relayed(d.stdout_path.read_text(), names)
    assert pieces > 0, "no line was cut: the test proves nothing"
    for n in names:
        assert got[n] == want[n], n


def relayed(stdout, names):
    """({program: its output put back together}, how many pieces) from pidvisor's stdout in
    the prefix format, up to its last whole line; fails on a torn or foreign line."""
    got = {n: [] for n in names}
    in_piece = {n: False for n in names}
    pieces = 0
    for line in stdout[:stdout.rfind("\n") + 1].splitlines():
        if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} ", line):
            continue
        m = re.fullmatch(rf"({'|'.join(names)}) ([|+]) (.*)", line)
        assert m, f"torn or foreign line: {line!r}"
        name, mark, text = m.groups()
        # a continuation follows a piece of the same program, and only then
        assert (mark == "+") == in_piece[name], line
        in_piece[name] = text.endswith("\\")
        pieces += in_piece[name]
        got[name].append(text[:-1] if in_piece[name] else text + "\n")
    return {n: "".join(got[n]) for n in names}, pieces
