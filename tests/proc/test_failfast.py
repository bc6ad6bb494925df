"""Fail-fast (shutdown_on, shutdown_exitcode) and env files (envfiles): pidvisor as PID 1 of
a PID namespace, the way a container runs it."""
import signal
import subprocess

import pytest

from harness import PIDVISOR, wait_until

OTHER = ("[program:other]\ncommand=sh -c 'trap \"echo other >> %(here)s/stopped; exit 0\" TERM; "
         "while :; do sleep 0.05; done'\nstartsecs=0\npriority=10\n\n")


def essential(command, extra=""):
    return f"[program:essential]\ncommand={command}\nstartsecs=0\npriority=20\n{extra}\n"


@pytest.mark.parametrize("cond,command,extra,code", [
    ("fatal", "sh -c 'exit 4'", "startsecs=1\nstartretries=1\n", 4),
    ("unexpected", "sh -c 'sleep 0.5; exit 5'", "exitcodes=0,2\n", 5),
    ("exit", "sh -c 'sleep 0.5; exit 0'", "", 0),
    ("exit", "sh -c 'sleep 0.5; kill -9 $$'", "", 137),
    ("unexpected", "sh -c 'sleep 0.5; exit 5'", "shutdown_exitcode=42\n", 42),
], ids=["fatal", "unexpected", "exit-0", "killed", "exitcode"])
def test_shutdown_on_ends_pidvisor_with_the_programs_status(run, tmp_path, cond, command, extra,
                                                            code):
    d = run("pidvisor", OTHER + essential(command, f"shutdown_on={cond}\n{extra}"))
    rc = d.proc.wait(timeout=20)
    assert rc == code, d.log()
    log = d.log()
    assert f"has shutdown_on={cond}: stopping everything; pidvisor will exit {code}" in log
    assert (tmp_path / "stopped").read_text().split() == ["other"], "others stopped in order"


def test_expected_exits_and_requested_stops_do_not_end_pidvisor(run, tmp_path):
    conf = OTHER + essential("sh -c 'sleep 0.3; exit 2'",
                             "shutdown_on=unexpected\nexitcodes=0,2\nautorestart=false\n")
    conf += ("[program:stoppable]\ncommand=sleep 1000\nstartsecs=0\nshutdown_on=exit\n"
             "autorestart=false\n\n")
    d = run("pidvisor", conf, control=True)
    d.wait_log(r"exited: essential \(exit status 2; expected\)")
    ctl = [PIDVISOR, "ctl", "-c", str(d.conf_path)]
    wait_until(lambda: "RUNNING" in subprocess.run(ctl + ["status", "stoppable"],
                                                   capture_output=True, text=True).stdout)
    r = subprocess.run(ctl + ["stop", "stoppable"], capture_output=True, text=True)
    assert "stopped" in r.stdout, r.stdout + r.stderr
    assert d.proc.poll() is None, d.log()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=15) == 0


def test_envfiles_under_environment(run, tmp_path):
    (tmp_path / "common.env").write_text("# shared\nexport GREETING='hello world'\nLEVEL=1\n")
    (tmp_path / "app.env").write_text("LEVEL=2\nEMPTY=\n\nQUOTED=\"a=b\"\n")
    conf = (f"[supervisord]\nenvfiles={tmp_path}/common.env\n\n"
            "[program:show]\ncommand=sh -c 'echo \"$GREETING|$LEVEL|$EMPTY|$QUOTED|$OWN\" > "
            "%(here)s/env.txt; sleep 100'\n"
            f"envfiles={tmp_path}/app.env\nenvironment=OWN=yes\nstartsecs=0\n")
    # the harness header has a [supervisord] section already; pidvisor merges repeated
    # sections, as supervisord's config parser does across files
    d = run("pidvisor", conf)
    wait_until(lambda: (tmp_path / "env.txt").exists() and (tmp_path / "env.txt").read_text(),
               timeout=10, what="env.txt")
    assert (tmp_path / "env.txt").read_text().strip() == "hello world|2||a=b|yes"


def test_bad_envfiles_are_config_errors(tmp_path):
    (tmp_path / "bad.env").write_text("OK=1\nthis is not an assignment\n")
    conf = tmp_path / "s.conf"
    conf.write_text(f"[supervisord]\n[program:a]\ncommand=sleep 1\nenvfiles={tmp_path}/bad.env\n\n"
                    f"[program:b]\ncommand=sleep 1\nenvfiles={tmp_path}/missing.env\n"
                    "shutdown_on=sometimes\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert r.returncode == 2
    out = r.stdout + r.stderr
    assert f"s.conf:4: [program:a] envfiles: {tmp_path}/bad.env:2: expected KEY=value" in out
    assert f"[program:b] envfiles: cannot read {tmp_path}/missing.env" in out
    assert "[program:b] shutdown_on: 'sometimes' is not one of never, fatal, unexpected, exit" in out
