"""The status page in a real browser (Debian's headless chromium over the DevTools protocol):
every program shown, Stop/Start/Restart clicked with the mouse and the state changing in place
with no reload, Restart All, a tail opened, the filter, a phone-sized layout; the screenshot
the README shows is taken here (build/web-status.png)."""
import sys
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
    assert "STOPPED" in b.js("document.querySelector('tr[data-name=\"worker\"] .st').textContent")
