"""Ledger export: `core.services.ledger_export.write_ledger` vs XlsxWriter alone, same cells.

    python bench/ledger.py --cases 1000000 --export 100000

Builds one SQLite file of ``--cases`` cases on two business lines (received one after another
over a year; each with its four SLA target deadlines, a product, a department and a handler; a
third with compensation lines; half closed with a catalogue root cause, a tenth visited),
with bulk INSERTs as bench/sweep.py does. Picks a period of line B1 holding about ``--export``
cases and, each in a fresh subprocess, alternating which goes first:

- the ledger export through the service layer (the filters checked, the count, one streamed
  SELECT with the compensation totals, SLA states and visit score in it, XlsxWriter in
  ``constant_memory``, the audit event); its wall and CPU time and the process's peak RSS
  (``VmHWM`` of /proc/self/status, the whole process: Python, Flask-AppBuilder, the plugins);
- XlsxWriter alone writing the very same cells (dumped beforehand by the ledger's own code,
  untimed) with the same formats and options; its time counts the workbook's creation, the
  writes and the close, not the reading of the dump.

The ratio says what the ledger costs over writing its workbook at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import pickle
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LINES = ("B1", "B2")
CHUNK = 20_000
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=365)
CUSTOMERS, PRODUCTS = 200, 50


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(folder: Path, cases: int) -> tuple[Path, float]:
    """Write the database; return (file, seconds)."""
    import sqlalchemy as sa
    from sweep import close, make_app

    from core.db import write_transaction
    from core.extensions import db
    from core.models import (
        Case,
        CaseDeadline,
        CaseVisit,
        CompensationLine,
        Customer,
        Department,
        KesuUser,
        Product,
        RootCause,
    )
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.setup import create_user, init_database

    start = time.perf_counter()
    rng = random.Random(1)
    app = make_app(folder)
    with app.app_context():
        init_database()
        line_ids, customers, products, causes, handlers = [], [], [], [], []
        for code in LINES:
            lines.create_line(SYSTEM, code=code, name=f"基准业务线 {code}", plugins=[])
            line_ids.append(lines.get_line(code).id)
        with write_transaction():
            for n, name in enumerate(("品保课", "仓储部", "生产部")):
                db.session.add(Department(code=f"D{n}", name=name))
        departments = list(db.session.scalars(sa.select(Department.id)))
        for code in LINES:
            create_user(
                SYSTEM,
                username=f"qa-{code.lower()}",
                password="bench-bench",
                roles=["QA"],
                lines=[code],
            )
        for code, line in zip(LINES, line_ids, strict=True):
            with write_transaction():
                for n in range(CUSTOMERS):
                    db.session.add(
                        Customer(
                            business_line_id=line,
                            name=f"基准经销商 {code}-{n:03d}" if n else '=HYPERLINK("x","y")',
                            kind="dealer",
                            phone=f"138{n:08d}",
                        )
                    )
                for n in range(PRODUCTS):
                    db.session.add(
                        Product(business_line_id=line, code=f"P{n:03d}", name=f"外墙乳胶漆 {n}")
                    )
                # A new line comes with the default catalogue (core.services.root_causes).
                codes = {
                    rc.code: rc
                    for rc in db.session.scalars(
                        sa.select(RootCause).where(RootCause.business_line_id == line)
                    )
                }
                parent = codes.get("material")
                if parent is None:
                    parent = RootCause(business_line_id=line, code="material", name="原材料")
                    db.session.add(parent)
                    db.session.flush()
                if "m.batch" not in codes:
                    db.session.add(
                        RootCause(
                            business_line_id=line,
                            parent_id=parent.id,
                            code="m.batch",
                            name="批次不合格",
                        )
                    )
        for line in line_ids:
            customers.append(
                list(
                    db.session.scalars(
                        sa.select(Customer.id).where(Customer.business_line_id == line)
                    )
                )
            )
            products.append(
                list(
                    db.session.scalars(
                        sa.select(Product.id).where(Product.business_line_id == line)
                    )
                )
            )
            causes.append(
                db.session.scalar(
                    sa.select(RootCause.id).where(
                        RootCause.business_line_id == line, RootCause.parent_id.is_not(None)
                    )
                )
            )
        handlers = list(db.session.scalars(sa.select(KesuUser.id).order_by(KesuUser.id)))[-2:]
        database = Path(db.engine.url.database)

        step = WINDOW / cases
        day = dt.timedelta(days=1)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # this connection: 256 MiB
            for lo in range(0, cases, CHUNK):
                rows, deadlines, money, visits = [], [], [], []
                for i in range(lo, min(lo + CHUNK, cases)):
                    k = i % 2
                    received = EPOCH + i * step
                    closed = i % 4 == 0
                    rows.append(
                        {
                            "id": i + 1,
                            "number": f"KS-BENCH-{i:08d}",
                            "business_line_id": line_ids[k],
                            "category": "logistics",
                            "channel": "phone",
                            "status": "closed" if closed else "investigating",
                            "priority": "P3",
                            "priority_reasons": [],
                            "is_major": i % 50 == 0,
                            "major_reasons": [],
                            "acceptance_issues": [],
                            "customer_id": customers[k][i % CUSTOMERS],
                            "product_id": products[k][i % PRODUCTS],
                            "batch_no": f"B{i % 997:04d}",
                            "received_at": received,
                            "description": "到货外箱破损，3 桶漏液，客户要求补发并承担运费。",
                            "demand": "compensation",
                            "claim_amount": Decimal(rng.randrange(100, 500_000)) / 100,
                            "details": {},
                            "deadlines": {},
                            "stage_times": {"closed": (received + 9 * day).isoformat()}
                            if closed
                            else {},
                            "department_id": departments[i % len(departments)],
                            "handler_id": handlers[k],
                            "root_cause": "供应商树脂批次粘度偏高" if closed else None,
                            "root_cause_id": causes[k] if closed else None,
                            "verified_effective": True if closed else None,
                            "version": 1,
                            "created_at": received,
                            "updated_at": received,
                        }
                    )
                    for name, days, met in (
                        ("registered", 1, received + dt.timedelta(hours=2)),
                        ("solution", 7, received + (9 if i % 10 == 0 else 5) * day),
                        ("compensation_done", 14, received + 8 * day if closed else None),
                        ("closed", 22, received + 9 * day if closed else None),
                    ):
                        deadlines.append(
                            {
                                "case_id": i + 1,
                                "business_line_id": line_ids[k],
                                "name": name,
                                "due_at": received + days * day,
                                "state": "met" if met else "running",
                                "met_at": met,
                                "hold_seconds": 0,
                            }
                        )
                    if i % 3 == 0:
                        for pos, kind in enumerate(("credit_note", "freight_to_customer")):
                            money.append(
                                {
                                    "case_id": i + 1,
                                    "position": pos,
                                    "kind": kind,
                                    "amount": Decimal(rng.randrange(100, 100_000)) / 100,
                                    "exec_status": "done",
                                    "approved_at": received + 6 * day,
                                }
                            )
                    if closed and i % 5 == 0:
                        visits.append(
                            {
                                "case_id": i + 1,
                                "visited_at": received + 10 * day,
                                "channel": "phone",
                                "satisfaction": 1 + i % 5,
                                "created_at": received + 10 * day,
                            }
                        )
                conn.execute(sa.insert(Case.__table__), rows)
                conn.execute(sa.insert(CaseDeadline.__table__), deadlines)
                if money:
                    conn.execute(sa.insert(CompensationLine.__table__), money)
                if visits:
                    conn.execute(sa.insert(CaseVisit.__table__), visits)
    close(app)
    con = sqlite3.connect(database)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return database, time.perf_counter() - start


def period(cases: int, export: int) -> tuple[dt.date, dt.date]:
    """Days of line B1 (Asia/Shanghai) from 1 March holding about ``export`` of its cases."""
    per_day = cases / 2 / 365
    first = dt.date(2026, 3, 1)
    days = max(1, math.ceil(export / per_day))
    return first, first + dt.timedelta(days=days - 1)


# -- the subprocesses --------------------------------------------------------------------------


def _app(folder: Path, database: Path):
    from sweep import make_app

    return make_app(folder, database)


def run_ledger(folder: Path, database: Path, first: str, last: str, out: Path) -> dict:
    from flask_babel import force_locale

    from core.services import ledger, ledger_export
    from core.services.access import SYSTEM

    app = _app(folder, database)
    with app.app_context(), force_locale("zh_CN"):
        before = peak_rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        filters = ledger.clean_filters(SYSTEM, {"business_line": "B1", "from": first, "to": last})
        rows = ledger_export.write_ledger(SYSTEM, filters, out, tmpdir=str(folder))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "rss_mb": peak_rss_mb(),
        "rss_before_mb": before,
    }


def run_dump(folder: Path, database: Path, first: str, last: str, out: Path) -> dict:
    """The cells the ledger writes, pickled a chunk at a time (not timed)."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from core.services import ledger, ledger_export
    from core.services.access import SYSTEM

    app = _app(folder, database)
    rows = 0
    with app.app_context(), force_locale("zh_CN"), out.open("wb") as handle:
        cols = ledger_export.columns()
        pickle.dump(
            ([c.type for c in cols], [c.width for c in cols], ledger_export.headers(cols)), handle
        )
        filters = ledger.clean_filters(SYSTEM, {"business_line": "B1", "from": first, "to": last})
        yes, no = str(_l("Yes")), str(_l("No"))
        labels = {k: str(v) for k, v in ledger.SLA_LABELS.items()}
        for part in ledger.chunks(SYSTEM, filters, size=ledger_export.CHUNK):
            cells = [ledger_export.cells(item, yes, no, labels) for item in part]
            pickle.dump(cells, handle)
            rows += len(cells)
    return {"rows": rows}


