"""Sizes a newcomer can read: no source file in src/ over 800 lines, no function over 80.

A function is counted from the `{` alone at column 0 that opens it (the Linux brace style
clang-format keeps) to the `}` at column 0 that closes it, both lines included."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "src"
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80


def sources():
    return sorted(p for p in SRC.rglob("*") if p.suffix in (".c", ".h"))


def functions(text):
    """(name line, length) of each function body in text."""
    lines = text.split("\n")
    start = None
    for i, line in enumerate(lines):
        if line == "{":
            start = i
        elif line.startswith("}") and start is not None:
            yield lines[start - 1].strip(), i - start + 1
            start = None


def test_the_counter_counts():
    text = "int f(void)\n{\n" + "\tx();\n" * 3 + "}\n\nstatic void g(int a)\n{\n}\n"
    assert list(functions(text)) == [("int f(void)", 5), ("static void g(int a)", 2)]


def test_sources_are_found():
    assert len(sources()) > 50


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(SRC)))
def test_file_and_function_sizes(path):
    text = path.read_text(errors="replace")
    n = text.count("\n")
    assert n <= MAX_FILE_LINES, f"{path.relative_to(ROOT)}: {n} lines (at most {MAX_FILE_LINES})"
    long = [f"{name} ({length} lines)" for name, length in functions(text)
            if length > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(ROOT)}: functions over {MAX_FUNCTION_LINES} lines: {long}"
