"""Hostile %(name)s expansions (issue 11), in both builds: a value that would expand past the
2 MiB cap is a FILE:LINE config error, found at once and at a small cost, and nothing starts;
a large value under the cap still works."""
import os
import time

from harness import wait_until

BOMB = "%(process_num)99999d" * 2000  # 2,000 x 99,999 bytes: 190 MiB if it were built


def wait4(proc, timeout):
    """Reaps a Popen's process: (exit status, its peak RSS in KiB)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss
        if time.monotonic() > deadline:
            raise AssertionError(f"still running after {timeout}s")
        time.sleep(0.02)


def test_expansion_bomb_is_a_config_error(run, build):
    d = run("pidvisor", f"[program:bomb]\ncommand=/bin/echo {BOMB}\n", pid1=False,
            binary=build)
    status, rss = wait4(d.proc, timeout=20)
    line = d.conf_path.read_text().splitlines().index(f"command=/bin/echo {BOMB}") + 1
    err = d.stderr()
    assert status == 2, err
    assert err.startswith(f"{d.conf_path}:{line}: [program:bomb] command: expands to more "
                          "than 2 MiB (2097152 bytes), the limit for one value\n"), err[:300]
    assert "nothing was started" in err
    # the old expander built all of it first: 390 MiB peak, and then it ran
    assert rss < 100 * 1024, f"peak RSS {rss} KiB"


def test_a_large_value_under_the_cap_works(run, build, tmp_path):
    d = run("pidvisor", "[program:big]\ncommand=/bin/sh -c 'echo ${#PAD} > %(here)s/len'\n"
            "environment=PAD=\"%(process_num)065000d\"\nstartsecs=0\nautorestart=false\n",
            pid1=False, binary=build)
    length = tmp_path / "len"
    wait_until(lambda: length.exists() and length.read_text().strip(), timeout=20,
               what="the program to report $PAD's length")
    assert length.read_text() == "65000\n"
    assert d.stop() == 0
