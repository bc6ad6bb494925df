"""memory_max and cpu_max enforced by the kernel in a cgroup per program, as PID 1 of a PID
namespace, on both builds: each test makes a fresh cgroup v1 memory and cpu cgroup under this
process's own (from /proc/self/cgroup and mountinfo) and starts pidvisor in it. Without a
writable cgroup (every cgroup mount read-only in pidvisor's mount namespace) pidvisor says so
once per limit and polls memory_max as before."""
import os
import re
import time
import uuid
from pathlib import Path

import psutil
import pytest

from harness import GROW_PY, READ_ONLY_CGROUPS, Daemon, wait_until

MB = 1024 * 1024

def own_v1_dir(controller):
    """This process's cgroup directory in the v1 hierarchy of controller, or None."""
    path = None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, p = line.split(":", 2)
        if controller in names.split(","):
            path = p
    if path is None:
        return None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, right = line.split(" - ", 1)
        fields, (fstype, _, opts) = left.split(), right.split()[:3]
        root, point = fields[3], fields[4].replace("\\040", " ")
        if fstype != "cgroup" or controller not in opts.split(","):
            continue
        if root == "/":
            return point + (path if path != "/" else "")
        if path == root or path.startswith(root + "/"):
            return point + path[len(root):]
    return None


@pytest.fixture
def cgroups():
    """Fresh v1 memory and cpu cgroups for one pidvisor; removed afterwards, their processes
    moved out first."""
    made = {}
    for c in ("memory", "cpu"):
        own = own_v1_dir(c)
        if own is None or not os.access(own, os.W_OK):
            for d in made.values():
                d.rmdir()
            pytest.skip(f"no writable cgroup v1 {c} hierarchy for this process "
                        f"({own or 'not in /proc/self/cgroup or mountinfo'})")
        made[c] = Path(own) / f"pidvisor-test-{uuid.uuid4().hex[:8]}"
        made[c].mkdir()
    yield made
    for d in made.values():
        for sub in [*sorted(d.glob("program-*")), d]:
            for pid in (sub / "cgroup.procs").read_text().split():
                try:
                    (d.parent / "cgroup.procs").write_text(pid)
                except OSError:
                    pass  # gone meanwhile
            sub.rmdir()


def in_cgroups(cg):
    """pidvisor joins them before it execs (as PID 1 of the namespace: "0" is itself)."""
    joins = " && ".join(f"echo 0 > {d}/cgroup.procs" for d in cg.values())
    return ["sh", "-c", f"{joins} && exec \"$@\"", "sh"]


def daemon(tmp_path, build, conf, wrap):
    return Daemon("pidvisor", tmp_path, conf, binary=build, wrap=wrap)


def test_memory_max_is_the_cgroups_and_an_oom_kill_restarts(tmp_path, build, cgroups):
    (tmp_path / "grow.py").write_text(GROW_PY)
    # stubborn: on_memory=restart starts it again where autorestart would not
    d = daemon(tmp_path, build, f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\n"
               "startsecs=0\nmemory_max=64MB\n\n"
               f"[program:stubborn]\ncommand=python3 {tmp_path}/grow.py\nstartsecs=0\n"
               "autorestart=false\nmemory_max=64MB\n", in_cgroups(cgroups))
    program = cgroups["memory"] / "program-grow"
    try:
        d.wait_log(r"memory_max of 'grow' enforced by the kernel \(cgroup v1 memory\)")
        d.wait_log(r"spawned: 'grow'")
        assert (program / "memory.limit_in_bytes").read_text().strip() == str(64 * MB)
        d.wait_log(r"exited: grow \(terminated by SIGKILL; not expected\)", timeout=60)
        d.wait_log(r"grow was killed by the kernel's OOM killer in its cgroup, at "
                   r"memory_max=64MB \(on_memory=restart\)", timeout=60)
        d.wait_log(r"spawned: 'grow'", count=2, timeout=60)
        d.wait_log(r"stubborn was killed by the kernel's OOM killer", timeout=60)
        d.wait_log(r"spawned: 'stubborn'", count=2, timeout=60)
        # pidvisor itself is unharmed, and stays in its own cgroup, outside the program's
        assert d.proc.poll() is None
        assert "checked once a second" not in d.log()
        assert "RSS of" not in d.log()  # nothing polled
        assert int(program.joinpath("memory.oom_control").read_text().split()[-1]) >= 1
    finally:
        d.stop(timeout=60)
        d.close()
    assert d.proc.returncode == 0, d.stderr()
    assert not program.exists() and not list(cgroups["memory"].glob("program-*"))


def test_oom_kill_with_on_memory_shutdown_stops_pidvisor(tmp_path, build, cgroups):
    (tmp_path / "grow.py").write_text(GROW_PY)
    d = daemon(tmp_path, build, f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\n"
               "startsecs=0\nmemory_max=64MB\non_memory=shutdown\n\n"
               "[program:other]\ncommand=sleep 1000\nstartsecs=0\n", in_cgroups(cgroups))
    try:
        d.wait_log(r"grow was killed by the OOM killer and has on_memory=shutdown: stopping "
                   r"everything; pidvisor will exit 1", timeout=60)
        assert d.proc.wait(timeout=60) == 1
        assert not (cgroups["memory"] / "program-grow").exists()
    finally:
        d.close()


