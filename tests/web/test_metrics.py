"""/metrics as a dashboard reads it: the real exit status of a program's last run, and the
health of each running program that has a healthcheck."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import free_port, wait_until  # noqa: E402
from harness import scrape_metrics as scrape  # noqa: E402


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


def test_schedule_metrics(run, tmp_path):
    """A scheduled program's next due time and its runs, started and skipped; nothing for the
    others."""
    import time
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
            "[program:job]\ncommand=sleep 1000\nschedule=@every 1s\n\n"
            "[program:yearly]\ncommand=true\nschedule=@yearly\n\n"
            "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n")
    d.wait_log(r"job: scheduled run skipped", count=2, timeout=60)
    fams = scrape(port)
    nxt = {s.labels["name"]: s.value
           for s in fams["pidvisor_schedule_next_run_timestamp_seconds"].samples}
    assert set(nxt) == {"job", "yearly"}
    assert time.localtime(nxt["yearly"])[:6] == (time.localtime().tm_year + 1, 1, 1, 0, 0, 0)
    assert 0 < nxt["job"] - time.time() < 60
    runs = {(s.labels["name"], s.labels["outcome"]): s.value
            for s in fams["pidvisor_schedule_runs"].samples}
    assert runs[("job", "started")] == 1 and runs[("job", "skipped")] >= 2
    assert runs[("yearly", "started")] == 0 and runs[("yearly", "skipped")] == 0
    assert not any(name == "plain" for name, _ in runs)
