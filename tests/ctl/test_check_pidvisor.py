"""pidvisor check against pidvisor: the probe a HEALTHCHECK runs every few seconds."""
import subprocess

from harness import PIDVISOR, wait_until

PROGRAMS = """
[program:web]
command=sleep 1000
startsecs=0
[program:migrate]
command=sh -c 'exit 0'
startsecs=0
autorestart=false
[program:manual]
command=sleep 1000
autostart=false
{extra}
"""


def check(conf, *names):
    r = subprocess.run([PIDVISOR, "check", "-c", str(conf), *names], capture_output=True,
                       text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr


def test_healthy_with_a_finished_one_shot(run, tmp_path):
    d = run("pidvisor", PROGRAMS.format(extra=""), control=True)
    d.wait_log(r"exited: migrate \(exit status 0; expected\)")
    d.wait_log(r"success: web entered RUNNING")
    # supervisorctl status exits 3 here (Supervisor #1223); the probe says healthy
    assert subprocess.run(["supervisorctl", "-c", str(d.conf_path), "status"],
                          capture_output=True).returncode == 3
    rc, out = check(d.conf_path)
    assert rc == 0, out
    rc, out = check(d.conf_path, "manual")
    assert rc != 0 and "manual" in out and "STOPPED" in out


def test_unhealthy_when_a_program_is_fatal(run, tmp_path):
    d = run("pidvisor", PROGRAMS.format(extra="[program:broken]\ncommand=/bin/false\n"
                                            "startsecs=3\nstartretries=0\n"), control=True)
    d.wait_log(r"gave up: broken entered FATAL state")
    rc, out = check(d.conf_path)
    assert rc == 1 and "broken" in out and "FATAL" in out, out
    rc, out = check(d.conf_path, "web")
    assert rc == 0, out


def test_cannot_connect(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(f"[supervisorctl]\nserverurl=unix://{tmp_path}/nothing.sock\n")
    rc, out = check(conf)
    assert rc not in (0, 1) and out
