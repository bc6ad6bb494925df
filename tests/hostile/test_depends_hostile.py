"""Sizes that made PID 1 quadratic (depends_on chains, flapping dependencies, huge
environments) and clients that leave a start pending, against both builds as PID 1 of its own
namespace. Each test asserts only that pidvisor did not hang, with deadlines that linear work
meets many times over and the old quadratic work missed by far."""
import os
import subprocess
import time

from harness import wait_until


def ctl(build, d, *args, timeout=30):
    return subprocess.run([str(build), "ctl", "-c", str(d.conf_path), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_a_60000_entry_environment_spawns_fast_and_in_supervisords_order(run, build, tmp_path,
                                                                         monkeypatch):
    """Eight spawns of a program with 60,000 environment entries: each took 7 s (17 s on ASan)
    when every entry searched the ones before it."""
    n = 60000
    own = ",".join(f"E{i}={i}" for i in range(n))
    # a key set three times: pidvisor's own environment, then the program twice; the last wins
    monkeypatch.setenv("DUP", "daemon")
    monkeypatch.setenv("ONLY_DAEMON", "yes")
    conf = ("[program:big]\ncommand=sh -c 'env > %(here)s/env.%(process_num)d; "
            "exec sleep 1000'\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=8\n"
            f"startsecs=0\nenvironment=DUP=first,{own},DUP=last\n\n")
    d = run("pidvisor", conf, binary=build, control=True)
    files = [tmp_path / f"env.{i}" for i in range(8)]

    def written():
        return all(f.exists() and f.read_text().endswith("\n") and
                   f"E{n - 1}={n - 1}\n" in f.read_text() for f in files)
    wait_until(written, timeout=30, interval=0.2, what="eight children's environments")
    for f in files:
        env = dict(line.split("=", 1) for line in f.read_text().splitlines() if "=" in line)
        assert all(env.get(f"E{i}") == str(i) for i in range(n))
        assert env["DUP"] == "last"
        assert env["ONLY_DAEMON"] == "yes"
        assert env["SUPERVISOR_ENABLED"] == "1"
        assert env["SUPERVISOR_PROCESS_NAME"].startswith("big_")
    r = ctl(build, d, "status")
    assert r.returncode == 0 and r.stdout.count("RUNNING") == 8, r.stdout + r.stderr
