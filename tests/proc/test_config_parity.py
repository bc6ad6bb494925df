"""Config shapes that supervisord 4.2.5 accepts or refuses, side by side with pidvisor: the
outcome (runs, or exit 2) must be the same; pidvisor adds a warning where supervisord silently
drops something."""
import subprocess

from harness import SUPERVISORCTL, wait_until


def ctl(d, *args):
    return subprocess.run([SUPERVISORCTL, "-s", d.url, *args], capture_output=True, text=True,
                          timeout=30)


def test_group_without_programs_is_an_empty_group(impl, run):
    d = run(impl, "[group:empty]\n\n[program:a]\ncommand=sleep 1000\nstartsecs=0\n",
            control=True)
    d.wait_settled({"a": "RUNNING"}, timeout=30)
    assert "no such group" not in ctl(d, "start", "empty:*").stdout
    if impl == "pidvisor":
        assert "[group:empty] programs: none: an empty group" in d.stderr()


def test_unquoted_hash_in_environment_drops_the_rest_of_the_line(impl, run, tmp_path):
    dump = tmp_path / "env.txt"
    d = run(impl, f"[program:a]\ncommand=/bin/sh -c 'env > {dump}.tmp; mv {dump}.tmp {dump}; "
            "exec sleep 1000'\nstartsecs=0\n"
            "environment=COLOR=red#fff,GONE=1\n  ,KEPT=2\n")
    wait_until(lambda: dump.exists() or d.proc.poll() is not None, timeout=30,
               what="the child's environment dump")
    assert dump.exists(), d.stderr() + d.log()
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert env["COLOR"] == "red"
    assert "GONE" not in env
    assert env["KEPT"] == "2"
    if impl == "pidvisor":
        assert "'#fff,GONE=1' is dropped" in d.stderr()


def test_default_key_reaches_the_rpc_interface_and_fails_start_up(impl, run):
    d = run(impl, "[DEFAULT]\nstartsecs=0\n\n[program:a]\ncommand=sleep 1000\n", control=True)
    assert d.proc.wait(timeout=30) == 2
    err = d.stderr()
    if impl == "supervisord":
        assert "Could not make supervisor rpc interface" in err
    else:
        assert "startsecs: inherited from [DEFAULT]" in err
        assert "Could not make supervisor rpc interface" in err


def test_default_key_applies_without_an_rpc_interface(impl, run):
    d = run(impl, "[DEFAULT]\nstartsecs=0\n\n[program:a]\ncommand=sleep 1000\n")
    d.wait_log(r"success: a entered RUNNING state, process has stayed up for > than 0 seconds",
               timeout=30)


def test_log_file_names_are_expanded_twice(impl, run, tmp_path):
    """supervisord expands stdout_logfile and stderr_logfile twice (as [supervisord]
    environment): a literal % is written %%%%."""
    d = run(impl, "[program:a]\ncommand=/bin/sh -c 'echo out; echo err >&2; exec sleep 1000'\n"
            "startsecs=0\nstdout_logfile=%(here)s/out%%%%1.log\n"
            "stderr_logfile=%(here)s/err%%%%%(process_num)d.log\n")
    wait_until(lambda: (tmp_path / "out%1.log").exists() and (tmp_path / "err%0.log").exists()
               or d.proc.poll() is not None, timeout=30, what="both log files")
    assert (tmp_path / "out%1.log").exists(), d.stderr() + d.log()
    assert not (tmp_path / "out%%1.log").exists()
    wait_until(lambda: (tmp_path / "err%0.log").read_text() == "err\n", timeout=30,
               what="the stderr log")
