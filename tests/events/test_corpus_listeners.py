"""The real-world configs with [eventlistener:x] sections (tests' corpus): --check-config has
no warning for them, and no error but the commands this machine does not have."""
import subprocess
from pathlib import Path

import pytest

from harness import PIDVISOR

CORPUS = Path("/work/shared/corpus/supervisord-configs")
CONFIGS = sorted(p for p in CORPUS.glob("*.conf") if "[eventlistener:" in p.read_text())


@pytest.mark.skipif(not CONFIGS, reason="no corpus")
@pytest.mark.parametrize("conf", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_check_config_accepts_the_listeners(conf):
    r = subprocess.run([PIDVISOR, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    lines = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert not [line for line in lines if "warning" in line], lines
    errors = [line for line in lines if "can't find command" not in line
              and not line.endswith(": OK")]
    if conf.name.startswith("27-"):
        # supervisor_stdout's result handler is Python code supervisord imports; not built in
        assert len(errors) == 1 and "supervisor_stdout:event_handler" in errors[0], errors
    else:
        assert not errors, errors
