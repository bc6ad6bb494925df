"""The static pidvisor in an image that holds nothing but it and a busybox: no libc, no NSS,
users only in that image's /etc/passwd and /etc/group."""
import io
import re
import subprocess
import tarfile

import pytest

from dockerharness import PREFIX, stopped_order

IMAGE = f"{PREFIX}/busybox-static"
BUSYBOX = "/bin/busybox"

CONF = """\
[supervisord]
nodaemon=true
logfile=/dev/stdout
logfile_maxbytes=0
pidfile=/run/pidvisor.pid

[unix_http_server]
file=/run/supervisor.sock
chmod=0700

[supervisorctl]
serverurl=unix:///run/supervisor.sock

[program:ticker]
command=/bin/sh -c 'while :; do echo tick; sleep 1; done'
priority=10
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0

[program:web]
command=/usr/sbin/httpd -f -v -p 127.0.0.1:8000 -h /www
user=web
priority=20
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""

# uid, gid and a supplementary group that exist nowhere but in this image.
PASSWD = "root:x:0:0:root:/root:/bin/sh\nweb:x:4321:4321:web:/www:/bin/sh\n"
GROUP = "root:x:0:\nweb:x:4321:\nwebdata:x:4400:web\n"


def rootfs_tar(static_binary):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add_dir(path, mode=0o755):
            ti = tarfile.TarInfo(path)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            tar.addfile(ti)

        def add_file(path, data, mode=0o644):
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode = len(data), mode
            tar.addfile(ti, io.BytesIO(data))

        def add_link(path, target):
            ti = tarfile.TarInfo(path)
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            tar.addfile(ti)

        for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "etc/supervisor", "run",
                  "www", "root", "proc", "sys", "dev"]:
            add_dir(d)
        add_dir("tmp", 0o1777)
        with open(BUSYBOX, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            if a != "bin/busybox":
                add_link(a, "/bin/busybox")
        add_file("usr/bin/pidvisor", static_binary.read_bytes(), 0o755)
        add_link("usr/bin/supervisord", "pidvisor")
        add_link("usr/bin/supervisorctl", "pidvisor")
        add_file("etc/passwd", PASSWD.encode())
        add_file("etc/group", GROUP.encode())
        add_file("etc/supervisor/supervisord.conf", CONF.encode())
        add_file("www/index.html", b"hello from busybox\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def image(docker_engine, static_binary):
    docker_engine.docker(
        "import", "--change", 'ENTRYPOINT ["/usr/bin/pidvisor"]',
        "--change", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "-", IMAGE, input_bytes=rootfs_tar(static_binary))
    yield IMAGE
    docker_engine.docker("rmi", "-f", IMAGE, check=False)


def proc_ids(c, pid, field):
    line = re.search(rf"^{field}:\s*(.*)$", c.sh(f"cat /proc/{pid}/status"), re.M).group(1)
    return [int(x) for x in line.split()]


def test_static_pidvisor_in_busybox_image(image, containers):
    c = containers(image, f"{PREFIX}-static")

    # nothing in the image could load a shared library
    assert c.exec("sh", "-c", "ls /lib* /usr/lib*", check=False).returncode != 0
    assert c.sh("cat /proc/1/cmdline").split("\0")[0] == "/usr/bin/pidvisor"

    st = c.wait_running(["ticker", "web"])
    assert c.exec("pidvisor", "check", check=False).returncode == 0
    assert "RUNNING" in c.exec("supervisorctl", "status", "web").stdout

    # user= from this image's /etc/passwd and /etc/group, read without NSS
    web = st["web"][1]
    assert proc_ids(c, web, "Uid")[:2] == [4321, 4321]
    assert proc_ids(c, web, "Gid")[:2] == [4321, 4321]
    assert 4400 in proc_ids(c, web, "Groups")
    assert c.sh("wget -q -O - http://127.0.0.1:8000/") == "hello from busybox\n"

    # a program an operator stopped is no HEALTHCHECK failure (Docker would kill the
    # container for it); the probe still names a program that is not there
    c.exec("pidvisor", "ctl", "stop", "web")
    r = c.exec("pidvisor", "check", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    r = c.exec("pidvisor", "check", "web", "nosuch", check=False)
    assert r.returncode == 1 and "nosuch: no such process" in r.stdout, r.stdout
    c.exec("pidvisor", "ctl", "start", "web")
    assert c.exec("pidvisor", "check", check=False).returncode == 0

    assert "tick" in c.logs()
    _, code = c.stop()
    assert code == 0, c.logs()[-3000:]
    assert c.stop_was_clean(), c.logs()[-3000:]
    assert stopped_order(c.logs())[-2:] == ["web", "ticker"]