def run_baseline(folder: Path, cells: Path, out: Path) -> dict:
    """XlsxWriter alone: the same cells, formats and options (core.services.xlsx_cells)."""
    import xlsxwriter

    from core.services.xlsx_cells import WORKBOOK_OPTIONS, CellPlan, Column

    before = peak_rss_mb()
    rows = 0
    with cells.open("rb") as handle:
        types, widths, headers = pickle.load(handle)
        cols = [
            Column(str(n), h, t, w)
            for n, (h, t, w) in enumerate(zip(headers, types, widths, strict=True))
        ]
        start, cpu0 = time.perf_counter(), time.process_time()
        book = xlsxwriter.Workbook(str(out), {**WORKBOOK_OPTIONS, "tmpdir": str(folder)})
        sheet = book.add_worksheet("台帐")
        plan = CellPlan(book, sheet, cols)
        plan.write_header(book, headers)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
        while True:
            try:
                chunk = pickle.load(handle)  # reading the dump is not timed
            except EOFError:
                break
            start, cpu0 = time.perf_counter(), time.process_time()
            for row in chunk:
                rows += 1
                plan.write_row(rows, row)
            seconds, cpu = seconds + time.perf_counter() - start, cpu + time.process_time() - cpu0
        start, cpu0 = time.perf_counter(), time.process_time()
        sheet.autofilter(0, 0, max(rows, 1), len(cols) - 1)
        book.close()
        seconds, cpu = seconds + time.perf_counter() - start, cpu + time.process_time() - cpu0
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "rss_mb": peak_rss_mb(),
        "rss_before_mb": before,
    }


