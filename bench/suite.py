"""``python -m bench all``: every benchmark at the given sizes, one Markdown report.

Each benchmark runs in its own process (its output shown as it goes); the report keeps each
one's command, wall time and Markdown table(s), under a header with the date, the machine and
the engines. Benchmarks that only know SQLite run on SQLite; the list benchmark (and any
script whose ``--help`` offers ``--pg``) runs on PostgreSQL too when ``--pg`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.lists import schema_heads  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("lists", "intake", "intake_http", "sweep", "export", "report", "ledger")


def steps(args) -> list[tuple[str, list[str]]]:
    """(benchmark, its command line after ``python``) in the order they run."""
    sizes, small = args.sizes, min(args.sizes)
    out: list[tuple[str, list[str]]] = []
    lists = ["-m", "bench", "lists", "--sizes", ",".join(map(str, sizes))]
    lists += ["--rounds", str(args.rounds), "--requests", str(args.requests)]
    lists += ["--folder", args.folder]
    if args.pg:
        lists += ["--pg", args.pg]
    if args.rebuild:
        lists.append("--rebuild")
    out.append(("lists", lists))
    out.append(("intake", ["bench/intake.py", "--cases", "300", "--rounds", "3"]))
    out.append(("intake", ["bench/intake.py", "--cases", "300", "--rounds", "3", "--same-batch"]))
    if (ROOT / "bench" / "intake_http.py").exists():
        # its --pg adds PostgreSQL to SQLite
        pg = ["--pg", args.pg] if args.pg and offers_pg("intake_http") else []
        out.append(("intake_http", ["bench/intake_http.py", *pg]))
    for n in sizes:
        out.append(("sweep", ["bench/sweep.py", "--cases", str(n), "--rounds", "3"]))
    out.append(
        ("export", ["bench/export.py", "--lines", str(min(small, 100_000)), "--rounds", "3"])
    )
    # The kept files follow the schema: a new migration gets new folders.
    schema = "-".join(sorted(schema_heads()))
    for n in sizes:
        keep = str(Path(args.folder) / f"kesu-bench-report-{n}-{schema}")
        out.append(
            ("report", ["bench/report.py", "--cases", str(n), "--rounds", "3", "--keep", keep])
        )
    for n in sizes:
        keep = str(Path(args.folder) / f"kesu-bench-ledger-{n}-{schema}")
        export = str(max(n // 10, 1))
        out.append(
            (
                "ledger",
                ["bench/ledger.py", "--cases", str(n), "--export", export, "--rounds", "3"]
                + ["--keep", keep],
            )
        )
    chosen = set(args.only or NAMES) - set(args.skip or ())
    return [(name, cmd) for name, cmd in out if name in chosen]


def offers_pg(name: str) -> bool:
    found = subprocess.run(
        [sys.executable, f"bench/{name}.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return "--pg" in found.stdout


def run_step(cmd: list[str]) -> tuple[int, float, list[str]]:
    """Run one benchmark, echoing its output; (exit code, seconds, output lines)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *cmd],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line.rstrip("\n"))
    return proc.wait(), time.perf_counter() - start, lines


def tables(lines: list[str]) -> list[str]:
    """The output's Markdown (its tables and the headings over them), else its last lines."""
    start = next((i for i, line in enumerate(lines) if line.startswith("### ")), None)
    if start is not None:  # the list benchmark prints a whole Markdown section
        return lines[start:]
    rows = [line for line in lines if line.startswith("|")]
    if rows and not any(line.startswith("|---") for line in rows):
        rows.insert(1, "|" + "---|" * (rows[0].count("|") - 1))
    return rows or ["```", *lines[-8:], "```"]


def header(args) -> list[str]:
    engines = f"SQLite {sqlite3.sqlite_version} (WAL)"
    if args.pg:
        from bench.data import Loader

        loader = Loader(args.pg)
        engines += f"; PostgreSQL {loader.execute('SHOW server_version')[0][0].split()[0]}"
        loader.close()
    return [
        f"# Kesu benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {platform.platform(terse=True)}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start. Engines: {engines}. "
        f"Sizes: {', '.join(f'{n:,}' for n in args.sizes)} cases.",
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench all", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated case counts")
    parser.add_argument("--pg", help="a PostgreSQL URL (superuser): measure PostgreSQL too")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the list benchmark")
    parser.add_argument("--requests", type=int, default=30, help="requests per list round")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached list data")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(NAMES)}")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--folder", default=os.environ.get("KESU_BENCH_DIR", "/tmp"))
    parser.add_argument("--out", help="the Markdown report (default: FOLDER/kesu-bench-DATE.md)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    args.only = [s for s in (args.only or "").split(",") if s]
    args.skip = [s for s in (args.skip or "").split(",") if s]
    plan = steps(args)
    if args.dry_run:
        for _, cmd in plan:
            print("python " + " ".join(cmd))
        return
    out = Path(args.out or Path(args.folder) / f"kesu-bench-{dt.date.today():%Y-%m-%d}.md")
    report = header(args)
    failed = []
    for name, cmd in plan:
        print(f"\n== python {' '.join(cmd)}", flush=True)
        code, seconds, lines = run_step(cmd)
        report += ["", f"## {name}", "", f"`python {' '.join(cmd)}` ({seconds:.0f} s)", ""]
        if code:
            failed.append(name)
            report += [f"FAILED (exit {code}):", "", "```", *lines[-15:], "```"]
        else:
            report += tables(lines)
        out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n" + "\n".join(report))
    print(f"\nreport written to {out}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")
