"""The real-world configs with [eventlistener:x] sections (tests' corpus): --check-config has
no warning for them, and no error but the commands this machine does not have."""
import subprocess
from pathlib import Path

import pytest

from harness import CORPUS, PIDVISOR, needs_corpus, wait_until

CONFIGS = sorted(p for p in CORPUS.glob("*.conf") if "[eventlistener:" in p.read_text())


@needs_corpus
@pytest.mark.parametrize("conf", CONFIGS or [None], ids=[p.stem for p in CONFIGS] or ["none"])
def test_check_config_accepts_the_listeners(conf):
    r = subprocess.run([PIDVISOR, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    lines = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert not [line for line in lines if "warning" in line], lines
    errors = [line for line in lines if "can't find command" not in line
              and not line.endswith(": OK")]
    assert not errors, errors


HERE = Path(__file__).resolve().parent


def test_supervisor_stdout_handler_prints_each_line(run):
    """27-wyveo's setup: supervisor-stdout's listener gets PROCESS_LOG events and its results
    are printed by the built-in supervisor_stdout:event_handler, a prefix on each line, on
    pidvisor's stdout (docker logs)."""
    d = run("pidvisor", "[program:talk]\ncommand=sh -c 'echo hello; echo world; sleep 100'\n"
            "stdout_events_enabled=true\nstdout_logfile=NONE\nstartsecs=0\n\n"
            "[eventlistener:stdout]\n"
            f"command=python3 {HERE / 'stdout_listener.py'}\n"
            "buffer_size=100\nevents=PROCESS_LOG\n"
            "result_handler=supervisor_stdout:event_handler\n", args=("-e", "info"))
    wait_until(lambda: "talk stdout | world" in d.stdout(), timeout=15,
               what="the handler's lines on stdout")
    out = d.stdout()
    assert "talk stdout | hello\n" in out, out
    assert "event caused an error" not in d.log(), d.log()
    assert d.stop() == 0
