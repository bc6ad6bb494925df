"""The web side of the control server over real HTTP: supervisord's page URLs (side by side
with the real supervisord for the URL-driven actions), the JSON API, /metrics read by the
Prometheus client's own parser, and hostile requests."""
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import PIDVISOR, SUPERVISORCTL, free_port, wait_until  # noqa: E402

RELEASE = str(Path(PIDVISOR).resolve().parent.parent / "pidvisor") if "asan" in PIDVISOR else PIDVISOR


PROGRAMS = ("[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            "[program:web]\ncommand=sh -c 'while :; do echo web-line $$; sleep 0.2; done'\n"
            "startsecs=0\n\n"
            "[program:worker]\ncommand=sleep 1000\nstartsecs=0\n\n")


def start(run, impl, extra="", auth=""):
    port = free_port()
    conf = f"[inet_http_server]\nport=127.0.0.1:{port}\n{auth}\n{PROGRAMS}{extra}"
    d = run(impl, conf)
    d.port = port
    wait_until(lambda: get(d, "/index.html")[0] == 200, timeout=15, what="the page")
    return d


def request(d, method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data.decode(errors="replace")


def get(d, path, **kw):
    try:
        return request(d, "GET", path, **kw)
    except OSError:
        return 0, {}, ""


def state(d, name):
    return json.loads(get(d, f"/api/processes/{name}")[2])["statename"]


def rpc_state(d, name):
    """The state by XML-RPC, which both supervisord and pidvisor answer."""
    import xmlrpc.client
    proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{d.port}/RPC2")
    return proxy.supervisor.getProcessInfo(name)["statename"]


@pytest.mark.parametrize("impl", ["pidvisor", "supervisord"])
def test_bookmarked_action_urls_do_what_they_did(run, impl):
    """supervisord's GET URLs act, then redirect with the same message, on both servers."""
    d = start(run, impl)
    wait_until(lambda: rpc_state(d, "web") == "RUNNING", what="web RUNNING")
    for action, want_state, message in (("stop", "STOPPED", "Process web stopped"),
                                        ("start", "RUNNING", "Process web started"),
                                        ("restart", "RUNNING", "Process web restarted")):
        # supervisord answers the action only after it finished, as pidvisor does (a restart
        # under a loaded CI machine took supervisord over 10 s)
        status, headers, _ = get(d, f"/index.html?processname=web&action={action}", timeout=30)
        assert status in (301, 302, 303), (action, status)
        loc = urllib.parse.unquote(headers.get("Location", ""))
        assert loc.endswith(f"message={message}"), loc
        assert rpc_state(d, "web") == want_state
    status, headers, _ = get(d, "/index.html?processname=nope&action=stop")
    assert urllib.parse.unquote(headers["Location"]).endswith("No such process named nope")
    # the program may not have written yet when a busy machine runs it: its first line comes
    def tail_page():
        status, _, page = get(d, "/tail.html?processname=web")
        assert status == 200
        return "web-line" in page
    wait_until(tail_page, what="web's output on its tail page")
    status, headers, _ = get(d, "/index.html?action=stopall", timeout=60)
    assert "All stopped at" in urllib.parse.unquote(headers["Location"])
    assert rpc_state(d, "web") == "STOPPED" and rpc_state(d, "worker") == "STOPPED"


def test_page_lists_every_program_with_states_and_actions(run):
    d = start(run, "pidvisor")
    status, headers, page = get(d, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for name in ("web", "worker"):
        assert f'data-name="{name}"' in page
    assert "statusrunning" in page and "Restart All" in page and "Stop All" in page
    assert 'name="viewport"' in page  # phone layout
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere
    status, _, page = get(d, "/?message=%3Cb%3Ehi")
    assert "&lt;b&gt;hi" in page and "<b>hi" not in page  # the banner is escaped


def test_state_changes_need_the_token_and_the_same_origin(run):
    d = start(run, "pidvisor")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(d, "POST", "/index.html", "processname=web&action=stop", form)[0] == 403
    token = re.search(r'name="token" value="([0-9a-f]+)"', get(d, "/")[2]).group(1)
    body = f"processname=web&action=stop&token={token}"
    evil = dict(form, Origin="http://evil.example")
    assert request(d, "POST", "/index.html", body, evil)[0] == 403
    assert state(d, "web") == "RUNNING"
    same = dict(form, Origin=f"http://127.0.0.1:{d.port}", Host=f"127.0.0.1:{d.port}")
    status, headers, _ = request(d, "POST", "/index.html", body, same)
    assert status == 303 and state(d, "web") == "STOPPED"


def test_get_actions_refused_beyond_loopback_without_auth(run, tmp_path):
    """With no password, a server listening beyond loopback refuses GET action URLs and does
    nothing, while the page's buttons (a POST with the page's token) and a unix socket still act.
    pidvisor judges "loopback" by the address the server is bound to: this one is bound to every
    address (0.0.0.0) and reached through 127.0.0.1, as no other address is used here."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=0.0.0.0:{port}\n\n"
            f"[unix_http_server]\nfile={tmp_path}/sock\n\n{PROGRAMS}")
    d.port = port
    wait_until(lambda: get(d, "/")[0] == 200, timeout=15, what="the page")
    wait_until(lambda: state(d, "worker") == "RUNNING", what="worker RUNNING")
    assert "listens beyond loopback with no password" in d.log_path.read_text()
    for action in ("stop", "restart", "clearlog"):
        status, _, body = get(d, f"/index.html?processname=worker&action={action}")
        assert status == 403 and "Use the page's buttons" in body, (action, status)
    for action in ("stopall", "restartall"):
        assert get(d, f"/index.html?action={action}")[0] == 403
    assert state(d, "worker") == "RUNNING" and state(d, "web") == "RUNNING"
    assert "stopped: worker" not in d.log_path.read_text()
    assert get(d, "/index.html?action=refresh")[0] == 303  # does nothing: allowed
    token = re.search(r'name="token" value="([0-9a-f]+)"', get(d, "/")[2]).group(1)
    status, _, _ = request(d, "POST", "/index.html",
                           f"processname=worker&action=stop&token={token}",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and state(d, "worker") == "STOPPED"
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket",
                          f"{tmp_path}/sock", "http://x/index.html?processname=worker&action=start"],
                         capture_output=True, text=True)
    assert out.stdout == "303" and state(d, "worker") == "RUNNING"


def test_get_actions_taken_beyond_loopback_with_auth(run):
    """The same server with a password takes supervisord's bookmarked GET actions, with the
    credentials only."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=0.0.0.0:{port}\nusername=u\npassword=p\n\n"
            f"{PROGRAMS}")
    d.port = port
    wait_until(lambda: get(d, "/")[0] == 401, timeout=15, what="auth")
    for path in ("/metrics", "/api/processes", "/tail.html?processname=web", "/index.html",
                 "/index.html?processname=worker&action=stop"):
        assert get(d, path)[0] == 401, path  # no way around the password
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    assert get(d, "/index.html?processname=worker&action=stop", headers=auth, timeout=30)[0] == 303
    assert json.loads(get(d, "/api/processes/worker", headers=auth)[2])["statename"] == "STOPPED"


def xml_call(method, *args):
    import xmlrpc.client
    return xmlrpc.client.dumps(args, method)


def main_log_stops(d):
    return [line for line in d.log_path.read_text().splitlines()
            if "stopped: worker" in line or "waiting for worker" in line]


@pytest.mark.parametrize("auth", [False, True], ids=["open", "password"])
def test_cross_site_requests_do_nothing(run, build, auth):
    """What a page of another site can make a browser send, on a loopback server with no
    password and on one with a password the browser holds: /RPC2 takes only text/xml and no
    request a browser marks as coming from another origin; GET action URLs take none either.
    Nothing is done: the program stays RUNNING and the main log tells of no stop. supervisorctl,
    Python's xmlrpc.client and pidvisor ctl keep working."""
    import base64
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{free_port()}\n"
            + ("username=u\npassword=p\n" if auth else "") + f"\n{PROGRAMS}", binary=build)
    d.port = int(re.search(r"port=127.0.0.1:(\d+)", d.conf_path.read_text()).group(1))
    creds = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()} if auth else {}
    wait_until(lambda: get(d, "/api/processes/worker", headers=creds)[0] == 200, timeout=15,
               what="the server")
    wait_until(lambda: json.loads(get(d, "/api/processes/worker", headers=creds)[2])
               ["statename"] == "RUNNING", what="worker RUNNING")
    own = f"http://127.0.0.1:{d.port}"
    stop = xml_call("supervisor.stopProcess", "worker")

    def rpc(headers, body=stop):
        return request(d, "POST", "/RPC2", body, dict(creds, **headers))

    for ctype in (None, "text/plain", "text/plain;charset=UTF-8",
                  "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/xml", "text/xmlfoo", ""):
        status, headers, body = rpc({"Content-Type": ctype} if ctype is not None else {})
        assert status == 415, (ctype, status, body)
        assert "text/xml" in body
    for foreign in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": f"http://127.0.0.1:{d.port + 1}"},
                    {"Origin": "http://" + "a" * 7000},
                    {"Origin": own, "Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Referer": "http://evil.example/x"},
                    {"Origin": own, "Host": "evil.example"}):
        status, _, body = rpc(dict(foreign, **{"Content-Type": "text/xml"}))
        assert status == 403, (foreign, status)
        assert "another site" in body
        status, _, body = get(d, "/index.html?processname=worker&action=stop",
                              headers=dict(creds, **foreign))
        assert status == 403, (foreign, status)
        assert "nothing was done" in body
    # the headers of a browser on the server's own page are fine; a charset too
    ok = {"Content-Type": "text/xml; charset=utf-8", "Origin": own,
          "Sec-Fetch-Site": "same-origin", "Referer": own + "/index.html"}
    status, _, body = rpc(ok, xml_call("supervisor.getAPIVersion"))
    assert status == 200 and "<string>3.0</string>" in body
    assert json.loads(get(d, "/api/processes/worker", headers=creds)[2])["statename"] == \
        "RUNNING"
    assert main_log_stops(d) == []

    # a bookmark (Sec-Fetch-Site: none) and the page's own Refresh link act
    status, _, _ = get(d, "/index.html?processname=worker&action=stop",
                       headers=dict(creds, **{"Sec-Fetch-Site": "none"}), timeout=30)
    assert status == 303 and main_log_stops(d) != []
    status, _, _ = get(d, "/index.html?processname=worker&action=start", timeout=30,
                       headers=dict(creds, **{"Sec-Fetch-Site": "same-origin",
                                              "Referer": own + "/"}))
    assert status == 303
    # every client we know sends text/xml
    url = f"http://u:p@127.0.0.1:{d.port}" if auth else own
    import xmlrpc.client
    assert xmlrpc.client.ServerProxy(url + "/RPC2").supervisor.getProcessInfo("worker")[
        "statename"] == "RUNNING"
    conf = d.conf_path.parent / "ctl.conf"
    conf.write_text("[supervisorctl]\n")
    cred_args = ["-u", "u", "-p", "p"] if auth else []
    for ctl in ([PIDVISOR, "ctl", "-c", str(conf)], [SUPERVISORCTL, "-c", str(conf)]):
        out = subprocess.run([*ctl, "-s", own, *cred_args, "stop", "worker"],
                             capture_output=True, text=True, timeout=60)
        assert "worker: stopped" in out.stdout, (ctl, out.stdout, out.stderr)
        out = subprocess.run([*ctl, "-s", own, *cred_args, "start", "worker"],
                             capture_output=True, text=True, timeout=60)
        assert "worker: started" in out.stdout, (ctl, out.stdout, out.stderr)
    assert d.proc.poll() is None


