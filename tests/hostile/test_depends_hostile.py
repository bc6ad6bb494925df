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


def chain(tmp_path, n, cycle=False):
    """[program:p0] .. [program:p<n-1>], each depending on the one before (p0 on the last one
    when cycle)."""
    parts = ["[supervisord]\nlogfile=%(here)s/main.log\n"]
    for i in range(n):
        dep = f"p{i - 1}" if i else (f"p{n - 1}" if cycle else "")
        parts.append(f"[program:p{i}]\ncommand=/bin/true\n" + (f"depends_on={dep}\n" if dep
                                                                  else ""))
    path = tmp_path / "chain.conf"
    path.write_text("\n".join(parts))
    return path


def test_a_50000_program_depends_on_chain_is_checked_in_linear_time(build, tmp_path):
    """20,000 took 30 s (68 s on ASan): the names were searched linearly for each item and each
    step of the cycle search. Linear, 50,000 take a few seconds even on ASan."""
    path = chain(tmp_path, 50000)
    r = subprocess.run([str(build), "-c", str(path), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert "OK" in r.stdout + r.stderr


def test_a_50000_program_cycle_is_found_without_overflowing_the_stack(build, tmp_path):
    path = chain(tmp_path, 50000, cycle=True)
    r = subprocess.run([str(build), "-c", str(path), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    # named at the line that closes it (the message elides the middle)
    assert "[program:p1] depends_on: a cycle: p1 -> " in out, out[-2000:]
    assert "-> p3 -> p2 -> p1\n" in out
    assert "AddressSanitizer" not in out


def test_flapping_dependencies_leave_ctl_answering(run, build, tmp_path):
    """20 programs exiting as soon as they start, 2,000 programs waiting on all of them: every
    state change looked at every program, and each of those at every program again (with 1,000 of them
    ctl took 30 s to get in on the release build). Now a change visits its dependents only."""
    flappers = [f"f{i}" for i in range(20)]
    conf = "".join(f"[program:{f}]\ncommand=/bin/false\nstartsecs=0\nautorestart=true\n\n"
                   for f in flappers)
    # exit 1 is not expected: the dependents wait for ever, looked at on every change
    waits = ",".join(f"{f}:completed" for f in flappers)
    conf += "".join(f"[program:d{j}]\ncommand=sleep 1000\ndepends_on={waits}\n\n"
                    for j in range(2000))
    d = run("pidvisor", conf, binary=build, control=True)
    d.wait_log(r"exited: f19 \(exit status 1; not expected\)", count=3, timeout=60)
    for _ in range(3):
        start = time.monotonic()
        r = ctl(build, d, "status", "f0", timeout=60)
        took = time.monotonic() - start
        assert "f0" in r.stdout, r.stdout + r.stderr
        assert took < 30, f"ctl status took {took:.1f} s"
