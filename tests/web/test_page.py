"""What an operator looks for on the status page, in a real browser (Debian's headless
chromium): the version and host it runs on, supervisord's "Tail -f Stdout / Stderr" links, a
FATAL program's stderr one click from its row, and Stop All asking before it stops everything."""
import http.client
import json
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cdp import Browser  # noqa: E402
from harness import free_port, wait_until  # noqa: E402

PROGRAMS = ("[program:talker]\ncommand=sh -c 'echo to-stdout; echo to-stderr >&2; "
            "exec sleep 1000'\nstartsecs=0\n\n"
            "[program:broken]\ncommand=sh -c 'echo why-it-failed >&2; exit 1'\n"
            "startsecs=1\nstartretries=0\n\n")


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def api_state(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", f"/api/processes/{name}")
        return json.loads(c.getresponse().read())["statename"]
    except (OSError, ValueError, KeyError):
        return None
    finally:
        c.close()


def first_bytes_of_stream(port, path, want):
    """A /logtail stream never ends: read until want shows up (or 30 s)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        assert r.status == 200, r.status
        got = b""
        deadline = time.monotonic() + 30
        while want.encode() not in got and time.monotonic() < deadline:
            got += r.read1(4096)
        return got.decode(errors="replace")
    finally:
        c.close()


def answer_next_dialog(b, accept):
    """Waits for the page's confirm() and answers it; returns its message."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = json.loads(b.ws.recv())
        if msg.get("method") == "Page.javascriptDialogOpening":
            b.send("Page.handleJavaScriptDialog", accept=accept)
            return msg["params"]["message"]
    raise AssertionError("no dialog opened")


def test_page_header_tails_and_stop_all(run, browser):
    port = free_port()
    run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n{PROGRAMS}")
    wait_until(lambda: api_state(port, "talker") == "RUNNING" and
               api_state(port, "broken") == "FATAL", timeout=30, what="the programs to settle")
    b = browser
    b.goto(f"http://127.0.0.1:{port}/")
    meta = b.js("document.querySelector('header .meta').textContent")
    assert meta.startswith("0.1.0 (supervisord 4.2.5) on ") and socket.gethostname() in meta

    links = b.js("Array.from(document.querySelectorAll('tr[data-name=\"talker\"] .tails a'))"
                 ".map(a => [a.textContent, a.getAttribute('href')])")
    assert links == [["Tail -f Stdout", "logtail/talker"],
                     ["Tail -f Stderr", "logtail/talker/stderr"]]
    assert "to-stderr" in first_bytes_of_stream(port, "/logtail/talker/stderr", "to-stderr")
    assert "to-stdout" in first_bytes_of_stream(port, "/logtail/talker", "to-stdout")

    # the FATAL row's name opens its stderr, where the reason is
    b.click('tr[data-name="broken"] a.name')
    b.wait_for("location.pathname == '/tail.html'")
    b.wait_for("document.getElementById('tailbody').textContent.includes('why-it-failed')")
    assert "(stderr)" in b.js("document.querySelector('h1').textContent")
    b.click('header a.btn:last-of-type')  # over to stdout, and it is not there
    b.wait_for("document.readyState === 'complete' && "
               "document.querySelector('h1').textContent.includes('(stdout)')")
    assert "why-it-failed" not in b.js("document.getElementById('tailbody').textContent")

    b.goto(f"http://127.0.0.1:{port}/")
    stop_all = "setTimeout(function(){document.querySelector(" \
               "'header form button[value=\"stopall\"]').click();}, 0)"
    b.js(stop_all)
    assert answer_next_dialog(b, accept=False) == "Stop every program?"
    b.js("window.__asked = 1")  # the page is responsive again after the refusal
    assert api_state(port, "talker") == "RUNNING"
    b.js(stop_all)
    answer_next_dialog(b, accept=True)
    wait_until(lambda: api_state(port, "talker") == "STOPPED", timeout=30,
               what="Stop All, confirmed")
