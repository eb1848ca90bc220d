"""``python -m bench <name> [options]``: one benchmark, or ``all`` of them.

- ``python -m bench lists --sizes 100000,1000000 [--pg URL]``: the case list (bench/lists.py);
- ``python -m bench intake|intake_http|sweep|export|report|ledger [options]``: that script,
  its options passed on (``python bench/<name>.py --help``);
- ``python -m bench all [--sizes ...] [--pg URL] [--out FILE]``: every benchmark at the given
  sizes, then one Markdown report (date, engine, machine, each figure beside its baseline).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("intake", "intake_http", "sweep", "export", "report", "ledger")
USAGE = __doc__


def run_script(name: str, args: list[str]) -> int:
    """Run bench/<name>.py as a script (each in its own process, as it was written to run)."""
    return subprocess.call([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args], cwd=ROOT)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        raise SystemExit(0 if argv else 2)
    name, rest = argv[0], argv[1:]
    if name == "lists":
        from bench import lists

        lists.main(rest)
    elif name == "all":
        from bench import suite

        suite.main(rest)
    elif name in SCRIPTS and (ROOT / "bench" / f"{name}.py").exists():
        raise SystemExit(run_script(name, rest))
    else:
        print(f"unknown benchmark: {name}\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)