def child(role: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--role", role, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--export", type=int, default=100_000, help="cases in the exported period")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", default=None, help="build into (or reuse) this folder")
    parser.add_argument("--role", default=None, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.role:
        a = [Path(x) if "/" in x else x for x in rest]
        result = {
            "ledger": lambda: run_ledger(*a),
            "dump": lambda: run_dump(*a),
            "baseline": lambda: run_baseline(*a),
        }[args.role]()
        print(json.dumps(result))
        return

    tmp_ctx = None
    if args.keep:
        base = Path(args.keep)
        base.mkdir(parents=True, exist_ok=True)
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="kesu-ledger-bench-")
        base = Path(tmp_ctx.name)
    template = base / "template"
    database = template / "kesu.db"
    if database.exists():
        print(f"reusing {database}")
    else:
        database, built = build(template, args.cases)
        size = database.stat().st_size / 2**20
        print(f"built {args.cases:,} cases ({size:.0f} MiB) in {built:.1f} s", flush=True)
    first, last = period(args.cases, args.export)
    print(f"period of B1: {first} .. {last}", flush=True)
    cells = base / "cells.pickle"
    dumped = child("dump", str(template), str(database), str(first), str(last), str(cells))
    print(f"cells dumped: {dumped['rows']:,} rows", flush=True)

    ledgers, bares = [], []
    for r in range(args.rounds):
        order = ("baseline", "ledger") if r % 2 == 0 else ("ledger", "baseline")
        for side in order:
            out = base / f"{side}-{r}.xlsx"
            if side == "ledger":
                res = child("ledger", str(template), str(database), str(first), str(last), str(out))
                ledgers.append(res)
            else:
                res = child("baseline", str(base), str(cells), str(out))
                bares.append(res)
            if res["rows"] != dumped["rows"]:
                raise AssertionError(f"{side} wrote {res['rows']} rows, expected {dumped['rows']}")
            out.unlink()
        lw, bw = ledgers[-1], bares[-1]
        print(
            f"round {r + 1} ({' then '.join(order)}): ledger {lw['seconds']:.2f} s wall, "
            f"{lw['cpu']:.2f} s CPU (peak RSS {lw['rss_mb']:.0f} MB); XlsxWriter alone "
            f"{bw['seconds']:.2f} s wall, {bw['cpu']:.2f} s CPU (peak RSS {bw['rss_mb']:.0f} MB); "
            f"ratio {lw['seconds'] / bw['seconds']:.2f}x wall, {lw['cpu'] / bw['cpu']:.2f}x CPU",
            flush=True,
        )
    cells.unlink()
    s = statistics.median(x["seconds"] for x in ledgers)
    b = statistics.median(x["seconds"] for x in bares)
    sc = statistics.median(x["cpu"] for x in ledgers)
    bc = statistics.median(x["cpu"] for x in bares)
    wall = statistics.median(
        x["seconds"] / y["seconds"] for x, y in zip(ledgers, bares, strict=True)
    )
    cpu = statistics.median(x["cpu"] / y["cpu"] for x, y in zip(ledgers, bares, strict=True))
    rss = max(x["rss_mb"] for x in ledgers)
    idle = max(x["rss_before_mb"] for x in ledgers)
    rss_b = max(x["rss_mb"] for x in bares)
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (WAL)"
    )
    rows = dumped["rows"]
    print(f"rounds: {args.rounds} (medians shown; ratios are the median of each round's)")
    print(
        f"ledger export    : {s:.2f} s wall ({rows / s:,.0f} rows/s), {sc:.2f} s CPU, "
        f"peak RSS {rss:.0f} MB (app loaded, before the export: {idle:.0f} MB)"
    )
    print(f"XlsxWriter alone : {b:.2f} s wall, {bc:.2f} s CPU, peak RSS {rss_b:.0f} MB")
    print(f"ratio            : {wall:.2f}x wall, {cpu:.2f}x CPU")
    print(
        "| date | machine | cases | exported | ledger export (wall / CPU) "
        "| XlsxWriter alone (wall / CPU) | ratio wall | ratio CPU | peak RSS (ledger) |"
    )
    print(
        f"| {dt.date.today().isoformat()} | {machine} | {args.cases:,} | {rows:,} | "
        f"{s:.1f} s / {sc:.1f} s | {b:.1f} s / {bc:.1f} s | {wall:.2f}× | {cpu:.2f}× "
        f"| {rss:.0f} MB |"
    )
    if tmp_ctx is not None:
        tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
