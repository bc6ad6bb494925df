"""Hostile %(name)s expansions (issue 11), in both builds: a value that would expand past the
2 MiB cap is a FILE:LINE config error, found at once and at a small cost, and nothing starts;
a large value under the cap still works."""
from harness import BUILDS, wait_until

BOMB = "%(process_num)99999d" * 2000  # 2,000 x 99,999 bytes: 190 MiB if it were built


def test_expansion_bomb_is_a_config_error(run, build):
    # The release build gets 64 MiB of address space: the expander before the cap built all
    # 190 MiB and died there. (ASan needs terabytes of address space for its shadow, so it
    # runs unlimited; a wait4() peak RSS would not do either, it counts pytest's own pages.)
    limit = ["prlimit", f"--as={64 << 20}"] if build == BUILDS["release"] else []
    d = run("pidvisor", f"[program:bomb]\ncommand=/bin/echo {BOMB}\n", pid1=False,
            binary=build, wrap=limit)
    status = d.proc.wait(timeout=20)
    line = d.conf_path.read_text().splitlines().index(f"command=/bin/echo {BOMB}") + 1
    err = d.stderr()
    assert status == 2, err
    assert err.startswith(f"{d.conf_path}:{line}: [program:bomb] command: expands to more "
                          "than 2 MiB (2097152 bytes), the limit for one value\n"), err[:300]
    assert "nothing was started" in err


def test_a_large_value_under_the_cap_works(run, build, tmp_path):
    d = run("pidvisor", "[program:big]\ncommand=/bin/sh -c 'echo ${#PAD} > %(here)s/len'\n"
            "environment=PAD=\"%(process_num)065000d\"\nstartsecs=0\nautorestart=false\n",
            pid1=False, binary=build)
    length = tmp_path / "len"
    wait_until(lambda: length.exists() and length.read_text().strip(), timeout=20,
               what="the program to report $PAD's length")
    assert length.read_text() == "65000\n"
    assert d.stop() == 0
