"""make deb: a package that lintian passes with no error and no warning (but
initial-upload-closes-no-bugs), that takes Debian's supervisor package's place (Conflicts,
Replaces, Provides: supervisor; /usr/bin/supervisord and supervisorctl are its own symlinks to
pidvisor) and ships pidvisor-image with the Depends it links against. Installed with apt in a
clean bookworm container (tests/docker's base image) it runs the example config as supervisord;
installed with dpkg -i over supervisor it removes it, and runs on supervisor's left-over config; dpkg -r
takes everything back."""
import re
import shutil
import subprocess

import pytest

from dockerharness import BASE_IMAGE, PREFIX, ROOT

VERSION = re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
IMAGE = f"{PREFIX}/deb-installed"
OVER_SUPERVISOR = f"{PREFIX}/deb-over-supervisor"
EXAMPLE = "/usr/share/doc/pidvisor/examples/supervisord.conf"

APT = "apt-get -o Acquire::Retries=3 -y --no-install-recommends"

DOCKERFILE = f"""\
FROM {BASE_IMAGE}
COPY pidvisor.deb /tmp/
RUN apt-get update && {APT} install /tmp/pidvisor.deb && rm /tmp/pidvisor.deb \\
 && mkdir -p /etc/supervisor && cp {EXAMPLE} /etc/supervisor/supervisord.conf
ENTRYPOINT ["supervisord"]
"""

# supervisor first, as a machine that has it (and pidvisor-image's libraries); then dpkg -i,
# which removes supervisor in pidvisor's favour (Conflicts and Replaces). The program is in
# conf.d, read through the [include] of the /etc/supervisor/supervisord.conf that supervisor
# leaves (a conffile); its logs go to /var/log/supervisor (both empty, so removed with
# supervisor: pidvisor ships them).
DOCKERFILE_OVER = f"""\
FROM {BASE_IMAGE}
RUN apt-get update && {APT} install supervisor libyaml-0-2 libinih1
COPY pidvisor.deb /tmp/
RUN dpkg -i /tmp/pidvisor.deb >/root/dpkg-i.log 2>&1 || {{ cat /root/dpkg-i.log; exit 1; }}; \\
 rm /tmp/pidvisor.deb
COPY hello.conf /etc/supervisor/conf.d/
ENTRYPOINT ["supervisord", "-n"]
"""

HELLO = """\
[program:hello]
command=sh -c 'echo hello from hello; exec sleep 100000'
"""


