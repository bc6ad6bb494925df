#!/usr/bin/python3
"""Two pidvisor binaries on the log-throughput scenario, alternating (the order swaps on every
run), as root: CPU per 100 MB relayed and MB/s, median (min-max), and torn lines. For a change
to the relay: `bench/log_ab.py OLD NEW [RUNS]` (20 runs: about a minute on 2 cores)."""
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import log_scenario  # noqa: E402


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    bins = {"old": Path(sys.argv[1]).resolve(), "new": Path(sys.argv[2]).resolve()}
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 20
    benchlib.build_helper()
    res = {k: [] for k in bins}
    for run in range(runs):
        for k in (("old", "new") if run % 2 == 0 else ("new", "old")):
            benchlib.PIDVISOR = bins[k]
            res[k].append(log_scenario.one_supervisor("pidvisor", 3_000_000, 60))
    for k, samples in res.items():
        print(f"{k} ({bins[k]}): " + log_scenario.errors(samples) if log_scenario.errors(samples)
              else f"{k} ({bins[k]}):")
        for key, unit, scale in (("cpu_s_per_100mb", "ms CPU per 100 MB", 1000),
                                 ("mb_s", "MB/s", 1)):
            sp = log_scenario.spread(samples, key)
            if sp:
                print(f"  {sp[0] * scale:.1f} ({sp[1] * scale:.1f}-{sp[2] * scale:.1f}) {unit}")
        print(f"  torn lines: {sum(s['torn'] for s in log_scenario.good(samples))}")
    old, new = (log_scenario.summary(res[k], "cpu_s_per_100mb") for k in ("old", "new"))
    if old and new:
        print(f"new/old CPU per byte: {new / old:.2f} (medians of {runs} runs each)")


if __name__ == "__main__":
    main()
