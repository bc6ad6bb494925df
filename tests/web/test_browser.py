"""The status page in a real browser (Debian's headless chromium over the DevTools protocol):
every program shown, Stop/Start/Restart clicked with the mouse and the state changing in place
with no reload, Restart All, a tail opened, the filter, a phone-sized layout; the screenshot
the README shows is taken here (build/web-status.png)."""
import base64
import html
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cdp import Browser  # noqa: E402
from harness import ROOT, wait_until  # noqa: E402
from test_web import free_port, get, state  # noqa: E402

PROGRAMS = "".join(
    f"[program:{n}]\ncommand=sh -c 'while :; do echo {n} says hello; sleep 0.5; done'\n"
    f"startsecs=0\n\n" for n in ("nginx", "php-fpm", "worker"))
PROGRAMS += ("[group:jobs]\nprograms=mailer,indexer\n\n"
             "[program:mailer]\ncommand=sleep 1000\nstartsecs=0\n\n"
             "[program:indexer]\ncommand=sh -c 'exit 3'\nstartretries=0\nstartsecs=1\n"
             "autorestart=false\n\n")


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def state_of(d, name, headers):
    return json.loads(get(d, f"/api/processes/{name}", headers=headers)[2])["statename"]


def row_state(b, name):
    return b.js(f"document.querySelector('tr[data-name=\"{name}\"] .st').textContent")


def test_status_page_in_a_browser(run, browser):
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n{PROGRAMS}")
    d.port = port
    wait_until(lambda: get(d, "/")[0] == 200, timeout=15, what="the page")
    wait_until(lambda: state(d, "worker") == "RUNNING" and state(d, "jobs:indexer") == "FATAL",
               timeout=15, what="the programs to settle")
    b = browser
    b.goto(f"http://127.0.0.1:{port}/")
    names = b.js("Array.from(document.querySelectorAll('tbody tr')).map(r => r.dataset.name)")
    assert sorted(names) == ["jobs:indexer", "jobs:mailer", "nginx", "php-fpm", "worker"]
    b.js("window.__same_page = 42")  # gone if anything reloads the page

    b.click('tr[data-name="worker"] form:not([hidden]) button[value="stop"]')
    b.wait_for("document.querySelector('tr[data-name=\"worker\"] .st').textContent == 'STOPPED'")
    b.wait_for("(document.getElementById('message')||{}).textContent == 'Process worker stopped'")
    assert state(d, "worker") == "STOPPED"
    b.click('tr[data-name="worker"] form:not([hidden]) button[value="start"]')
    b.wait_for("document.querySelector('tr[data-name=\"worker\"] .st').textContent == 'RUNNING'")
    pid_before = get(d, "/api/processes/worker")[2]
    b.click('tr[data-name="worker"] form:not([hidden]) button[value="restart"]')
    b.wait_for("(document.getElementById('message')||{}).textContent == "
               "'Process worker restarted'")
    assert get(d, "/api/processes/worker")[2] != pid_before

    # a change made elsewhere shows up by itself
    get(d, "/index.html?processname=nginx&action=stop")
    b.wait_for("document.querySelector('tr[data-name=\"nginx\"]').className == 'statusnominal'")
    b.click('header form button[value="restartall"]')
    b.wait_for("(document.getElementById('message')||{}).textContent.startsWith("
               "'All restarted at')", timeout=20)
    b.wait_for("document.querySelector('tr[data-name=\"nginx\"] .st').textContent == 'RUNNING'")
    assert b.js("window.__same_page") == 42, "the page reloaded"
    assert b.js("document.querySelector('tr[data-name=\"jobs:indexer\"]').className") == \
        "statuserror"

    b.js("var f=document.getElementById('filter'); f.value='php'; "
         "f.dispatchEvent(new Event('input'))")
    visible = b.js("Array.from(document.querySelectorAll('tbody tr'))"
                   ".filter(r => r.style.display != 'none').map(r => r.dataset.name)")
    assert visible == ["php-fpm"]
    b.js("var f=document.getElementById('filter'); f.value=''; "
         "f.dispatchEvent(new Event('input'))")

    shot = ROOT / "build" / "web-status.png"
    shot.parent.mkdir(exist_ok=True)
    b.screenshot(shot)
    assert shot.stat().st_size > 10_000
    b.screenshot(ROOT / "build" / "web-status-phone.png", width=390, height=800)
    assert b.js("getComputedStyle(document.querySelector('thead')).display") == "none"

    b.click('tr[data-name="php-fpm"] a')
    b.wait_for("location.pathname == '/tail.html'")
    b.wait_for("document.getElementById('tailbody').textContent.includes('php-fpm says hello')")


def test_actions_work_without_javascript(run, browser):
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n{PROGRAMS}")
    d.port = port
    wait_until(lambda: get(d, "/")[0] == 200, timeout=15, what="the page")
    wait_until(lambda: state(d, "worker") == "RUNNING", timeout=15, what="worker")
    b = browser
    b.send("Emulation.setScriptExecutionDisabled", value=True)
    b.goto(f"http://127.0.0.1:{port}/")
    b.click('tr[data-name="worker"] form:not([hidden]) button[value="stop"]')
    b.wait_for("location.search.includes('message=Process%20worker%20stopped')")
    assert state(d, "worker") == "STOPPED"
    # the new URL shows before the new page is parsed: wait for its row, not only its address
    b.wait_for("document.querySelector('tr[data-name=\"worker\"] .st').textContent"
               ".includes('STOPPED')")