@pytest.fixture(scope="module")
def deb():
    r = subprocess.run(["make", "-C", str(ROOT), "deb"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"make deb failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}"
    debs = list((ROOT / "build").glob(f"pidvisor_{VERSION}-1_*.deb"))
    assert len(debs) == 1, debs
    return debs[0], r.stdout + r.stderr


def dpkg_deb(*args):
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True,
                          check=True).stdout


def test_lintian_finds_nothing_but_the_initial_upload(deb):
    path, make_output = deb
    assert "lintian --fail-on error,warning" in make_output
    r = subprocess.run(["lintian", str(path)], capture_output=True, text=True)
    tags = [x for x in r.stdout.splitlines() if re.match(r"[EWX]: ", x)]
    assert [t.split()[2] for t in tags] == ["initial-upload-closes-no-bugs"], r.stdout


def test_man_page_names_are_their_files():
    # lintian's bad-whatis-entry: the NAME line starts with the page's own name
    for page in sorted((ROOT / "docs").glob("*.[18]")):
        lines = page.read_text().splitlines()
        name = lines[lines.index(".SH NAME") + 1]
        assert re.match(rf"{re.escape(page.stem)}(, [\w-]+)* \\- \S", name), (page.name, name)


def test_fields_and_files(deb):
    path, _ = deb
    fields = dpkg_deb("-f", str(path))
    assert "Package: pidvisor\n" in fields and f"Version: {VERSION}-1\n" in fields
    assert re.search(r"^Built-Using: glibc \(= ", fields, re.M)
    for f in ["Conflicts", "Replaces", "Provides"]:
        assert f"\n{f}: supervisor\n" in fields, fields
    # pidvisor-image's libraries, found by dpkg-shlibdeps
    depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
    for lib in ["libc6 (>= ", "libyaml-0-2", "libinih1"]:
        assert lib in depends, depends
    files = dpkg_deb("-c", str(path))
    for f in ["./usr/bin/pidvisor", "./usr/bin/pidvisor-image",
              "./usr/share/man/man8/pidvisor.8.gz", "./usr/share/man/man1/pidvisor-ctl.1.gz",
              "./usr/share/man/man1/pidvisor-check.1.gz",
              "./usr/share/man/man1/pidvisor-image.1.gz", f".{EXAMPLE}",
              "./usr/share/doc/pidvisor/copyright",
              "./usr/bin/supervisord -> pidvisor", "./usr/bin/supervisorctl -> pidvisor",
              "./usr/share/man/man8/supervisord.8.gz -> pidvisor.8.gz",
              "./usr/share/man/man1/supervisorctl.1.gz -> pidvisor-ctl.1.gz",
              "./usr/lib/pidvisor/pidvisor-static -> ../../bin/pidvisor",
              "./etc/supervisor/conf.d/", "./var/log/supervisor/"]:
        assert f" {f}\n" in files + "\n", f
    # no maintainer scripts: no alternatives to register any more
    assert not re.search(r"\b(postinst|prerm)\b", dpkg_deb("-I", str(path)))


def test_installed_in_bookworm_runs_the_example(deb, docker_engine, containers, tmp_path):
    shutil.copy(deb[0], tmp_path / "pidvisor.deb")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    docker_engine.build(tmp_path, IMAGE)
    try:
        c = containers(IMAGE, f"{PREFIX}-deb")
        # the static binary: no dynamic loader named in it; stripped
        ldd = c.exec("ldd", "/usr/bin/pidvisor", check=False)
        assert "not a dynamic executable" in ldd.stdout + ldd.stderr
        assert c.sh("readlink /usr/bin/supervisord /usr/bin/supervisorctl").split() == \
            ["pidvisor", "pidvisor"]
        assert c.exec("update-alternatives", "--query", "supervisord",
                      check=False).returncode != 0
        # pidvisor-image's libraries came with the package's Depends
        r = c.exec("pidvisor-image", "--version")
        assert VERSION in r.stdout + r.stderr
        # PID 1 is the supervisord name, running the example config
        assert c.sh("cat /proc/1/cmdline").split("\0")[0] == "supervisord"
        c.wait_running(["hello"])
        r = c.exec("supervisorctl", "status", "hello")
        assert re.match(r"hello\s+RUNNING\s+pid \d+", r.stdout), r.stdout
        assert c.exec("pidvisor", "check", check=False).returncode == 0
        # dpkg -r takes everything (PID 1 runs on from memory)
        c.exec("dpkg", "-r", "pidvisor")
        left = c.sh("ls /usr/bin/pidvisor /usr/bin/pidvisor-image /usr/bin/supervisord "
                    "/usr/bin/supervisorctl /usr/lib/pidvisor /usr/share/man/man8/pidvisor.8.gz "
                    "/usr/share/doc/pidvisor 2>&1; true")
        assert left.count("No such file or directory") == 7, left
        _, code = c.stop()
        assert code == 0, c.logs()[-3000:]
        assert c.stop_was_clean(), c.logs()[-3000:]
        assert "hello from hello" in c.logs()
    finally:
        docker_engine.docker("rmi", "-f", IMAGE, check=False)


def test_installed_over_supervisor_replaces_it(deb, docker_engine, containers, tmp_path):
    shutil.copy(deb[0], tmp_path / "pidvisor.deb")
    (tmp_path / "hello.conf").write_text(HELLO)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_OVER)
    docker_engine.build(tmp_path, OVER_SUPERVISOR, timeout=900)
    try:
        c = containers(OVER_SUPERVISOR, f"{PREFIX}-deb-over")
        # dpkg removed supervisor for it, for the declared Conflicts and Replaces
        log = c.sh("cat /root/dpkg-i.log")
        assert "will remove supervisor in favour of pidvisor" in log, log
        status = c.exec("dpkg-query", "-W", "-f", "${Status}", "supervisor",
                        check=False).stdout
        assert "installed" not in status.replace("not-installed", ""), status
        assert c.sh("dpkg -S /usr/bin/supervisord /usr/bin/supervisorctl").split() == \
            ["pidvisor:", "/usr/bin/supervisord", "pidvisor:", "/usr/bin/supervisorctl"]
        assert c.sh("readlink -f /usr/bin/supervisord").strip() == "/usr/bin/pidvisor"
        assert c.exec("test", "-e", "/usr/lib/python3/dist-packages/supervisor",
                      check=False).returncode != 0
        # supervisor's own config, with its [include] of conf.d, runs under pidvisor
        c.wait_running(["hello"])
        assert c.exec("grep", "-q", "hello from hello",
                      *c.sh("ls /var/log/supervisor/hello-stdout---supervisor-*").split(),
                      check=False).returncode == 0, c.sh("ls -l /var/log/supervisor")
        r = c.exec("supervisorctl", "status")
        assert re.match(r"hello\s+RUNNING\s+pid \d+", r.stdout), r.stdout
        _, code = c.stop()
        assert code == 0, c.logs()[-3000:]
        assert c.stop_was_clean(), c.logs()[-3000:]
    finally:
        docker_engine.docker("rmi", "-f", OVER_SUPERVISOR, check=False)
