"""The corpus differential test (issue 13): each of the 47 real-world configs in
the shared corpus (harness.CORPUS) runs under Debian's supervisord and under pidvisor (both
builds), each as PID 1 of its own namespaces in a private root where the config's programs are
stubs at their exact paths (corpus_setup.py, corpus_root.py). Compared, after the processes
settle: getAllConfigInfo struct by struct and member by member, getAllProcessInfo's names,
states and log files, and for every RUNNING child, from /proc: uid, gid, supplementary groups,
umask, cwd, argv, environment, ignored and blocked signals, open fds, process group, session,
the nofile and nproc limits, capabilities, no_new_privs, nice and oom_score_adj. Then every STOPPED (autostart=false) process is started, and its state
("started") and /proc are compared the same way.

The differences must be exactly corpus_expected.txt (config, program, field, supervisord's
value, pidvisor's value, tab-separated, then the reason): a new difference fails, and so does a
listed one that is gone. CORPUS_WRITE_EXPECTED=FILE writes what this run found, in that format,
with the reasons corpus_reasons.py knows. CORPUS_ONLY=01,17 runs those configs alone (and then
compares only their lines). `pytest -s` prints the table of differences even when it passes."""
import copy
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from corpus_compare import PROC_FIELDS, diff, key_line, parse_expected, run_case, table
from corpus_reasons import render_expected
from corpus_setup import ENV, HERE, build_sleeper, cases, env_names
from harness import BUILDS, SUPERVISORD, needs_corpus

pytestmark = needs_corpus

EXPECTED = HERE / "corpus_expected.txt"
# Configs that both supervisors refuse, with exit 2, for the same reason.
REFUSED_BY_BOTH = {
    "03-fcwu-ubuntu-vnc-desktop",  # user=%USER%: the placeholders are meant for sed
    "29-platform-service-sv2",     # numprocs=4 without %(process_num) in process_name
    "39-dnf-server",               # [supervisord] environment=ENVIRONMENT is no KEY=value
}
WORKERS = 12


def selected_cases():
    only = os.environ.get("CORPUS_ONLY")
    all_cases = cases()
    if not only:
        return all_cases
    wanted = set(only.split(","))
    return [c for c in all_cases if c.nn in wanted]


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory):
    """{impl: {config name: snapshot}} for supervisord and both pidvisor builds, run side by
    side (WORKERS at a time)."""
    for b in BUILDS.values():
        assert b.exists(), f"{b} is not built: make build/pidvisor build/asan/pidvisor"
    base = tmp_path_factory.mktemp("c")
    sleeper = build_sleeper(base / "sleeper")
    impls = {"supervisord": SUPERVISORD, **{k: v for k, v in BUILDS.items()}}
    short = {"supervisord": "sv", "asan": "as", "release": "rl"}
    jobs = [(c, impl) for c in selected_cases() for impl in impls]
    results = {impl: {} for impl in impls}

    def one(job):
        case, impl = job
        host = base / f"{case.nn}-{short[impl]}"
        kind = "supervisord" if impl == "supervisord" else "pidvisor"
        return case, impl, run_case(case, kind, impls[impl], host, sleeper)

    with ThreadPoolExecutor(WORKERS) as pool:
        for case, impl, snap in pool.map(one, jobs):
            results[impl][case.name] = snap
    yield results
    shutil.rmtree(base, ignore_errors=True)


def test_every_corpus_variable_has_a_value():
    assert env_names() - set(ENV) == set()


def differences(runs, build):
    rows = []
    by_name = {c.name: c for c in selected_cases()}
    for name, sv in sorted(runs["supervisord"].items()):
        pv = runs[build][name]
        rows += [(name, *d) for d in diff(sv, pv)]
    return rows, by_name


def refused_by_both(runs, build):
    return {name for name, sv in runs["supervisord"].items()
            if sv["daemon"] != "running" and runs[build][name]["daemon"] != "running"}


def summary(runs, build):
    """What was compared, and the configs that neither supervisor runs."""
    lines, compared, processes = [], 0, 0
    for name, sv in sorted(runs["supervisord"].items()):
        pv = runs[build][name]
        if sv["daemon"] != "running" and pv["daemon"] != "running":
            lines.append(f"  {name}: refused by both ({sv['daemon']}, {pv['daemon']})")
        elif sv["daemon"] == "running" and pv["daemon"] == "running":
            processes += len(sv["states"])
            compared += len(set(sv["proc"]) & set(pv["proc"]))
    return (f"{len(runs['supervisord'])} configs, {processes} processes, {compared} running "
            "under both compared from /proc\n" + "\n".join(lines))


