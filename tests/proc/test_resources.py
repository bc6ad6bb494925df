"""Resources per program as PID 1 of a PID namespace: CPU, memory, fds and threads of a
program's whole process tree in getProcessInfo and /metrics."""
from harness import Daemon, free_port, scrape_metrics, unix_proxy, wait_until

MB = 1024 * 1024

# A parent that holds about 40 MB and a child that holds about 40 MB more, both idle: the tree's
# RSS is above 80 MB, the parent's alone below 50.
TREE_PY = ("import os, time\n"
           "b = bytearray(40 * 1024 * 1024)\n"
           "for i in range(0, len(b), 4096): b[i] = 1\n"
           "os.fork()\n"
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
            return info if info.get("processes") == 2 and info["rss_bytes"] > 80 * MB else None
        info = wait_until(grown, timeout=60, what="tree's two processes and their memory")
        assert info["statename"] == "RUNNING"
        assert isinstance(info["cpu_seconds"], float) and info["cpu_seconds"] >= 0
        assert 80 * MB < info["rss_bytes"] < 1024 * MB
        assert 0 < info["pss_bytes"] <= info["rss_bytes"]
        assert info["fds"] >= 6 and info["threads"] >= 2
        plain = wait_until(lambda: (lambda i: i if i["statename"] == "RUNNING" else None)(
            px.supervisor.getProcessInfo("plain")), timeout=30, what="plain running")
        assert plain["processes"] == 1 and plain["threads"] == 1 and plain["fds"] >= 3
        assert "rss_bytes" not in px.supervisor.getProcessInfo("idle")  # not running
        fams = scrape_metrics(port)
        rss = {s.labels["name"]: s.value for s in fams["pidvisor_process_resident_bytes"].samples}
        assert rss["tree"] > 80 * MB and 0 < rss["plain"] < 80 * MB and "idle" not in rss
        cpu = {s.labels["name"]: s.value for s in fams["pidvisor_process_cpu_seconds"].samples}
        assert fams["pidvisor_process_cpu_seconds"].type == "counter" and cpu["tree"] >= 0
        fds = {s.labels["name"]: s.value for s in fams["pidvisor_process_open_fds"].samples}
        threads = {s.labels["name"]: s.value for s in fams["pidvisor_process_threads"].samples}
        assert fds["plain"] >= 3 and threads["plain"] == 1 and threads["tree"] >= 2
    finally:
        d.close()


def test_members_only_with_process_resources(run, tmp_path):
    """By default getProcessInfo stays supervisord's; /metrics has every running program's."""
    port = free_port()
    d = run("pidvisor", f"[inet_http_server]\nport=127.0.0.1:{port}\n\n"
            "[program:plain]\ncommand=sleep 1000\nstartsecs=0\n", control=True)
    px = control(d)
    info = wait_until(lambda: (lambda i: i if i["statename"] == "RUNNING" else None)(
        px.supervisor.getProcessInfo("plain")), timeout=30, what="plain running")
    assert not {"cpu_seconds", "rss_bytes", "pss_bytes", "fds", "threads", "processes"} & set(info)
    threads = {s.labels["name"]: s.value
               for s in scrape_metrics(port)["pidvisor_process_threads"].samples}
    assert threads == {"plain": 1}
