"""Why each kind of corpus difference exists, and corpus_expected.txt's layout: one block per
kind."""
import json

HEADER = """\
# The differences tests/compat/test_corpus.py finds between Debian's supervisord 4.2.5 and
# pidvisor on the 47 configs of the shared corpus (harness.CORPUS): one line each,
# tab-separated: config, group:process ("-" for the daemon), field, supervisord's value,
# pidvisor's value (JSON; <absent> when the member or process is missing), "# why".
# The test fails on a difference not listed here and on a listed one that is gone.
# Regenerate after a change: CORPUS_WRITE_EXPECTED=/tmp/x python3 -m pytest tests/compat/test_corpus.py
# then read the diff against this file before copying it over.
"""

BLOCKS = [
    ("intended", "On purpose, listed in README's \"Where pidvisor differs from supervisord, on "
                 "purpose\"."),
    ("daemon", "Start-up: one side refuses the config."),
    ("other", "Not explained yet."),
]


# SigIgn bits (signal N is bit N-1) of SIGPIPE (13) and SIGXFSZ (25).
SIGPIPE_SIGXFSZ = 1 << 12 | 1 << 24


def classify(row, case):
    """(block, reason) for a difference row (config, program, field, supervisord, pidvisor)."""
    _, program, field, sv, pv = row
    if field == "daemon":
        return "daemon", "one side refuses the config"
    if field == "sigign" and int(json_str(sv), 16) ^ int(json_str(pv), 16) == SIGPIPE_SIGXFSZ:
        return "intended", ("SIGPIPE and SIGXFSZ ignored in supervisord's children (CPython "
                            "ignores both and supervisord passes that on through execve); "
                            "pidvisor starts programs with every signal at its default")
    return "other", "unexplained"


def json_str(v):
    return str(json.loads(v))

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