def test_api_matches_ctl_status_json(run):
    d = start(run, "pidvisor")
    wait_until(lambda: state(d, "worker") == "RUNNING", what="worker")
    api = json.loads(get(d, "/api/processes")[2])
    conf = d.conf_path.parent / "ctl.conf"
    conf.write_text("[supervisorctl]\n")
    out = subprocess.run([PIDVISOR, "ctl", "-c", str(conf), "-s", f"http://127.0.0.1:{d.port}",
                          "status", "--json"], capture_output=True, text=True)
    assert out.stdout, out.stderr
    ctl = json.loads(out.stdout)
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("now", "description")}  # noqa: E731
                          for r in rows]
    assert strip(api) == strip(ctl)
    one = json.loads(get(d, "/api/processes/worker")[2])
    assert one["namespec"] == "worker" and one["statename"] == "RUNNING"
    status, _, body = get(d, "/api/processes/nope")
    assert status == 404 and json.loads(body)["fault"] == 10


def test_metrics_parse_with_the_prometheus_parser(run):
    d = start(run, "pidvisor")
    wait_until(lambda: state(d, "worker") == "RUNNING", what="worker")
    get(d, "/index.html?processname=worker&action=restart")
    status, headers, text = get(d, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    states = {(s.labels["name"], s.labels["state"]) for s in fams["pidvisor_process_state"].samples}
    assert ("worker", "RUNNING") in states and ("web", "RUNNING") in states
    spawns = {s.labels["name"]: s.value for s in fams["pidvisor_process_spawns"].samples
              if s.name == "pidvisor_process_spawns_total"}
    assert spawns["worker"] == 2 and spawns["web"] == 1
    assert fams["pidvisor_process_spawns"].type == "counter"
    lines = {(x.labels["name"], x.labels["stream"]): x.value
             for x in fams["pidvisor_log_lines"].samples if x.name == "pidvisor_log_lines_total"}
    assert lines[("web", "stdout")] >= 1 and lines[("web", "stderr")] == 0
    assert fams["pidvisor_log_bytes"].type == "counter"
    requests = fams["pidvisor_control_requests"].samples[0].value
    assert requests >= 3  # the page, the restart, this scrape at least
    assert fams["pidvisor_resident_memory_bytes"].samples[0].value > 0
    assert fams["pidvisor_open_fds"].samples[0].value > 3


def test_open_fds_counts_the_fd_directory(run):
    """pidvisor_open_fds is what `ls /proc/PID/fd` shows while the scrape's connection is open
    (the directory's own descriptor aside), with 20 more programs' pipes and log files."""
    extra = "".join(f"[program:p{i}]\ncommand=sleep 1000\nstartsecs=0\n\n" for i in range(20))
    d = start(run, "pidvisor", extra)
    wait_until(lambda: all(state(d, n) == "RUNNING" for n in ("worker", "p19")), what="programs")
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    try:
        for _ in range(3):
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            listed = len(os.listdir(f"/proc/{d.pid}/fd"))
            fams = {f.name: f for f in text_string_to_metric_families(text)}
            value = fams["pidvisor_open_fds"].samples[0].value
            if value == listed:
                break
        assert value == listed and listed > 20 * 2, (value, listed)
    finally:
        c.close()


HOSTILE = ["/index.html?processname=%", "/index.html?processname=%zz&action=stop",
           "/index.html?action=" + "A" * 5000, "/tail.html?processname=web&limit=-999999999999",
           "/tail.html?processname=web&limit=99999999999999999999999",
           "/tail.html?processname=%00", "/api/processes/%", "/api/processes/" + "%41" * 2000,
           "/index.html?&&&=&=", "/?message=" + "%" * 3000, "/metrics?x=%00"]


@pytest.mark.parametrize("binary", [PIDVISOR, RELEASE], ids=["asan", "release"])
def test_hostile_queries_fail_alone(run, binary, monkeypatch):
    monkeypatch.setattr(sys.modules["harness"], "PIDVISOR", binary)
    d = start(run, "pidvisor")
    for path in HOSTILE:
        status, _, body = get(d, path)
        assert status in (200, 303, 400, 403, 404), (path, status)
        assert len(body) < 1_000_000
    assert get(d, "/api/processes")[0] == 200
    assert d.proc.poll() is None
