"""supervisord's own sample config (echo_supervisord_conf), with its example program enabled,
runs under both daemons; only paths are moved into the test's directory."""
import os
import re
import subprocess

from harness import Daemon, wait_until


def sample_config(tmp):
    text = subprocess.run(["echo_supervisord_conf"], capture_output=True, text=True,
                          check=True).stdout
    lines = text.splitlines()
    out, in_program = [], False
    for line in lines:
        if line.startswith(";[program:theprogramname]"):
            in_program = True
        if in_program and not line.strip():
            in_program = False
        if in_program and line.startswith(";"):
            line = line[1:]  # enable the documented example program, comments and all
        out.append(line)
    text = "\n".join(out) + "\n"
    text = text.replace("/tmp/supervisor.sock", f"{tmp}/supervisor.sock")
    text = text.replace("/tmp/supervisord.log", f"{tmp}/main.log")
    text = text.replace("/tmp/supervisord.pid", f"{tmp}/supervisord.pid")
    text = text.replace("/a/path", f"{tmp}/program.log")
    text = text.replace("user=chrism", "user=nobody")
    return text


class SampleDaemon(Daemon):
    def header(self):
        return ""


def test_sample_config_runs_unchanged(impl, tmp_path):
    os.chmod(tmp_path, 0o755)
    d = SampleDaemon(impl, tmp_path, sample_config(tmp_path))
    try:
        d.wait_log(r"success: theprogramname entered RUNNING", timeout=15)
        r = subprocess.run(["supervisorctl", "-c", str(d.conf_path), "status"],
                           capture_output=True, text=True, timeout=20)
        assert re.match(r"theprogramname\s+RUNNING\s+pid \d+, uptime", r.stdout), r.stdout
        pid = d.program_pid("theprogramname")
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        assert env[b"A"] == b"1" and env[b"B"] == b"2"
        assert env[b"SUPERVISOR_SERVER_URL"] == f"unix://{tmp_path}/supervisor.sock".encode()
        assert os.stat(f"/proc/{pid}").st_uid == int(os.popen("id -u nobody").read())
        assert d.stop() == 0
        # stopsignal=QUIT from the sample
        assert re.search(r"stopped: theprogramname \(terminated by SIGQUIT", d.log())
    finally:
        d.close()
