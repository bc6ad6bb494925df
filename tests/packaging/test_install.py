"""make install / make uninstall into a temporary DESTDIR: the tree, the symlink rules, and an
uninstall that removes exactly what install put there."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PREFIX = "/usr/local"


def make(target, destdir, **vars_):
    args = ["make", "-s", "-C", str(ROOT), target, f"DESTDIR={destdir}", f"PREFIX={PREFIX}"]
    args += [f"{k}={v}" for k, v in vars_.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def tree(root):
    """{relative path: 'file' | 'link -> target'} for everything that is not a directory."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            out[rel] = f"link -> {os.readlink(p)}" if p.is_symlink() else "file"
    return out


def expected_files():
    man = [f"usr/local/share/man/man{p.suffix[1:]}/{p.name}"
           for p in (ROOT / "docs").iterdir() if p.suffix in (".1", ".8")]
    return {"usr/local/bin/pidvisor": "file", "usr/local/bin/pidvisor-image": "file",
            "usr/local/lib/pidvisor/pidvisor-static": "file",
            "usr/local/share/doc/pidvisor/examples/supervisord.conf": "file",
            **{m: "file" for m in man}}


LINKS = ["supervisord", "supervisorctl", "tini", "dumb-init"]


def test_install_tree_without_links_then_uninstall(tmp_path):
    r = make("install", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    got = tree(tmp_path)
    assert got == expected_files()
    assert len([k for k in got if "/man/" in k]) >= 4
    bindir = tmp_path / "usr/local/bin"
    assert os.access(bindir / "pidvisor", os.X_OK)
    assert oct((tmp_path / "usr/local/share/man/man8/pidvisor.8").stat().st_mode & 0o777) == "0o644"
    # the installed binary runs and the example config passes its strict check
    ex = tmp_path / "usr/local/share/doc/pidvisor/examples/supervisord.conf"
    p = subprocess.run([str(bindir / "pidvisor"), "-c", str(ex), "--check-config"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    # the installed pidvisor-image finds the static pidvisor in lib/pidvisor/
    out = tmp_path / "contexts"
    p = subprocess.run([str(bindir / "pidvisor-image"), "generate",
                        str(ROOT / "tests/image/fixtures/stack.yaml"), "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    static = (tmp_path / "usr/local/lib/pidvisor/pidvisor-static").read_bytes()
    assert (out / ".pidvisor/usr/bin/pidvisor").read_bytes() == static
    r = make("uninstall", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tree(tmp_path / "usr") == {}
    assert not (tmp_path / "usr/local/lib/pidvisor").exists()


def test_links_on_request_keep_real_files_unless_forced(tmp_path):
    bindir = tmp_path / "usr/local/bin"
    bindir.mkdir(parents=True)
    (bindir / "tini").write_text("a real tini\n")
    (bindir / "dumb-init").symlink_to("/somewhere/else")
    r = make("install", tmp_path, LINKS=1)
    assert r.returncode == 0, r.stdout + r.stderr
    got = tree(tmp_path)
    assert got["usr/local/bin/supervisord"] == "link -> pidvisor"
    assert got["usr/local/bin/supervisorctl"] == "link -> pidvisor"
    assert (bindir / "tini").read_text() == "a real tini\n"
    assert got["usr/local/bin/dumb-init"] == "link -> /somewhere/else"
    assert f"{bindir}/tini exists and is not pidvisor's: kept" in r.stderr
    # the symlinked names are pidvisor's client and daemon
    assert (bindir / "supervisorctl").resolve() == bindir / "pidvisor"
    p = subprocess.run([str(bindir / "supervisorctl"), "-h"], capture_output=True, text=True)
    assert p.stdout.startswith("supervisorctl -- control applications"), p.stdout
    # installing again is idempotent
    assert make("install", tmp_path, LINKS=1).returncode == 0
    assert tree(tmp_path) == got

    # uninstall removes pidvisor's links and files, never the real tini or the foreign link
    r = make("uninstall", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tree(tmp_path) == {"usr/local/bin/tini": "file",
                              "usr/local/bin/dumb-init": "link -> /somewhere/else"}

    r = make("install", tmp_path, LINKS=1, FORCE_LINKS=1)
    assert r.returncode == 0, r.stdout + r.stderr
    got = tree(tmp_path)
    assert all(got[f"usr/local/bin/{n}"] == "link -> pidvisor" for n in LINKS)
    assert make("uninstall", tmp_path).returncode == 0
    assert tree(tmp_path) == {}


def test_install_without_a_built_file_fails(tmp_path):
    env = {**os.environ, "DESTDIR": str(tmp_path), "PREFIX": PREFIX, "LINK_NAMES": "tini"}
    # the script alone, from a copy of the tree that has no build/: names what is missing
    copy = tmp_path / "src"
    (copy / "packaging").mkdir(parents=True)
    (copy / "packaging/install.sh").write_bytes((ROOT / "packaging/install.sh").read_bytes())
    (copy / "packaging/install.sh").chmod(0o755)
    (copy / "docs").mkdir()
    env["DESTDIR"] = str(tmp_path / "dest")
    p = subprocess.run([str(copy / "packaging/install.sh"), "install"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "build/pidvisor is missing: run make first" in p.stderr