VICTIMS = ("formvictim", "fetchvictim", "blobvictim", "imgvictim")
CROSS_PROGRAMS = "".join(f"[program:{n}]\ncommand=sleep 1000\nstartsecs=0\n\n" for n in VICTIMS)
CROSS_PROGRAMS += "[program:idle]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\n"


def evil_page(target):
    """A page of another origin trying every request it can make a browser send to the control
    server with no CORS preflight; window.done counts the answers that came back."""
    def call(method, name):
        return ("<?xml version=\"1.0\"?><methodCall><methodName>supervisor." + method +
                "</methodName><params><param><value><string>" + name +
                "</string></value></param></params></methodCall>")
    # a text/plain form sends name=value: the XML ends in a comment holding the '='
    form_name = html.escape(call("stopProcess", "formvictim") + "<!--", quote=True)
    return f"""<!DOCTYPE html><html><body>
<form id="f" method="post" enctype="text/plain" action="{target}/RPC2" target="sink">
<input type="hidden" name="{form_name}" value="-->"></form>
<img src="{target}/index.html?processname=imgvictim&amp;action=stop" onload="done++" onerror="done++">
<img src="{target}/index.html?processname=idle&amp;action=start" onload="done++" onerror="done++">
<script>
var done = 0;
var sink = document.createElement('iframe');
sink.name = 'sink';
document.body.appendChild(sink);
sink.onload = function () {{ done++; }};
document.getElementById('f').submit();
function count() {{ done++; }}
fetch({json.dumps(target + "/RPC2")}, {{method: 'POST', mode: 'no-cors', credentials: 'include',
  body: {json.dumps(call("stopProcess", "fetchvictim"))}}}).then(count, count);
fetch({json.dumps(target + "/RPC2")}, {{method: 'POST', mode: 'no-cors', credentials: 'include',
  body: new Blob([{json.dumps(call("stopProcess", "blobvictim"))}])}}).then(count, count);
</script></body></html>"""


class OtherSite:
    """A second loopback HTTP server, on a port of its own, serving one page: another origin."""
    def __init__(self, page):
        body = page.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def victim_lines(d):
    """What the main log tells of the victims' states changing."""
    names = VICTIMS + ("idle",)
    return [line for line in d.log_path.read_text().splitlines()
            if any(f"stopped: {n}" in line or f"waiting for {n}" in line or
                   f"spawned: '{n}'" in line for n in names)]


@pytest.mark.parametrize("auth", [False, True], ids=["open", "password-cached"])
def test_pages_of_other_sites_cannot_act(run, browser, auth):
    """A page served from another origin (localhost:P, cross-site; 127.0.0.1:P, same-site) posts
    an XML-RPC call as a text/plain form and as no-cors fetches, and loads action URLs as
    images, against a loopback server with no password, and against one with a password the
    browser holds (it loaded the server's page with the credentials first). Nothing happens: the
    programs stay RUNNING, the stopped one stays STOPPED, the main log tells of no change."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n" +
            ("username=u\npassword=p\n" if auth else "") + f"\n{CROSS_PROGRAMS}")
    d.port = port
    creds = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()} if auth else {}
    wait_until(lambda: all(get(d, f"/api/processes/{n}", headers=creds)[0] == 200
                           and state_of(d, n, creds) == "RUNNING" for n in VICTIMS),
               timeout=15, what="the victims RUNNING")
    lines_before = victim_lines(d)
    b = browser
    if auth:
        # the browser now holds the credentials for the server, as after a login prompt
        b.goto(f"http://u:p@127.0.0.1:{port}/")
        b.wait_for("document.querySelectorAll('tbody tr').length == 5")
    target = f"http://127.0.0.1:{port}"
    site = OtherSite(evil_page(target))
    try:
        for host in ("localhost", "127.0.0.1"):
            b.goto(f"http://{host}:{site.port}/")
            b.wait_for("window.done == 5", timeout=30)
    finally:
        site.close()
    for n in VICTIMS:
        assert state_of(d, n, creds) == "RUNNING", n
    assert state_of(d, "idle", creds) == "STOPPED"
    assert victim_lines(d) == lines_before
    # the requests did arrive, and were refused; with a password, chromium sends the held
    # credentials only for the page of the same site (its auth cache is split by top-level
    # site): localhost's calls got 401
    refused = d.log_path.read_text().count("/RPC2 request refused")
    assert refused == (3 if auth else 6), refused
    if auth:
        # the credentials were held indeed: the server's own page still acts with them
        b.goto(f"{target}/index.html")
        b.click('tr[data-name="imgvictim"] form:not([hidden]) button[value="stop"]')
        b.wait_for("(document.getElementById('message')||{}).textContent == "
                   "'Process imgvictim stopped'")
        assert state_of(d, "imgvictim", creds) == "STOPPED"
