"""A private Docker engine for the container tests, and the containers they run in it.

dockerd runs on its own socket, exec root and pidfile (fresh per session, under /run), with a
data root that persists (DATA_ROOT) so the base image and the stack images' layers are cached
between runs. No bridge, no iptables: builds use the host's network (apt reaches Debian's
mirror), containers run with --network none and are tested from inside with docker exec."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import terminate

ROOT = Path(__file__).resolve().parent.parent.parent
DATA_ROOT = Path(os.environ.get("PIDVISOR_DOCKER_ROOT", "/var/lib/pidvisor-test/docker"))
BASE_IMAGE = "debian:bookworm"
# Every image and container the tests make is named under this prefix.
PREFIX = "pidvisor-test"


class EngineError(Exception):
    pass


def _answers(sock):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(str(sock))
        return True
    except OSError:
        return False
    finally:
        s.close()


def unmount_under(directory):
    """Lazily unmounts everything mounted below directory (deepest first)."""
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f]
    for m in reversed(mounts):
        if m.startswith(f"{directory}/"):
            subprocess.run(["umount", "-l", m], check=False)


def clear_dead_engines(keep, quiet_for=120):
    """Removes what an engine of an earlier run left under /run when that run was killed before
    stop(): its exec root keeps overlay network namespaces mounted, and a namespace that is
    never freed keeps its vxlan device, so a swarm network given the same VNI later fails with
    "error creating vxlan interface: file exists". An engine counts as dead when its socket
    does not answer and its log has been quiet for quiet_for seconds (one still starting has
    a fresh log)."""
    for d in Path("/run").glob("pvd-*"):
        if d == keep or not d.is_dir():
            continue
        log = d / "dockerd.log"
        try:
            quiet = time.time() - (log if log.exists() else d).stat().st_mtime
        except FileNotFoundError:
            continue
        if _answers(d / "docker.sock") or quiet < quiet_for:
            continue
        unmount_under(d)
        shutil.rmtree(d, ignore_errors=True)


class Engine:
    def __init__(self):
        self.run_dir = Path(tempfile.mkdtemp(prefix="pvd-", dir="/run"))
        self.sock = self.run_dir / "docker.sock"
        self.log_path = self.run_dir / "dockerd.log"
        self.host = f"unix://{self.sock}"
        self.proc = None

    def start(self, timeout=60.0):
        clear_dead_engines(keep=self.run_dir)
        DATA_ROOT.mkdir(parents=True, exist_ok=True)
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise EngineError("dockerd is not installed (packaging/install-deps.sh image)")
        cmd = [dockerd, "--host", self.host, "--data-root", str(DATA_ROOT),
               "--exec-root", str(self.run_dir / "exec"),
               "--pidfile", str(self.run_dir / "docker.pid"),
               "--bridge=none", "--iptables=false", "--ip6tables=false",
               "--log-level=warn"]
        # a swarm task would otherwise ask the registry for its image before using the local
        # one (the tests' images are only local; nothing may leave the machine)
        env = {**os.environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise EngineError(f"dockerd exited with status {self.proc.returncode}; "
                                  f"its log:\n{self.log()}")
            if self.sock.exists() and self.answers():
                return
            if time.monotonic() > deadline:
                raise EngineError(f"dockerd not answering after {timeout}s; its log:\n"
                                  + self.log())
            time.sleep(0.2)

    def answers(self):
        try:
            return self.docker("version", check=False, timeout=10).returncode == 0
        except EngineError:
            return False

    def stop(self):
        if self.proc is not None:
            terminate(self.proc, 30)
        # dockerd leaves its exec root's netns/default mounted (--bridge=none or not)
        unmount_under(self.run_dir)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except FileNotFoundError:
            return ""

    def env(self):
        return {**os.environ, "DOCKER_HOST": self.host}

    def docker(self, *args, check=True, timeout=120, input_bytes=None):
        try:
            r = subprocess.run(["docker", *args], env=self.env(), capture_output=True,
                               timeout=timeout, input=input_bytes)
        except subprocess.TimeoutExpired:
            raise EngineError(f"docker {' '.join(args)}: no answer in {timeout}s") from None
        r.stdout = r.stdout.decode(errors="replace")
        r.stderr = r.stderr.decode(errors="replace")
        if check and r.returncode != 0:
            raise EngineError(f"docker {' '.join(args)}: exit {r.returncode}\n"
                              f"{r.stdout[-4000:]}{r.stderr[-4000:]}")
        return r

    def out(self, *args, **kw):
        return self.docker(*args, **kw).stdout.strip()

    def image_exists(self, tag):
        return self.docker("image", "inspect", tag, check=False).returncode == 0

    def build(self, context, tag, timeout=600):
        return self.docker("build", "--network", "host", "-t", tag, str(context),
                           timeout=timeout)

    def start_container(self, image, name, *args, cmd=()):
        """docker run -d --network none [ARGS] IMAGE [CMD]; the container is removed by
        remove()."""
        self.docker("rm", "-f", name, check=False)
        cid = self.out("run", "-d", "--network", "none", "--name", name, *args, image, *cmd)
        return Container(self, cid, name)

    def build_with_static(self, static_binary, context, tag, files, steps):
        """Builds tag FROM the base image with the static pidvisor as /usr/bin/pidvisor, then
        steps (Dockerfile lines) on a context of files ({name: text})."""
        (context / "pidvisor").write_bytes(static_binary.read_bytes())
        (context / "pidvisor").chmod(0o755)
        for name, text in files.items():
            (context / name).write_text(text)
        (context / "Dockerfile").write_text(
            f"FROM {BASE_IMAGE}\nCOPY pidvisor /usr/bin/pidvisor\n{steps}")
        self.build(context, tag)
        return tag

    def prune(self):
        """Drops the images left dangling by rebuilds; tagged images (the cache) stay."""
        self.docker("image", "prune", "-f", check=False, timeout=300)


class Container:
    def __init__(self, engine, cid, name):
        self.engine = engine
        self.id = cid
        self.name = name

    def exec(self, *cmd, check=True, timeout=60, user=None):
        args = ["exec"] + (["-u", user] if user else []) + [self.id, *cmd]
        return self.engine.docker(*args, check=check, timeout=timeout)

    def sh(self, script, **kw):
        return self.exec("sh", "-c", script, **kw).stdout

    def inspect(self):
        return json.loads(self.engine.out("inspect", self.id))[0]

    def logs(self):
        r = self.engine.docker("logs", self.id, check=False)
        return r.stdout + r.stderr

    def status(self):
        """{program: (statename, pid)} from `pidvisor ctl status --json` inside."""
        rows = json.loads(self.exec("pidvisor", "ctl", "status", "--json", check=False).stdout
                          or "[]")
        return {r["namespec"]: (r["statename"], r["pid"]) for r in rows}

    def wait_running(self, names, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if all(st.get(n, ("",))[0] == "RUNNING" for n in names):
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"not all of {names} RUNNING after {timeout}s: {st}\n"
                                     f"docker logs:\n{self.logs()[-4000:]}")
            time.sleep(0.3)

    def wait_health(self, want="healthy", timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            health = self.inspect()["State"].get("Health") or {}
            if health.get("Status") == want:
                return time.monotonic() - (deadline - timeout)
            if time.monotonic() > deadline:
                raise AssertionError(f"health {health.get('Status')!r}, not {want!r}, after "
                                     f"{timeout}s; probes: {health.get('Log')}")
            time.sleep(0.3)

    def stop(self, grace=60):
        """docker stop; returns (seconds it took, the container's exit code). The grace is long
        so that a busy machine never reaches docker's SIGKILL: a prompt stop is shown by the
        exit code and by stop_was_clean(), its time belongs in bench/."""
        t0 = time.monotonic()
        self.engine.docker("stop", "-t", str(grace), self.id, timeout=grace + 30)
        took = time.monotonic() - t0
        return took, self.inspect()["State"]["ExitCode"]

    def stop_was_clean(self):
        """Every program stopped on the signal pidvisor sent it: none needed a SIGKILL."""
        return stopped_on_signal(self.logs())

    def remove(self):
        self.engine.docker("rm", "-f", self.id, check=False)


def stopped_on_signal(logs):
    """No program (or leftover) needed SIGKILL, which pidvisor logs as `... with SIGKILL`."""
    return "with SIGKILL" not in logs


def stopped_order(logs):
    """Program names in the order pidvisor logged `stopped: NAME (...)`."""
    return re.findall(r"\bstopped: (\S+) \(", logs)
