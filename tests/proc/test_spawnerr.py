"""A long spawn error is kept whole, as supervisord keeps it: in the main log's spawnerr line and
in getProcessInfo's spawnerr and description, side by side with the real supervisord."""
import xmlrpc.client

import pytest

from harness import wait_until


def rpc(d):
    from supervisor.xmlrpc import SupervisorTransport
    return xmlrpc.client.ServerProxy("http://127.0.0.1",
                                     transport=SupervisorTransport(None, None, d.url))


def missing(tmp_path):
    path = "/no-such-dir/" + "c" * (300 - len("/no-such-dir/"))
    return path, f"can't find command '{path}'"


def not_executable(tmp_path):
    folder = tmp_path / ("d" * 200) / ("e" * 60)
    folder.mkdir(parents=True)
    script = folder / "script.sh"
    script.write_text("#!/bin/sh\nsleep 100\n")
    script.chmod(0o644)
    return str(script), f"command at '{script}' is not executable"


@pytest.mark.parametrize("case", [missing, not_executable], ids=["missing", "not_executable"])
def test_long_spawn_error_is_whole_and_as_supervisord(run, tmp_path, case):
    command, message = case(tmp_path)
    assert len(command) >= 300
    conf = f"[program:long]\ncommand={command} --flag\nstartretries=0\n"
    seen = {}
    for impl in ("supervisord", "pidvisor"):
        d = run(impl, conf, control=True)
        d.wait_log(r"gave up: long entered FATAL state", timeout=15)
        lines = [line for line in d.log().splitlines() if "spawnerr: " in line]
        assert lines and all(line.endswith(f"spawnerr: {message}") for line in lines), lines
        info = wait_until(lambda: rpc(d).supervisor.getProcessInfo("long"), what="the RPC")
        assert info["statename"] == "FATAL"
        seen[impl] = {k: info[k] for k in ("spawnerr", "description")}
        assert d.stop() == 0
        d.close()
        d.log_path.unlink()  # the next one's log alone
    assert seen["pidvisor"] == seen["supervisord"] == {"spawnerr": message,
                                                       "description": message}
