"""/metrics as a dashboard reads it: the real exit status of a program's last run, and the
health of each running program that has a healthcheck."""
import http.client
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import free_port, wait_until  # noqa: E402


def scrape(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams, family, label):
    return {s.labels["name"]: s.labels.get(label, s.value) for s in fams[family].samples}


def test_exit_status_and_health(run, tmp_path):
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
            # ends within startsecs: supervisord's exitstatus says 0, the metric must say 3
            "[program:quick]\ncommand=sh -c 'exit 3'\nstartretries=0\nstartsecs=5\n\n"
            "[program:late]\ncommand=sh -c 'exit 7'\nstartsecs=0\nautorestart=false\n\n"
            "[program:killed]\ncommand=sh -c 'kill -9 $$'\nstartsecs=0\nautorestart=false\n\n"
            "[program:never]\ncommand=sleep 1000\nautostart=false\n\n"
            "[program:fine]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=cmd:true\n\n"
            "[program:sick]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=cmd:false\n"
            "healthcheck_interval=1\nhealthcheck_retries=1\n\n"
            "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n")
    d.wait_log(r"gave up: quick entered FATAL")
    d.wait_log(r"exited: late \(exit status 7")
    d.wait_log(r"exited: killed \(terminated by SIGKILL")

    def settled():
        fams = scrape(port)
        health = samples(fams, "pidvisor_process_health", "status")
        return (fams, health) if health == {"fine": "healthy", "sick": "unhealthy"} else None
    fams, health = wait_until(settled, timeout=60, what="fine healthy and sick unhealthy")
    status = samples(fams, "pidvisor_process_exit_status", None)
    assert status["quick"] == 3 and status["late"] == 7 and status["killed"] == -1, status
    assert status["never"] == 0 and status["plain"] == 0, status
    assert "plain" not in health and "never" not in health
