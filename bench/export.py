"""Finance export: 100,000 compensation lines to XLSX through the service vs XlsxWriter alone.

    python bench/export.py                 # 100,000 lines (20,000 cases of 5 lines)
    python bench/export.py --lines 20000

Builds one SQLite file with approved, pending credit lines (bare INSERTs, not timed), then runs
two child processes, each on its own copy of the file, and reads each one's peak RSS
(``ru_maxrss``, the whole process: Python, the app, SQLAlchemy, the export):

- service: ``core.services.finance.export`` of the credit-note list (reads the lines in chunks,
  writes the XLSX and the CSV, stores both with their SHA-256, marks every line, inserts the
  batch's line rows, audits; one write transaction, committed);
- baseline: XlsxWriter alone in ``constant_memory`` mode writing the same cells (the same 14
  columns, formats, totals row) from a bare ``sqlite3`` cursor over the same rows, to memory;
  the time of only reading that cursor is shown too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_CASE = 5
KINDS = ("credit_note", "account_adjustment", "refund", "freight_to_customer", "credit_note")


def _app(folder: Path):
    from core.app import create_app

    return create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"})


def build(folder: Path, n_lines: int) -> None:
    """The file: one line, 1,000 customers, n/5 cases with one approval each, n lines."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import ApprovalStep, Case, CompensationLine, Customer, KesuUser, Product
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.setup import create_user, init_database

    app = _app(folder)
    with app.app_context():
        init_database()
        lines.create_line(SYSTEM, code="B1", name="基准业务线", plugins=["logistics"])
        line_id = lines.get_line("B1").id
        create_user(
            SYSTEM, username="boss", password="bench-bench", roles=["Manager"], lines=["B1"]
        )
        boss = db.session.scalar(sa.select(KesuUser.id).where(KesuUser.username == "boss"))
        now = dt.datetime.now(dt.UTC)
        n_cases = n_lines // PER_CASE
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(Customer.__table__),
                [
                    {
                        "business_line_id": line_id,
                        "name": f"经销商{i:04d}" if i % 50 else f'=HYPERLINK("x","{i}")',
                        "kind": "dealer",
                        "contact": f"联系人{i}",
                        "phone": f"138{i:08d}",
                        "address": f"上海市浦东新区张江路 {i} 号",
                    }
                    for i in range(1, 1001)
                ],
            )
            conn.execute(
                sa.insert(Product.__table__),
                [
                    {"business_line_id": line_id, "code": f"P-{i:03d}", "name": f"外墙乳胶漆 {i}"}
                    for i in range(100)
                ],
            )
            customers = list(conn.execute(sa.select(Customer.id)).scalars())
            for start in range(0, n_cases, 5000):
                chunk = range(start, min(start + 5000, n_cases))
                conn.execute(
                    sa.insert(Case.__table__),
                    [
                        {
                            "id": i + 1,
                            "number": f"KS-202612-{i + 1:06d}",
                            "business_line_id": line_id,
                            "category": "logistics",
                            "channel": "phone",
                            "status": "executing",
                            "priority": "P3",
                            "priority_reasons": [],
                            "is_major": False,
                            "major_reasons": [],
                            "acceptance_issues": [],
                            "customer_id": customers[i % len(customers)],
                            "batch_no": f"B{i}",
                            "received_at": now,
                            "description": "基准",
                            "details": {},
                            "deadlines": {},
                            "stage_times": {},
                            "version": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in chunk
                    ],
                )
                conn.execute(
                    sa.insert(ApprovalStep.__table__),
                    [
                        {
                            "case_id": i + 1,
                            "round": 1,
                            "seq": 1,
                            "step": "cs_supervisor",
                            "role": "cs_supervisor",
                            "decision": "approved",
                            "decided_by_id": boss,
                            "decided_at": now,
                        }
                        for i in chunk
                    ],
                )
                conn.execute(
                    sa.insert(CompensationLine.__table__),
                    [
                        {
                            "case_id": i + 1,
                            "position": p,
                            "kind": KINDS[p],
                            "quantity": p + 1,
                            "unit_price": "12.50",
                            "amount": f"{(i % 997) + p}.25",
                            "sku": f"P-{(i + p) % 100:03d}",
                            "batch_no": f"B{i}",
                            "note": "=1+1" if p == 4 else "按协议冲销",
                            "approved_at": now,
                            "approved_round": 1,
                            "exec_status": "pending",
                        }
                        for i in chunk
                        for p in range(PER_CASE)
                    ],
                )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_service(folder: Path) -> dict:
    from core.services import finance
    from core.services.access import SYSTEM

    app = _app(folder)
    with app.app_context():
        before = peak_mb()
        start = time.perf_counter()
        batch = finance.export(SYSTEM, {"kind": "credit_notes", "business_line": "B1"})
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "peak_mb": peak_mb(),
            "peak_before_mb": before,
            "lines": batch.line_count,
            "xlsx_bytes": len(batch.xlsx),
        }


