"""Why each kind of corpus difference exists, and corpus_expected.txt's layout: one block per
kind, the [eventlistener:x]/[fcgi-program:x] block apart (those sections are being added)."""
import json

HEADER = """\
# The differences tests/compat/test_corpus.py finds between Debian's supervisord 4.2.5 and
# pidvisor on the 47 configs of /work/shared/corpus/supervisord-configs: one line each,
# tab-separated: config, group:process ("-" for the daemon), field, supervisord's value,
# pidvisor's value (JSON; <absent> when the member or process is missing), "# why".
# The test fails on a difference not listed here and on a listed one that is gone.
# Regenerate after a change: CORPUS_WRITE_EXPECTED=/tmp/x python3 -m pytest tests/compat/test_corpus.py
# then read the diff against this file before copying it over.
"""

BLOCKS = [
    ("pending", "[eventlistener:x] and [fcgi-program:x]: not supported by pidvisor yet (skipped "
                "with a warning). PENDING: being added; update this block after the merge."),
    ("process", "The children's process setup (/proc: uid, gid, groups, umask, cwd, argv, "
                "environment) and their states."),
    ("config", "getAllConfigInfo members (src/daemon/rpc_methods.c; being fixed)."),
    ("info", "getAllProcessInfo log file members (src/daemon/rpc_methods.c)."),
    ("daemon", "Start-up: one side refuses the config."),
    ("other", "Not explained yet."),
]


# SigIgn bits (signal N is bit N-1) of SIGPIPE (13) and SIGXFSZ (25).
SIGPIPE_SIGXFSZ = 1 << 12 | 1 << 24


def _json(v):
    return None if v == "<absent>" else json.loads(v) if v not in ("present",) else v


def classify(row, case):
    """(block, reason) for a difference row (config, program, field, supervisord, pidvisor)."""
    _, program, field, sv, pv = row
    group = program.split(":")[0]
    kind = case.kind_of(group) if case and program != "-" else None
    if kind in ("eventlistener", "fcgi-program"):
        return "pending", f"[{kind}:{group}] is skipped by pidvisor"
    if field == "daemon":
        return "daemon", "one side refuses the config"
    x, y = _json(sv), _json(pv)
    if field == "sigign":
        x, y = str(x), str(y)
    if field == "groups" and x == "" and y == "0":
        return "process", ("user=root while already root: supervisord's drop_privileges() "
                           "returns early when the uid is already the target (no setgroups, "
                           "the child keeps supervisord's own supplementary groups), pidvisor "
                           "always calls setgroups() with root's groups from /etc/group "
                           "(src/daemon/process.c, `if (geteuid() == 0)` before setgroups)")
    if field == "sigign" and int(x, 16) ^ int(y, 16) == SIGPIPE_SIGXFSZ:
        return "process", ("SIGPIPE and SIGXFSZ ignored in supervisord's children: CPython "
                           "sets both to SIG_IGN at start-up and supervisord never restores "
                           "them, so execve passes them on; pidvisor resets every signal to "
                           "SIG_DFL (src/daemon/process.c). Intended? then README's list")
    if field == "config.autorestart" and sv == "<absent>":
        return "config", "an autorestart member supervisord's struct does not have"
    if field == "config.serverurl" and x == "none" and y == "auto":
        return "config", "serverurl AUTO is 'none' in supervisord's struct"
    if field == "config.uid" and isinstance(x, int) and isinstance(y, str):
        return "config", "uid is the user name, supervisord gives the uid as an int"
    if field in ("config.stdout_logfile", "config.stderr_logfile") and y == "auto" \
            and isinstance(x, str) and "---supervisor-" in x:
        return "config", "AUTO log file as 'auto', supervisord gives the resolved path"
    if field == "config.stderr_logfile" and x == "none":
        return "config", ("redirect_stderr=true: supervisord's stderr_logfile is none, "
                          "pidvisor reports the stderr_logfile value (or auto)")
    if field.startswith("info.") and y == "" and isinstance(x, str) and x.startswith("/dev/"):
        return "info", ("a /dev/stdout, /dev/stderr or /dev/fd/N log target is '' "
                        "(output_logfile() in src/daemon/child_output.c has no path for it), "
                        "supervisord gives the path")
    if field.startswith("info.") and isinstance(y, str) and "//" in y \
            and y.replace("//", "/") == x:
        return "info", ("childlogdir ending in '/': the AUTO log path has a double slash "
                        "(auto_logfile() in src/daemon/child_output.c joins with \"%s/%s\"; "
                        "supervisord's os.path.join does not double it)")
    return "other", "unexplained"


def render_expected(rows, cases):
    blocks = {name: [] for name, _ in BLOCKS}
    for row in rows:
        block, why = classify(row, cases.get(row[0]))
        blocks[block].append("\t".join(row) + "\t# " + why + "\n")
    out = [HEADER]
    for name, title in BLOCKS:
        if blocks[name]:
            out.append(f"\n## {title}\n")
            out.extend(blocks[name])
    return "".join(out)
