"""make deb: a package that lintian passes with no errors, installed with dpkg in a clean
bookworm container (tests/docker's base image), where it runs the example config under the
supervisord name that update-alternatives gives it (as /etc/supervisor/supervisord.conf), and dpkg -r takes everything back."""
import re
import shutil
import subprocess

import pytest

from dockerharness import BASE_IMAGE, PREFIX, ROOT

VERSION = re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
IMAGE = f"{PREFIX}/deb-installed"
EXAMPLE = "/usr/share/doc/pidvisor/examples/supervisord.conf"

DOCKERFILE = f"""\
FROM {BASE_IMAGE}
COPY pidvisor.deb /tmp/
RUN dpkg -i /tmp/pidvisor.deb && rm /tmp/pidvisor.deb \\
 && mkdir -p /etc/supervisor && cp {EXAMPLE} /etc/supervisor/supervisord.conf
ENTRYPOINT ["supervisord"]
"""


@pytest.fixture(scope="module")
def deb():
    r = subprocess.run(["make", "-C", str(ROOT), "deb"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"make deb failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}"
    debs = list((ROOT / "build").glob(f"pidvisor_{VERSION}-1_*.deb"))
    assert len(debs) == 1, debs
    return debs[0], r.stdout + r.stderr


def test_lintian_finds_no_error(deb):
    path, make_output = deb
    assert "lintian --fail-on error" in make_output
    r = subprocess.run(["lintian", str(path)], capture_output=True, text=True)
    assert not [x for x in r.stdout.splitlines() if x.startswith("E:")], r.stdout
    fields = subprocess.run(["dpkg-deb", "-f", str(path)], capture_output=True, text=True,
                            check=True).stdout
    assert "Package: pidvisor\n" in fields and f"Version: {VERSION}-1\n" in fields
    assert re.search(r"^Built-Using: glibc \(= ", fields, re.M)
    files = subprocess.run(["dpkg-deb", "-c", str(path)], capture_output=True, text=True,
                           check=True).stdout
    for f in ["./usr/bin/pidvisor", "./usr/share/man/man8/pidvisor.8.gz",
              "./usr/share/man/man1/pidvisor-ctl.1.gz", f".{EXAMPLE}",
              "./usr/share/doc/pidvisor/copyright"]:
        assert f" {f}\n" in files + "\n", f
    # the names are the package's alternatives, never its files
    assert "/usr/bin/supervisord" not in files and "/usr/bin/supervisorctl" not in files


def test_installed_in_bookworm_runs_the_example(deb, docker_engine, containers, tmp_path):
    shutil.copy(deb[0], tmp_path / "pidvisor.deb")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    docker_engine.build(tmp_path, IMAGE)
    try:
        c = containers(IMAGE, f"{PREFIX}-deb")
        # the static binary: no dynamic loader named in it
        assert "not a dynamic executable" in c.exec("ldd", "/usr/bin/pidvisor",
                                                    check=False).stdout + \
            c.exec("ldd", "/usr/bin/pidvisor", check=False).stderr
        q = c.sh("update-alternatives --query supervisord")
        assert "Value: /usr/bin/pidvisor" in q and "Slaves:\n supervisorctl /usr/bin/pidvisor" in q
        assert c.sh("readlink -f /usr/bin/supervisord /usr/bin/supervisorctl").split() == \
            ["/usr/bin/pidvisor", "/usr/bin/pidvisor"]
        # PID 1 is the supervisord name, running the example config
        assert c.sh("cat /proc/1/cmdline").split("\0")[0] == "supervisord"
        c.wait_running(["hello"])
        r = c.exec("supervisorctl", "status", "hello")
        assert re.match(r"hello\s+RUNNING\s+pid \d+", r.stdout), r.stdout
        assert c.exec("pidvisor", "check", check=False).returncode == 0
        assert c.exec("test", "-f", "/usr/share/man/man8/pidvisor.8.gz",
                      check=False).returncode == 0
        # dpkg -r takes the alternatives with the package (PID 1 runs on from memory)
        c.exec("dpkg", "-r", "pidvisor")
        assert c.exec("update-alternatives", "--query", "supervisord",
                      check=False).returncode != 0
        left = c.sh("ls /usr/bin/pidvisor /usr/bin/supervisord /usr/bin/supervisorctl "
                    "/usr/share/man/man8/pidvisor.8.gz /usr/share/doc/pidvisor 2>&1; true")
        assert left.count("No such file or directory") == 5, left
        took, code = c.stop()
        assert code == 0, c.logs()[-3000:]
        assert took < 3, f"docker stop took {took:.1f}s"
        assert "hello from hello" in c.logs()
    finally:
        docker_engine.docker("rmi", "-f", IMAGE, check=False)
