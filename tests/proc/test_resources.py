"""Resources per program as PID 1 of a PID namespace: CPU, memory, fds and threads of a
program's whole process tree in getProcessInfo and /metrics; memory_max with on_memory=restart,
=shutdown and =none, polled (pidvisor without a writable cgroup: test_cgroup.py has the kernel's
side); a bad memory_max or cpu_max refused at start-up and by --check-config."""
import subprocess

from harness import (GROW_PY, PIDVISOR, READ_ONLY_CGROUPS, Daemon, free_port, scrape_metrics,
                     unix_proxy, wait_until)

MB = 1024 * 1024

# A parent that holds about 40 MB, and three descendants that share it (two children, one of
# them with a child of its own), all idle: the tree's RSS, summed, is above 160 MB, the
# parent's alone below 60.
TREE_PY = ("import os, time\n"
           "b = bytearray(40 * 1024 * 1024)\n"
           "for i in range(0, len(b), 4096): b[i] = 1\n"
           "if os.fork() == 0:\n"
           "    os.fork()\n"
           "else:\n"
           "    os.fork()\n"
           "time.sleep(1000)\n")


def control(d):
    wait_until(lambda: d.sock.exists() or d.proc.poll() is not None, timeout=60, what="socket")
    assert d.proc.poll() is None, d.stderr()
    return unix_proxy(d.sock)


class WithResources(Daemon):
    """A daemon whose [supervisord] has process_resources=true."""

    def header(self):
        return super().header().replace("[supervisord]\n",
                                        "[supervisord]\nprocess_resources=true\n", 1)


def test_process_info_and_metrics_count_the_tree(tmp_path):
    (tmp_path / "tree.py").write_text(TREE_PY)
    port = free_port()
    d = WithResources("pidvisor", tmp_path,
                      f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
                      f"[program:tree]\ncommand=python3 {tmp_path}/tree.py\nstartsecs=0\n\n"
                      "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n\n"
                      "[program:idle]\ncommand=sleep 1000\nautostart=false\n", control=True)
    try:
        px = control(d)

        def grown():
            info = px.supervisor.getProcessInfo("tree")
            return info if info.get("processes") == 4 and info["rss_bytes"] > 160 * MB else None
        info = wait_until(grown, timeout=60, what="tree's four processes and their memory")
        assert info["statename"] == "RUNNING"
        assert isinstance(info["cpu_seconds"], float) and info["cpu_seconds"] >= 0
        assert 160 * MB < info["rss_bytes"] < 1024 * MB
        assert 0 < info["pss_bytes"] < info["rss_bytes"] / 2  # the shared 40 MB counted once
        assert info["fds"] >= 12 and info["threads"] >= 4
        plain = wait_until(lambda: (lambda i: i if i["statename"] == "RUNNING" else None)(
            px.supervisor.getProcessInfo("plain")), timeout=30, what="plain running")
        assert plain["processes"] == 1 and plain["threads"] == 1 and plain["fds"] >= 3
        assert "rss_bytes" not in px.supervisor.getProcessInfo("idle")  # not running
        fams = scrape_metrics(port)
        rss = {s.labels["name"]: s.value for s in fams["pidvisor_process_resident_bytes"].samples}
        assert rss["tree"] > 160 * MB and 0 < rss["plain"] < 80 * MB and "idle" not in rss
        cpu = {s.labels["name"]: s.value for s in fams["pidvisor_process_cpu_seconds"].samples}
        assert fams["pidvisor_process_cpu_seconds"].type == "counter" and cpu["tree"] >= 0
        fds = {s.labels["name"]: s.value for s in fams["pidvisor_process_open_fds"].samples}
        threads = {s.labels["name"]: s.value for s in fams["pidvisor_process_threads"].samples}
        assert fds["plain"] >= 3 and threads["plain"] == 1 and threads["tree"] >= 4
    finally:
        d.close()


