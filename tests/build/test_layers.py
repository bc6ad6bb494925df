"""The source tree's one-way direction (lib <- config, proto <- daemon, client, image; lib <- init,
and inside daemon: output <- core <- events <- rpc <- http) is enforced by the build: each folder compiles with only its own and its dependencies' folders on
the include path. These tests compile a probe file as if it stood in a folder."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "src"


def compiles(folder, header, tmp_path):
    """Whether `#include "header"` compiles in a file of src/<folder>/, with that folder's flags."""
    cc = subprocess.run(["make", "-s", "-C", str(ROOT), "print-cc", f"F=src/{folder}/probe.c"],
                        capture_output=True, text=True, check=True).stdout.split()
    probe = tmp_path / "probe.c"
    probe.write_text(f'#include "{header}"\nint probe(void);\nint probe(void) {{ return 0; }}\n')
    cmd = [*cc, str(probe)]
    # the flags name src/... relative to the checkout
    return subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode == 0


def header_folder(name):
    found = [str(p.parent.relative_to(SRC)) for p in SRC.rglob(name)]
    assert len(found) == 1, f"{name} is in {found}"
    return found[0]


# src/daemon/ is split into rooms (sub-folders) with the same rule among them:
#   http -> rpc -> events -> core -> output  (daemon.c, the start-up, sees them all)
ROOMS = {
    "daemon/output": {"daemon/output"},
    "daemon/core": {"daemon/core", "daemon/output"},
    "daemon/events": {"daemon/events", "daemon/core", "daemon/output"},
    "daemon/rpc": {"daemon/rpc", "daemon/core", "daemon/events", "daemon/output"},
    "daemon/http": {"daemon/http", "daemon/rpc", "daemon/core", "daemon/events", "daemon/output"},
}
ROOMS["daemon"] = {"daemon", *ROOMS}
ALLOWED = {
    "lib": {"lib"},
    "config": {"config", "lib"},
    "proto": {"proto", "lib"},
    **{room: {*sees, "config", "proto", "lib"} for room, sees in ROOMS.items()},
    "client": {"client", "config", "proto", "lib"},
    "image": {"image", "config", "lib"},
    "init": {"init", "lib"},
}

# One header from each folder stands for it.
SAMPLE = {"lib": "buf.h", "config": "config.h", "proto": "xmlrpc.h", "daemon": "daemon.h",
          "daemon/http": "control.h", "daemon/rpc": "rpc.h", "daemon/core": "supervisor.h",
          "daemon/events": "events.h", "daemon/output": "mainlog.h",
          "client": "rpc_client.h", "image": "stack.h", "init": "init.h"}


@pytest.mark.parametrize("folder", sorted(ALLOWED))
@pytest.mark.parametrize("target", sorted(SAMPLE))
def test_include_direction(folder, target, tmp_path):
    assert header_folder(SAMPLE[target]) == target
    ok = compiles(folder, SAMPLE[target], tmp_path)
    if target in ALLOWED[folder]:
        assert ok, f"src/{folder} may include {SAMPLE[target]} but it did not compile"
    else:
        assert not ok, f"src/{folder} must not see src/{target}/{SAMPLE[target]}"


def test_header_names_are_unique():
    """Headers are included by bare name, so two folders must never hold the same one."""
    names = [p.name for p in SRC.rglob("*.h")]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes


def test_sources_include_no_paths():
    """`#include "../daemon/x.h"` or `"daemon/x.h"` would walk around the include path."""
    bad = []
    for src in SRC.rglob("*.[ch]"):
        for n, line in enumerate(src.read_text().splitlines(), 1):
            if line.startswith('#include "') and "/" in line:
                bad.append(f"{src.relative_to(ROOT)}:{n}: {line}")
    assert not bad
