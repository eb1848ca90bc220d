"""docs/security.md names, for every promise, the tests that prove it: those tests exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
# `tests/test_x.py::test_y` names a file and a test; a following `::test_z` the same file.
REFERENCE = re.compile(r"`((?:tests|plugins)/[\w/]+\.py)?(?:::(\w+))?`")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def references() -> list[tuple[str, str | None]]:
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        current = None
        for match in REFERENCE.finditer(line):
            path, test = match.groups()
            if path:
                current = path
            if current and (path or test):
                found.append((current, test))
    return found


def test_every_test_named_in_the_security_promises_exists():
    refs = references()
    assert len(refs) > 50  # the document names the tests of every section
    missing = []
    for path, test in refs:
        file = ROOT / path
        if not file.is_file():
            missing.append(path)
        elif test and test not in _functions(file):
            missing.append(f"{path}::{test}")
    assert missing == [], "docs/security.md names tests that do not exist: " + ", ".join(missing)


def test_every_promise_row_names_a_test():
    rows = [
        line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith("| promise") and "---" not in line
    ]
    assert rows
    unproven = [row[:80] for row in rows if not REFERENCE.search(row.rsplit("|", 2)[-2])]
    assert unproven == []