def test_diff_sees_every_field():
    """diff() reports a change in any compared member, state or /proc field."""
    proc = {"uid": "0 0 0 0", "gid": "0 0 0 0", "groups": "", "umask": "0022", "cwd": "/",
            "argv": ["x"], "env": {"A": "1"}, "sigblk": "0", "sigign": "0", "fds": [0, 1, 2],
            "pgrp": "own", "session": "own", "nofile": "1024 1024", "nproc": "200 200",
            "caps": "0 0 0 0", "nonewprivs": "0", "nice": "0", "oom_score_adj": "0"}
    base = {"daemon": "running", "config": {"g:p": {"uid": 0}}, "states": {"g:p": "RUNNING"},
            "started": {}, "info": {"g:p": {"stdout_logfile": "", "stderr_logfile": ""}},
            "proc": {"g:p": proc}}
    assert diff(base, copy.deepcopy(base)) == []
    changes = {"uid": "0 1 0 0", "gid": "0 0 1 0", "groups": "0", "umask": "0027",
               "cwd": "/app", "argv": ["x", "y"], "sigblk": "2", "sigign": "1000",
               "fds": [0, 1, 2, 3], "pgrp": "another", "session": "that of pidvisor",
               "nofile": "4096 4096", "nproc": "unlimited unlimited", "caps": "0 1 1 0",
               "nonewprivs": "1", "nice": "5", "oom_score_adj": "-1000"}
    assert set(changes) == set(PROC_FIELDS)
    for field, value in changes.items():
        other = copy.deepcopy(base)
        other["proc"]["g:p"][field] = value
        assert [d[1] for d in diff(base, other)] == [field]
    other = copy.deepcopy(base)
    other["proc"]["g:p"]["env"]["B"] = "2"
    assert diff(base, other) == [("g:p", "env.B", "<absent>", '"2"')]
    other = copy.deepcopy(base)
    other["config"]["g:p"]["uid"] = "root"
    other["states"]["g:p"] = "FATAL"
    other["started"]["g:p"] = "fault 10"
    other["info"]["g:p"]["stdout_logfile"] = "/dev/stdout"
    assert [d[1] for d in diff(base, other)] == ["config.uid", "state", "info.stdout_logfile",
                                                 "started"]
    assert diff(base, dict(base, daemon="exit 2")) == [("-", "daemon", '"running"', '"exit 2"')]


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_corpus_against_supervisord(corpus_runs, build):
    rows, by_name = differences(corpus_runs, build)
    print(f"\n{summary(corpus_runs, build)}\n{len(rows)} differences, {build} build:\n"
          + table(rows))
    out = os.environ.get("CORPUS_WRITE_EXPECTED")
    if out:
        with open(out, "w") as f:
            f.write(render_expected(rows, by_name))
    expected = parse_expected(EXPECTED)
    if os.environ.get("CORPUS_ONLY"):
        expected = {k: v for k, v in expected.items() if k[0] in by_name}
    found = set(rows)
    new = sorted(found - set(expected))
    gone = sorted(set(expected) - found)
    problems = []
    if new:
        problems.append("new differences (not in corpus_expected.txt):\n"
                        + "\n".join(key_line(r) for r in new))
    if gone:
        problems.append("listed in corpus_expected.txt but gone (delete these lines):\n"
                        + "\n".join(key_line(r) for r in gone))
    refused = refused_by_both(corpus_runs, build)
    wanted = {n for n in REFUSED_BY_BOTH if n in by_name}
    if refused != wanted:
        problems.append(f"refused by both supervisors: {sorted(refused)}, not {sorted(wanted)}")
    if problems:
        failed = [f"{n} {impl}: {snap['daemon']}\n{snap['stderr']}\n{snap['log']}"
                  for impl in ("supervisord", build)
                  for n, snap in sorted(corpus_runs[impl].items())
                  if snap["daemon"] != "running"]
        pytest.fail("\n\n".join(problems) + "\n\ndaemons that did not run:\n"
                    + "\n".join(failed))
