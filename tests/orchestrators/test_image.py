"""make image: pidvisor:VERSION, FROM scratch, holding only the static pidvisor (stripped) and its
other names, and a busybox image that takes pidvisor from it with one COPY --from line and runs the
example config."""
import io
import json
import re
import subprocess
import tarfile

import pytest

from dockerharness import PREFIX, ROOT

VERSION = re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
PV_IMAGE = f"pidvisor:{VERSION}"
BUSYBOX = "/bin/busybox"
BARE = f"{PREFIX}/busybox-bare"
APP = f"{PREFIX}/busybox-from-pidvisor-image"
NAMES = ["supervisord", "supervisorctl", "tini", "dumb-init"]

# the example config `make install` and the package ship
EXAMPLE_CONF = ROOT / "packaging" / "supervisord.conf"

DOCKERFILE = f"""\
FROM {BARE}
COPY --from={PV_IMAGE} /usr/bin/pidvisor /usr/bin/
COPY supervisord.conf /etc/supervisor/supervisord.conf
ENTRYPOINT ["/usr/bin/pidvisor"]
"""


def busybox_tar():
    """A root with busybox and its applet links, no libc and no pidvisor."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "run", "proc", "sys",
                  "dev", "tmp"]:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(ti)
        data = open(BUSYBOX, "rb").read()
        ti = tarfile.TarInfo("bin/busybox")
        ti.size, ti.mode = len(data), 0o755
        tar.addfile(ti, io.BytesIO(data))
        applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            if a != "bin/busybox":
                ti = tarfile.TarInfo(a)
                ti.type, ti.linkname = tarfile.SYMTYPE, "/bin/busybox"
                tar.addfile(ti)
        for name, text in [("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")]:
            ti = tarfile.TarInfo(name)
            ti.size = len(text)
            tar.addfile(ti, io.BytesIO(text.encode()))
    return buf.getvalue()


@pytest.fixture(scope="module")
def pv_image(docker_engine, static_binary):
    # from nothing: a stale pidvisor image must not pass for a new one
    docker_engine.docker("rmi", "-f", PV_IMAGE, check=False)
    r = subprocess.run(["make", "-C", str(ROOT), "image"], env=docker_engine.env(),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make image failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}"
    return docker_engine


def saved_files(engine, tag):
    """{path: 'file' | 'link -> target'} of every layer of the image, and the layer count."""
    r = subprocess.run(["docker", "save", tag], env=engine.env(), capture_output=True,
                       timeout=120, check=True)
    outer = tarfile.open(fileobj=io.BytesIO(r.stdout))
    manifest = json.load(outer.extractfile("manifest.json"))[0]
    files = {}
    for layer in manifest["Layers"]:
        with tarfile.open(fileobj=outer.extractfile(layer)) as t:
            for m in t.getmembers():
                if not m.isdir():
                    files[m.name] = f"link -> {m.linkname}" if m.issym() else "file"
    return files, len(manifest["Layers"])


def test_pidvisor_image_holds_only_the_static_binary_and_links(pv_image, static_binary):
    files, layers = saved_files(pv_image, PV_IMAGE)
    assert layers == 1
    assert files == {"usr/bin/pidvisor": "file",
                     **{f"usr/bin/{n}": "link -> pidvisor" for n in NAMES}}
    config = json.loads(pv_image.out("image", "inspect", PV_IMAGE))[0]["Config"]
    assert config["Entrypoint"] == ["/usr/bin/pidvisor"]
    # the binary in it is the static build, and it runs with nothing else in the image
    r = pv_image.docker("run", "--rm", "--network", "none", PV_IMAGE, "--version")
    assert r.stdout.strip() == "4.2.5"
    r = pv_image.docker("run", "--rm", "--network", "none", "--entrypoint", "/usr/bin/tini",
                        PV_IMAGE, "--version")
    assert r.stdout.strip() == f"tini version 0.19.0 (pidvisor {VERSION})"


def test_busybox_image_copies_pidvisor_from_it(pv_image, containers, static_binary, tmp_path):
    pv_image.docker("import", "--change", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", "-", BARE,
                    input_bytes=busybox_tar())
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "supervisord.conf").write_bytes(EXAMPLE_CONF.read_bytes())
    pv_image.build(tmp_path, APP)
    try:
        c = containers(APP, f"{PREFIX}-from-pidvisor-image")
        assert c.sh("cat /proc/1/cmdline").split("\0")[0] == "/usr/bin/pidvisor"
        c.wait_running(["hello"])
        assert c.exec("pidvisor", "check", check=False).returncode == 0
        # build/pidvisor-static, stripped: no symbols, no debug sections, the same code
        pv_image.docker("cp", f"{c.id}:/usr/bin/pidvisor", str(tmp_path / "in-image"))
        sections = subprocess.run(["readelf", "-S", str(tmp_path / "in-image")],
                                  capture_output=True, text=True, check=True).stdout
        assert ".symtab" not in sections and ".debug_" not in sections, sections
        assert ".symtab" in subprocess.run(["readelf", "-S", str(static_binary)],
                                           capture_output=True, text=True).stdout
        for name, path in [("a", tmp_path / "in-image"), ("b", static_binary)]:
            subprocess.run(["objcopy", "-O", "binary", "--only-section=.text", str(path),
                            str(tmp_path / name)], check=True)
        assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
        _, code = c.stop()
        assert code == 0, c.logs()[-3000:]
        assert c.stop_was_clean(), c.logs()[-3000:]
        assert "hello from hello" in c.logs()
    finally:
        pv_image.docker("rmi", "-f", APP, BARE, check=False)