BASE_SQL = """
SELECT c.number, cu.name, 'B1 line', c.category, l.kind, l.sku, l.batch_no, l.quantity,
       l.unit_price, l.amount, l.note, l.approved_at, u.username, l.id
FROM compensation_line l JOIN kesu_case c ON c.id = l.case_id
JOIN customer cu ON cu.id = c.customer_id
LEFT JOIN approval_step s ON s.case_id = c.id AND s.round = l.approved_round
LEFT JOIN ab_user u ON u.id = s.decided_by_id
ORDER BY c.number, l.position, l.id
"""


def child_baseline(folder: Path) -> dict:
    import xlsxwriter

    con = sqlite3.connect(folder / "kesu.db")
    start = time.perf_counter()
    for _row in con.execute(BASE_SQL):
        pass
    read_only = time.perf_counter() - start

    start = time.perf_counter()
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet("list")
    money = book.add_format({"num_format": "#,##0.00"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    bold = book.add_format({"bold": True})
    for col in range(14):
        sheet.set_column(col, col, 16)
        sheet.write_string(0, col, f"H{col}", bold)
    sheet.freeze_panes(1, 0)
    total, row = 0.0, 0
    for r in con.execute(BASE_SQL):
        row += 1
        for col in (0, 1, 2, 3, 4, 5, 6, 10, 12):
            if r[col] is not None:
                sheet.write_string(row, col, str(r[col]))
        sheet.write_number(row, 7, r[7])
        sheet.write_number(row, 8, r[8] / 100, money)
        sheet.write_number(row, 9, r[9] / 100, money)
        total += r[9] / 100
        sheet.write_datetime(row, 11, dt.datetime.fromisoformat(r[11]).date(), date)
        sheet.write_number(row, 13, r[13])
    sheet.autofilter(0, 0, row, 13)
    sheet.write_string(row + 2, 0, "Total", bold)
    sheet.write_number(row + 2, 9, total, money)
    book.close()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "read_only": read_only,
        "peak_mb": peak_mb(),
        "lines": row,
        "xlsx_bytes": len(out.getvalue()),
    }


def run_child(kind: str, folder: Path, lines: int = 0) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--folder", str(folder), "--lines", str(lines)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="median of this many, alternating")
    parser.add_argument("--child", choices=["build", "service", "baseline"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child == "build":
        build(args.folder, args.lines)
        print(json.dumps({}))
        return
    if args.child:
        work = child_service if args.child == "service" else child_baseline
        print(json.dumps(work(args.folder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        start = time.perf_counter()
        # Every process is started by this small one: Linux carries a parent's peak RSS over
        # into a forked child, so the build (which loads the app) runs in a child too.
        run_child("build", source, args.lines)
        print(f"built {args.lines} lines in {time.perf_counter() - start:.1f} s")
        runs: dict[str, list[dict]] = {"service": [], "baseline": []}
        for n in range(args.rounds):
            order = ("baseline", "service") if n % 2 == 0 else ("service", "baseline")
            for kind in order:
                folder = Path(tmp) / kind
                shutil.copytree(source, folder)
                runs[kind].append(run_child(kind, folder))
                shutil.rmtree(folder)
    s, b = (sorted(runs[k], key=lambda r: r["seconds"])[args.rounds // 2] for k in runs)
    assert s["lines"] == b["lines"] == args.lines, (s, b)
    print(f"lines: {args.lines}, rounds: {args.rounds} (median shown)")
    print(
        f"service  : {s['seconds']:.2f} s  peak RSS {s['peak_mb']:.0f} MB "
        f"(after app start {s['peak_before_mb']:.0f} MB)  xlsx {s['xlsx_bytes'] / 1e6:.1f} MB"
    )
    print(
        f"baseline : {b['seconds']:.2f} s  peak RSS {b['peak_mb']:.0f} MB  "
        f"(of it reading the rows: {b['read_only']:.2f} s)  xlsx {b['xlsx_bytes'] / 1e6:.1f} MB"
    )
    print(f"ratio    : {s['seconds'] / b['seconds']:.2f}x (target <= 1.5x, peak < 150 MB)")
    from bench.timing import machine

    print(
        "| date | machine | lines | service | peak RSS | XlsxWriter alone | its peak RSS | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {dt.date.today().isoformat()} | {machine(f'SQLite {sqlite3.sqlite_version} (WAL)')} "
        f"| {args.lines:,} | {s['seconds']:.2f} s | {s['peak_mb']:.0f} MB "
        f"| {b['seconds']:.2f} s ({b['read_only']:.2f} s reading rows) | {b['peak_mb']:.0f} MB "
        f"| {s['seconds'] / b['seconds']:.2f}× |"
    )


if __name__ == "__main__":
    main()