def test_members_only_with_memory_max_or_process_resources(run, tmp_path):
    """By default getProcessInfo stays supervisord's: only a program with memory_max has the
    resource members, and only its series are in /metrics."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
            "[program:capped]\ncommand=sleep 1000\nstartsecs=0\nmemory_max=1GB\n\n"
            "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n", control=True,
            wrap=READ_ONLY_CGROUPS)
    px = control(d)
    wait_until(lambda: all(i["statename"] == "RUNNING" for i in px.supervisor.getAllProcessInfo()),
               timeout=30, what="both running")
    infos = {i["name"]: i for i in px.supervisor.getAllProcessInfo()}
    assert infos["capped"]["processes"] == 1 and infos["capped"]["rss_bytes"] > 0
    assert not {"cpu_seconds", "rss_bytes", "pss_bytes", "fds", "threads",
                "processes"} & set(infos["plain"])
    threads = {s.labels["name"]: s.value
               for s in scrape_metrics(port)["pidvisor_process_threads"].samples}
    assert threads == {"capped": 1}


def test_memory_max_restarts_the_program(run, tmp_path):
    (tmp_path / "grow.py").write_text(GROW_PY)
    d = run("pidvisor", f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\nstartsecs=0\n"
            "memory_max=100MB\n", wrap=READ_ONLY_CGROUPS)
    d.wait_log(r"restarting grow: it uses [\d.]+ MB of memory \(RSS of 1 process\), over "
               r"memory_max=100MB \(on_memory=restart\)", timeout=60)
    d.wait_log(r"stopped: grow \(terminated by SIGTERM\)", timeout=60)
    d.wait_log(r"spawned: 'grow'", count=2, timeout=60)


def test_memory_max_none_only_logs(run, tmp_path):
    (tmp_path / "grow.py").write_text(GROW_PY.replace("range(64)", "range(20)"))
    d = run("pidvisor", f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\nstartsecs=0\n"
            "memory_max=64MB\non_memory=none\n", control=True)
    d.wait_log(r"grow uses [\d.]+ MB of memory \(RSS of 1 process\), over memory_max=64MB "
               r"\(on_memory=none\)", timeout=60)
    px = control(d)
    # it keeps running: not stopped, not spawned again
    info = px.supervisor.getProcessInfo("grow")
    assert info["statename"] == "RUNNING" and info["rss_bytes"] > 64 * MB
    assert d.log().count("spawned: 'grow'") == 1 and "stopped: grow" not in d.log()


def test_memory_max_shutdown_stops_pidvisor(run, tmp_path):
    (tmp_path / "grow.py").write_text(GROW_PY)
    d = run("pidvisor", f"[program:grow]\ncommand=python3 {tmp_path}/grow.py\nstartsecs=0\n"
            "memory_max=64MB\non_memory=shutdown\n\n"
            "[program:other]\ncommand=sleep 1000\nstartsecs=0\n", wrap=READ_ONLY_CGROUPS)
    d.wait_log(r"grow uses [\d.]+ MB of memory .* \(on_memory=shutdown\): stopping "
               r"everything; pidvisor will exit 1", timeout=60)
    assert d.proc.wait(timeout=60) == 1


def test_bad_memory_max_is_a_config_error(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[supervisord]\n[program:web]\ncommand=sleep 1000\nmemory_max=lots\n")
    for args in (["--check-config"], ["-n"]):
        r = subprocess.run([PIDVISOR, "-c", str(conf), *args], capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
        out = r.stdout + r.stderr
        assert r.returncode == 2, out
        assert (f"{conf}:4: [program:web] memory_max: 'lots' is not a size" in out), out
        assert "spawned" not in out
    conf.write_text("[supervisord]\n[program:web]\ncommand=sleep 1000\non_memory=restart\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert f"{conf}:4: [program:web] on_memory: needs memory_max" in r.stdout + r.stderr
    conf.write_text("[supervisord]\n[program:web]\ncommand=sleep 1000\nmemory_max=1GB\n"
                    "on_memory=maybe\n")
    r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert f"{conf}:5: [program:web] on_memory: 'maybe' is not one of" in r.stdout + r.stderr



def test_bad_cpu_max_is_a_config_error(tmp_path):
    conf = tmp_path / "bad.conf"
    for value in ("lots", "-1", "0.001", "1e3", "0.5.1", "50%%", "1001"):
        conf.write_text(f"[supervisord]\n[program:web]\ncommand=sleep 1000\ncpu_max={value}\n")
        for args in (["--check-config"], ["-n"]):
            r = subprocess.run([PIDVISOR, "-c", str(conf), *args], capture_output=True,
                               text=True, timeout=30, cwd=tmp_path)
            out = r.stdout + r.stderr
            assert r.returncode == 2, out
            assert (f"{conf}:4: [program:web] cpu_max: '{value}' is not a number of CPUs from "
                    "0.01 to 1000" in out), out
            assert "spawned" not in out
    for value in ("0.5", "2", "50%", "150%", "0"):
        conf.write_text(f"[supervisord]\n[program:web]\ncommand=sleep 1000\ncpu_max={value}\n")
        r = subprocess.run([PIDVISOR, "-c", str(conf), "--check-config"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr


# A process leaves memory_max's count as soon as it leaves the tree. Cycle after cycle, the
# program P (small) forks S, S forks G and lives argv[3] seconds, 2 or more (a /proc pass sees
# P, S and G: the passes are at most a second apart), then exits; G, reparented to pidvisor and
# out of the tree, takes 64 MB, says so (P waits for that) and holds it 1.5 s. After the last
# cycle P waits 1.2 s, longer than a pass is kept, before it says it is done. P's tree never
# goes past 48 MB.
LEAVER_PY = ("import os, sys, time\n"
             "for cycle in range(int(sys.argv[2])):\n"
             "    s = os.fork()\n"
             "    if s == 0:\n"
             "        if os.fork() == 0:\n"
             "            parent = os.getppid()\n"
             "            while os.getppid() == parent: time.sleep(0.01)\n"
             "            b = bytearray(64 * 1024 * 1024)\n"
             "            for i in range(0, len(b), 4096): b[i] = 1\n"
             "            open(f'{sys.argv[1]}.{cycle}', 'w').close()\n"
             "            time.sleep(1.5)\n"
             "            os._exit(0)\n"
             "        time.sleep(float(sys.argv[3]))\n"
             "        os._exit(0)\n"
             "    os.waitpid(s, 0)\n"
             "    while not os.path.exists(f'{sys.argv[1]}.{cycle}'): time.sleep(0.01)\n"
             "time.sleep(1.2)\n"
             "open(sys.argv[1] + '.done', 'w').close()\n"
             "time.sleep(1000)\n")


def test_memory_max_counts_no_process_that_left_the_tree(run, tmp_path):
    """The /proc pass that tells a program's tree is kept a second for every reader; a memory_max
    check reads the memory now, and must not count a process that has left the tree since (gone,
    or reparented): before, a program whose child had exited was 'over' with the memory of the
    grandchild reparented away (or 'RSS of 3 processes' for a python3 behind a shell shim whose
    command substitutions had ended). Four such programs, each polled at its own phase, and a
    reader of getProcessInfo that keeps the pass a fresh one at another."""
    (tmp_path / "leaver.py").write_text(LEAVER_PY)
    names, cycles = [f"leaver{i}" for i in range(4)], 4
    conf = "".join(f"[program:{n}]\ncommand=python3 {tmp_path}/leaver.py {tmp_path}/{n} {cycles} "
                   f"{2 + 0.25 * i}\nstartsecs=0\nmemory_max=48MB\non_memory=none\n\n"
                   for i, n in enumerate(names))
    d = run("pidvisor", conf, control=True)
    px = control(d)

    def done():
        for n in names:
            px.supervisor.getProcessInfo(n)
        return all((tmp_path / f"{n}.done").exists() for n in names)
    wait_until(done, timeout=120, interval=0.05, what="every leaver's cycles")
    for n in names:  # each grandchild was reparented and took its 64 MB
        assert all((tmp_path / f"{n}.{c}").exists() for c in range(cycles)), n
    assert "over memory_max" not in d.log(), d.log()[-3000:]
    assert d.log().count("spawned: 'leaver") == 4