def test_two_pidvisors_from_one_cgroup_keep_their_programs_apart(tmp_path, build, cgroups):
    """Two pidvisors started from one cgroup, not PID 1 (a shell, a CI job, one service on a
    host), each with a program 'grow' with its own memory_max: each program's cgroup is its own
    pidvisor's (program-grow@<pid>), with its limit and its process only, and goes when that
    pidvisor exits while the other's stays. Before, both were in one program-grow, under the
    limit written last, and the first to exit left it behind ("the cgroup of grow stays")."""
    limits = {"a": 64 * MB, "b": 1024 * MB}
    ds = {}
    try:
        for n, limit in limits.items():
            (tmp_path / n).mkdir()
            ds[n] = Daemon("pidvisor", tmp_path / n,
                           f"[program:grow]\ncommand=sleep 1000\nstartsecs=0\n"
                           f"memory_max={limit // MB}MB\n", pid1=False, binary=build,
                           wrap=in_cgroups(cgroups))
        pids = {n: d.program_pid("grow") for n, d in ds.items()}
        shared = cgroups["memory"] / "program-grow"
        assert not shared.exists(), ("one cgroup for both pidvisors' grow, holding "
                                     f"{(shared / 'cgroup.procs').read_text().split()}")
        for n, d in ds.items():
            own = cgroups["memory"] / f"program-grow@{d.proc.pid}"
            assert (own / "cgroup.procs").read_text().split() == [str(pids[n])], n
            assert (own / "memory.limit_in_bytes").read_text().strip() == str(limits[n]), n
        assert len(list(cgroups["memory"].glob("program-*"))) == 2
        a_dir = cgroups["memory"] / f"program-grow@{ds['a'].proc.pid}"
        b_dir = cgroups["memory"] / f"program-grow@{ds['b'].proc.pid}"
        assert ds["a"].stop(timeout=60) == 0, ds["a"].stderr()
        assert not a_dir.exists() and "stays" not in ds["a"].log(), ds["a"].log()
        assert (b_dir / "cgroup.procs").read_text().split() == [str(pids["b"])]
    finally:
        for d in ds.values():
            d.stop(timeout=60)
    assert not list(cgroups["memory"].glob("program-*"))


def test_cpu_max_is_the_cgroups_quota(tmp_path, build, cgroups):
    d = daemon(tmp_path, build, "[program:spin]\ncommand=python3 -c 'while True: pass'\n"
               "startsecs=0\ncpu_max=0.2\n\n"
               "[program:half]\ncommand=sleep 1000\nstartsecs=0\ncpu_max=50%\n",
               in_cgroups(cgroups))
    spin, half = cgroups["cpu"] / "program-spin", cgroups["cpu"] / "program-half"
    try:
        d.wait_log(r"cpu_max of 'spin' enforced by the kernel \(cgroup v1 cpu\)")
        pid = d.program_pid("spin")
        wait_until(lambda: str(pid) in (spin / "cgroup.procs").read_text().split(),
                   timeout=30, what="spin in its cgroup")
        assert (spin / "cpu.cfs_quota_us").read_text().strip() == "20000"
        assert (spin / "cpu.cfs_period_us").read_text().strip() == "100000"
        d.wait_log(r"spawned: 'half'")
        wait_until(lambda: (half / "cpu.cfs_quota_us").exists(), what="half's cgroup")
        assert (half / "cpu.cfs_quota_us").read_text().strip() == "50000"
        # no memory_max: no memory cgroup for either
        assert not list(cgroups["memory"].glob("program-*"))
        # its CPU time over at least 3 s of wall time: at most 0.2 CPU, 0.5 allowed for slack
        proc = psutil.Process(pid)
        t0, c0 = time.monotonic(), sum(proc.cpu_times()[:2])
        wait_until(lambda: time.monotonic() - t0 >= 3, timeout=60, interval=0.1,
                   what="a measuring window")
        used = (sum(proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0)
        assert 0 < used <= 0.5, used
    finally:
        d.stop(timeout=60)
        d.close()
    assert not spin.exists() and not half.exists()


def test_without_a_writable_cgroup_memory_max_is_polled(tmp_path, build):
    (tmp_path / "grow.py").write_text(GROW_PY)
    d = daemon(tmp_path, build, f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\n"
               "startsecs=0\nmemory_max=64MB\n\n"
               "[program:spin]\ncommand=sleep 1000\nstartsecs=0\ncpu_max=0.5\n",
               READ_ONLY_CGROUPS)
    try:
        d.wait_log(r"memory_max of 'grow' checked once a second \(no writable cgroup: .*"
                   r"Read-only file system\)")
        d.wait_log(r"WARN cpu_max of 'spin' is not enforced \(no writable cgroup: .*\); only a "
                   r"cgroup can limit CPU")
        d.wait_log(r"restarting grow: it uses [\d.]+ MB of memory \(RSS of 1 process\), over "
                   r"memory_max=64MB \(on_memory=restart\)", timeout=60)
        d.wait_log(r"spawned: 'grow'", count=2, timeout=60)
        log = d.log()
        assert len(re.findall(r"memory_max of 'grow' checked once a second", log)) == 1
        assert len(re.findall(r"cpu_max of 'spin' is not enforced", log)) == 1
        assert "OOM killer" not in log
    finally:
        d.close()
