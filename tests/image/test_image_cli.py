"""pidvisor-image: plan, generate, lint and build (with a fake docker) on fixture stacks."""
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
IMAGE = ROOT / "build" / "pidvisor-image"
PIDVISOR = ROOT / "build" / "pidvisor"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STACK = FIXTURES / "stack.yaml"
# the image `make image` builds and roots copy pidvisor from
PV_IMAGE = "pidvisor:" + re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(),
                                   re.M).group(1)


def run(*args, env=None, cwd=None):
    p = subprocess.run([str(IMAGE), *map(str, args)], capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


def generate(tmp_path, *extra, stack=STACK):
    out = tmp_path / "out"
    rc, stdout, err = run("generate", stack, "-o", out, "--pidvisor", PIDVISOR, *extra)
    assert rc == 0, err
    return out


def lines(path):
    return path.read_text().splitlines()


def test_plan_order_and_parents():
    rc, out, err = run("plan", STACK)
    assert (rc, err) == (0, "")
    assert out.splitlines() == [
        "1. system/base <- debian:bookworm (root, apt)",
        "2. system/ssh <- system/base",
        "3. app/shop-api:1.0 <- system/ssh",
        "4. tiny/alpine <- alpine:3.20 (root, apk)",
        "5. tiny/fedora <- fedora:40 (root, dnf)",
        "6. tiny/centos7 <- centos:7 (root, yum)",
    ]


def test_plan_selects_ancestors_in_dependency_order(tmp_path):
    stack = tmp_path / "s.yaml"
    # the child comes first in the file; it is still built after its parents
    stack.write_text("images:\n  c: {from: b}\n  x: {from: 'debian:12'}\n"
                     "  b: {from: a}\n  a: {from: 'debian:12'}\n")
    rc, out, _ = run("plan", stack, "c")
    assert rc == 0
    assert [line.split()[1] for line in out.splitlines()] == ["a", "b", "c"]
    rc, out, _ = run("plan", stack)
    assert [line.split()[1] for line in out.splitlines()] == ["a", "b", "c", "x"]
    rc, _, err = run("plan", stack, "cc")
    assert rc == 2 and "no image 'cc' in this stack (did you mean 'c'?)" in err


def test_generate_root_dockerfile(tmp_path):
    out = generate(tmp_path, "--tag-prefix", "reg.example/")
    df = lines(out / "system-base" / "Dockerfile")
    assert df[1] == "FROM debian:bookworm"  # an existing image takes no prefix
    assert 'ENV LANG="C.UTF-8" \\' in df and '    TZ="UTC"' in df
    runs = [i for i, line in enumerate(df) if line.startswith("RUN ")]
    assert df[runs[0]] == ("RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install"
                           " -y --no-install-recommends ca-certificates tzdata \\")
    assert df[runs[0] + 1] == " && apt-get clean && rm -rf /var/lib/apt/lists/*"
    # pidvisor comes from the image `make image` builds; its context is generated beside
    assert f"COPY --from={PV_IMAGE} /usr/bin/pidvisor /usr/bin/pidvisor" in df
    assert ("RUN ln -sf pidvisor /usr/bin/supervisord && ln -sf pidvisor /usr/bin/supervisorctl"
            " && mkdir -p /etc/supervisor/conf.d /run/pidvisor && chmod 1777 /run/pidvisor") in df
    assert "COPY supervisord.conf /etc/supervisor/supervisord.conf" in df
    assert "COPY 00-system-base.conf /etc/supervisor/conf.d/00-system-base.conf" in df
    assert 'LABEL org.opencontainers.image.vendor="example"' in df  # from defaults
    assert 'ENTRYPOINT ["/usr/bin/pidvisor"]' in df
    assert "STOPSIGNAL SIGTERM" in df
    assert ('HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 '
            'CMD ["pidvisor", "check", "ticker"]') in df
    assert df[-1] == 'RUN ["/usr/bin/pidvisor", "--check-config"]'
    assert not (out / "system-base" / "pidvisor").exists()
    pv = out / ".pidvisor"
    assert lines(pv / "Dockerfile")[1:] == ["FROM scratch", "COPY usr/ /usr/",
                                            'ENTRYPOINT ["/usr/bin/pidvisor"]']
    assert (pv / "usr/bin/pidvisor").read_bytes() == PIDVISOR.read_bytes()
    assert os.access(pv / "usr/bin/pidvisor", os.X_OK)
    for name in ["supervisord", "supervisorctl", "tini", "dumb-init"]:
        assert os.readlink(pv / "usr/bin" / name) == "pidvisor"
    assert sorted(p.name for p in pv.rglob("*")) == sorted(
        ["Dockerfile", "usr", "bin", "pidvisor", "supervisord", "supervisorctl", "tini",
         "dumb-init"])


def test_generate_child_dockerfiles(tmp_path):
    out = generate(tmp_path, "--tag-prefix", "reg.example/")
    ssh = lines(out / "system-ssh" / "Dockerfile")
    assert ssh[1] == "FROM reg.example/system/base"
    assert "RUN mkdir -p /run/sshd \\" in ssh and " && ssh-keygen -A" in ssh
    assert "COPY files/0/sshd_config /etc/ssh/sshd_config.d/pidvisor.conf" in ssh
    assert (out / "system-ssh" / "files/0/sshd_config").read_text() == "Port 22\n"
    assert "EXPOSE 22" in ssh
    assert "COPY 10-system-ssh.conf /etc/supervisor/conf.d/10-system-ssh.conf" in ssh
    # roots only: pidvisor, its config, ENTRYPOINT and HEALTHCHECK are inherited
    assert not [x for x in ssh if re.match(r"(ENTRYPOINT|HEALTHCHECK|STOPSIGNAL|COPY pidvisor)", x)]
    assert not (out / "system-ssh" / "pidvisor").exists()
    assert ssh[-1] == 'RUN ["/usr/bin/pidvisor", "--check-config"]'

    app = lines(out / "app-shop-api-1.0" / "Dockerfile")
    assert app[1] == "FROM reg.example/system/ssh"
    assert "WORKDIR /srv/shop" in app
    assert "COPY files/0/app.py /srv/shop/app.py" in app  # a destination ending in / keeps the name
    assert "COPY files/1/shop /srv/shop-all" in app
    assert (out / "app-shop-api-1.0" / "files/1/shop/app.py").exists()
    assert 'LABEL org.opencontainers.image.title="shop-api"' in app  # replaces the defaults'
    assert not [x for x in app if "vendor" in x]
    assert "EXPOSE 8080 53/udp" in app
    assert 'VOLUME ["/srv/shop/data"]' in app
    assert app[-2:] == ["USER www-data", 'RUN ["/usr/bin/pidvisor", "--check-config"]']
    assert "COPY 20-app-shop-api-1.0.conf /etc/supervisor/conf.d/20-app-shop-api-1.0.conf" in app
    assert sum(1 for x in app if x.startswith("RUN ")) == 2  # packages, check-config


@pytest.mark.parametrize("name, install", [
    ("tiny-alpine", ["RUN apk add --no-cache curl"]),
    ("tiny-fedora", ["RUN dnf install -y --setopt=install_weak_deps=False procps-ng \\",
                     " && dnf clean all && rm -rf /var/cache/dnf"]),
    ("tiny-centos7", ["RUN yum install -y which \\",
                      " && yum clean all && rm -rf /var/cache/yum"]),
])
def test_generate_package_managers(tmp_path, name, install):
    df = lines(generate(tmp_path) / name / "Dockerfile")
    i = df.index(install[0])
    assert df[i:i + len(install)] == install
    assert sum(1 for x in df if x.startswith("RUN ") and "install" in x or "apk add" in x) == 1


def test_generate_healthcheck_settings(tmp_path):
    df = lines(generate(tmp_path) / "tiny-alpine" / "Dockerfile")
    assert ('HEALTHCHECK --interval=1s --timeout=2s --start-period=3s --retries=5 '
            'CMD ["pidvisor", "check"]') in df


def test_generated_configs_pass_pidvisor_check_config(tmp_path):
    out = generate(tmp_path)
    layers = [out / "system-base/00-system-base.conf", out / "system-ssh/10-system-ssh.conf",
              out / "app-shop-api-1.0/20-app-shop-api-1.0.conf"]
    shop = layers[2].read_text()
    assert "[program:shop]\ncommand=/bin/sleep 3000\n" in shop
    assert "environment=PORT=\"8080\",MODE='say \"hi\"'\n" in shop
    assert "stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n" in shop
    assert "[group:web]\nprograms=shop,sshd\npriority=40\n" in shop
    # the root's main config, with its [include] pointed at the generated layers
    main = (out / "system-base/supervisord.conf").read_text()
    for line in ["nodaemon=true", "logfile=/dev/stdout", "pidfile=/run/pidvisor/pidvisor.pid",
                 "loglevel=debug", "file=/run/pidvisor/supervisor.sock", "chmod=0700",
                 "serverurl=unix:///run/pidvisor/supervisor.sock",
                 "files=/etc/supervisor/conf.d/*.conf"]:
        assert line + "\n" in main
    conf = tmp_path / "supervisord.conf"
    conf.write_text(main.replace("/etc/supervisor/conf.d/*.conf", " ".join(map(str, layers)))
                    .replace("pidfile=/run/pidvisor/pidvisor.pid", f"pidfile={tmp_path}/p.pid")
                    # the image makes /run/pidvisor; --check-config wants the socket's directory
                    .replace("file=/run/pidvisor/supervisor.sock", f"file={tmp_path}/s.sock"))
    p = subprocess.run([str(PIDVISOR), "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert (p.returncode, p.stdout) == (0, f"{conf}: OK\n"), p.stdout + p.stderr


def test_check_config_catches_a_bad_program_value(tmp_path):
    stack = tmp_path / "s.yaml"
    stack.write_text("images:\n  a:\n    from: debian:bookworm\n    programs:\n"
                     "      w: {command: /bin/sleep 1, autorestart: sometimes}\n")
    out = generate(tmp_path, stack=stack)
    conf = tmp_path / "c.conf"
    conf.write_text(f"[supervisord]\nlogfile={tmp_path}/l\n[include]\n"
                    f"files={out}/a/00-a.conf\n")
    p = subprocess.run([str(PIDVISOR), "-c", str(conf), "--check-config"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "[program:w] autorestart:" in p.stdout


def test_finds_the_static_pidvisor_next_to_itself(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(IMAGE, bindir / "pidvisor-image")
    args = [str(bindir / "pidvisor-image"), "generate", str(STACK), "-o", str(tmp_path / "o")]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 2
    assert f"{bindir}/pidvisor-static not found: run `make static`" in p.stderr
    (bindir / "pidvisor-static").write_bytes(b"fake static pidvisor")
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "o/.pidvisor/usr/bin/pidvisor").read_bytes() == b"fake static pidvisor"


ERRORS = [
    ("images:\n  a:\n    from: [debian\n", "s.yaml:4: YAML: did not find expected ','"),
    ("images:\n  a:\n    from: debian:12\n    packges: [x]\n",
     "s.yaml:4: a packges: unknown key (did you mean 'packages'?)"),
    ("images:\n  a:\n    from: debian:12\n    volumes: /data\n",
     "s.yaml:4: a volumes: expected a list of strings, got a scalar"),
    ("images:\n  a: {from: b}\n  b: {from: a}\n", "s.yaml:2: a from: cycle: a -> b -> a"),
    ("images:\n  base: {from: 'debian:12'}\n  app: {from: bas}\n",
     "s.yaml:3: app from: no image 'bas' in this stack (did you mean 'base'?)"),
    ("images:\n  base: {from: 'debian:12'}\n  app: {from: bsae}\n",
     "s.yaml:3: app from: 'bsae' is not pinned (nor an image of this stack)"),
    ("images:\n  a:\n    from: debian:12\n    programs: {w: {command: x}}\n"
     "  b:\n    from: a\n    programs:\n      w: {command: y}\n",
     "s.yaml:8: b programs.w: also a program of a (line 4)"),
    ("images:\n  a:\n    from: debian:12\n    from: debian:11\n",
     "s.yaml:4: a: 'from' appears twice (first at line 3)"),
    ("images:\n  a:\n    from: x/y:1\n    packages: [curl]\n",
     "s.yaml:4: a packages: cannot tell the package manager of 'x/y:1'"),
]


@pytest.mark.parametrize("text, message", ERRORS)
def test_errors_name_file_line_and_key(tmp_path, text, message):
    (tmp_path / "s.yaml").write_text(text)
    for cmd in (["plan", "s.yaml"], ["generate", "s.yaml", "-o", "o"]):
        rc, out, err = run(*cmd, cwd=tmp_path)
        assert rc == 2 and message in err, err
        assert not (tmp_path / "o").exists()


def test_run_as_a_multi_line_string_keeps_lines(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "images:\n  a:\n    from: debian:12\n    run: |\n      echo one\n\n"
        "      apt-get install -y x\n")
    rc, out, _ = run("lint", "s.yaml", cwd=tmp_path)
    assert rc == 1 and out.startswith("s.yaml:7: a run: 'apt-get install' in run")


def expectations(path):
    """`# expect: TEXT` at the end of a line expects a finding on that line; on a line of its
    own, on the next line that is not such a comment."""
    want, pending = [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"#\s*expect:\s*(.*)$", line)
        if m and line.lstrip().startswith("#"):
            pending.append(m.group(1))
            continue
        if m:
            want.append((n, m.group(1)))
        want += [(n, text) for text in pending]
        pending = []
    return want


LINT_FIXTURES = sorted(p.name for p in (FIXTURES / "lint").iterdir() if p.is_file())


@pytest.mark.parametrize("name", LINT_FIXTURES)
def test_lint_fixture(name):
    path = FIXTURES / "lint" / name
    want = expectations(path)
    rc, out, err = run("lint", path)
    found = out.splitlines()
    assert rc == (1 if want else 0), out + err
    assert len(found) == len(want), out
    for line, text in want:
        prefix = f"{path}:{line}: "
        assert any(f.startswith(prefix) and text in f for f in found), (line, text, out)


def test_lint_rules_each_have_a_fixture():
    # every rule of docs/stack-file.md's list
    for name in ["unpinned.yaml", "run-install.yaml", "password.yaml", "healthcheck-none.yaml",
                 "cycle.yaml", "unknown-parent.yaml", "unknown-keys.yaml", "types.yaml",
                 "duplicate-program.yaml", "not-installed.yaml", "values.yaml", "clean.yaml",
                 "hardened.yaml",
                 "Dockerfile.bad", "Dockerfile.good"]:
        assert name in LINT_FIXTURES


def test_lint_unreadable_and_usage(tmp_path):
    rc, out, err = run("lint", tmp_path / "nothing.yaml")
    assert rc == 2 and "cannot read" in out + err
    assert run("lint")[0] == 2
    assert run("frobnicate", STACK)[0] == 2
    assert run("plan", STACK, "--push")[0] == 2  # --push is build's
    rc, out, _ = run("--help")
    assert rc == 0 and "generate" in out and "Exit status" in out
    rc, out, _ = run("--version")
    assert rc == 0 and re.match(r"pidvisor-image \d+\.\d+\.\d+\n", out)


FAKE_DOCKER = """#!/bin/sh
# records each call; fails `docker build` of $FAIL_TAG with status 7
echo "$*" >> "$DOCKER_LOG"
if [ "$1" = build ]; then
    ctx=$(eval echo \\${$#})
    test -f "$ctx/Dockerfile" || exit 99
    grep '^FROM' "$ctx/Dockerfile" >> "$DOCKER_LOG"
    [ "$3" = "$FAIL_TAG" ] && exit 7
fi
exit 0
"""


@pytest.fixture
def docker(tmp_path):
    script = tmp_path / "docker"
    script.write_text(FAKE_DOCKER)
    script.chmod(0o755)
    log = tmp_path / "docker.log"
    env = dict(os.environ, DOCKER_LOG=str(log), FAIL_TAG="none")

    def build(*args, fail=None, via_env=False, extra_env=None):
        e = dict(env, FAIL_TAG=fail or "none", **(extra_env or {}))
        opts = ["--pidvisor", PIDVISOR]
        if via_env:
            e["PIDVISOR_DOCKER"] = str(script)
        else:
            opts += ["--docker", script]
        rc, out, err = run("build", STACK, *opts, *args, env=e)
        calls = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return rc, out, err, calls
    return build


def test_build_all_in_order(docker):
    rc, out, err, calls = docker()
    assert rc == 0, err
    builds = [c.split()[2] for c in calls if c.startswith("build ")]
    assert builds == [PV_IMAGE, "system/base", "system/ssh", "app/shop-api:1.0", "tiny/alpine",
                      "tiny/fedora", "tiny/centos7"]
    assert "FROM system/base" in calls and "FROM system/ssh" in calls
    assert "[1/6] building system/base ...\n" in out
    assert re.search(r"^tiny/centos7 built in \d+\.\d s$", out, re.M)


def test_build_selected_plus_ancestors_with_options(docker):
    rc, out, err, calls = docker("app/shop-api:1.0", "--network", "host", "--no-cache",
                                 "--tag-prefix", "reg.example/", "--push")
    assert rc == 0, err
    cmds = [c for c in calls if not c.startswith("FROM")]
    tags = ["reg.example/system/base", "reg.example/system/ssh", "reg.example/app/shop-api:1.0"]
    # pidvisor's image is built (never pushed) first, with the same docker options
    want = [re.compile(rf"build -t {re.escape(PV_IMAGE)} --network host --no-cache /\S+/\.pidvisor$")]
    for tag in tags:
        want += [re.compile(rf"build -t {re.escape(tag)} --network host --no-cache /\S+$"),
                 re.compile(rf"push {re.escape(tag)}$")]
    assert len(cmds) == len(want), calls
    for c, w in zip(cmds, want):
        assert w.match(c), (c, w.pattern)
    assert "FROM reg.example/system/base" in calls
    assert "[3/3] building reg.example/app/shop-api:1.0 ..." in out


def test_build_stops_at_the_first_failure(docker):
    rc, out, err, calls = docker(fail="system/ssh", via_env=True)
    assert rc == 7
    assert [c.split()[2] for c in calls if c.startswith("build ")] == [PV_IMAGE, "system/base",
                                                                       "system/ssh"]
    assert "system/ssh failed" in err and "docker exit status 7" in err
    assert "system/base built in" in out and "system/ssh built" not in out


def test_build_without_docker(tmp_path):
    rc, out, err = run("build", STACK, "tiny/alpine", "--pidvisor", PIDVISOR, "--docker",
                       tmp_path / "no-docker")
    assert rc == 127 and "cannot run" in err


def test_build_leaves_no_contexts_behind(docker, tmp_path):
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    rc, _, err, _ = docker("tiny/alpine", extra_env={"TMPDIR": str(env_tmp)})
    assert rc == 0, err
    assert list(env_tmp.iterdir()) == []


def test_build_interrupted_cleans_up(tmp_path):
    script = tmp_path / "docker"
    script.write_text(f"#!/bin/sh\ntouch {tmp_path}/started\nexec sleep 30\n")
    script.chmod(0o755)
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    p = subprocess.Popen([str(IMAGE), "build", str(STACK), "tiny/alpine", "--pidvisor",
                          str(PIDVISOR), "--docker", str(script)],
                         env=dict(os.environ, TMPDIR=str(env_tmp)), start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.01)
    os.killpg(p.pid, signal.SIGINT)  # ^C reaches the whole foreground group
    out, err = p.communicate(timeout=10)
    assert p.returncode == 128 + signal.SIGINT, err
    assert f"{PV_IMAGE} failed" in err and "building tiny/alpine" not in out
    assert list(env_tmp.iterdir()) == []
