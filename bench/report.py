"""Monthly report: `core.services.report_monthly.monthly` for one line-month vs a bare count.

    python bench/report.py --cases 1000000

Builds one SQLite database (bare INSERTs, not timed) of cases received one after another over
two years (2025-01 to 2026-12) on five business lines, each case with section 6's four target
deadlines, half of them with a compensation line, a third of the closed ones with a return
visit; products, batches, departments and a two-level root-cause catalogue per line. Then
times, alternating which goes first, on the same file: the monthly report of one line and month
(this month and the previous one: counts by seven dimensions, opened/closed/open at the end,
SLA attainment and the missed cases, compensation by kind, satisfaction, top products and
batches), against a bare ``SELECT count(*)`` of that line-month's cases through the same
engine. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.sweep import close, make_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import (  # noqa: E402
    BusinessLine,
    Case,
    CaseDeadline,
    CaseVisit,
    CompensationLine,
    Customer,
    Department,
    Product,
    RootCause,
)
from core.services import lines, records, report_monthly  # noqa: E402
from core.services.access import SYSTEM  # noqa: E402
from core.services.setup import init_database  # noqa: E402

LINES = ("R1", "R2", "R3", "R4", "R5")
CHUNK = 50_000
SH = ZoneInfo("Asia/Shanghai")
EPOCH = dt.datetime(2025, 1, 1, tzinfo=SH).astimezone(dt.UTC)
WINDOW = dt.datetime(2027, 1, 1, tzinfo=SH).astimezone(dt.UTC) - EPOCH
NOW = dt.datetime(2027, 1, 5, tzinfo=dt.UTC)  # the report's "now" (SLA pending or missed)
CATEGORIES = ("logistics", "product_quality", "policy_returns", "terminal_consumer", "major")
CHANNELS = ("phone", "email", "online", "sales_rep", "store", "wechat")
KINDS = ("credit_note", "reship", "refund", "freight_to_customer", "account_adjustment")
TARGETS = ("registered", "solution", "compensation_done", "closed")
DAYS = {"registered": 1, "solution": 7, "compensation_done": 14, "closed": 22}


def _reference(line_ids: list[int]) -> dict[int, dict[str, list[int]]]:
    """Products, root causes per line; departments shared."""
    departments = []
    for n in range(6):
        department = Department(code=f"D{n}", name=f"部门{n}")
        records.save(SYSTEM, department, "department")
        departments.append(department.id)
    out = {}
    for line_id in line_ids:
        products = [
            Product(business_line_id=line_id, code=f"P{n:03d}", name=f"产品{n}") for n in range(40)
        ]
        db.session.add_all(products)
        parents = [
            RootCause(business_line_id=line_id, code=f"c{n}", name=f"原因{n}") for n in range(4)
        ]
        db.session.add_all(parents)
        db.session.flush()
        children = [
            RootCause(
                business_line_id=line_id,
                code=f"c{n}.{m}",
                name=f"细分{m}",
                parent_id=parents[n].id,
            )
            for n in range(4)
            for m in range(2)
        ]
        db.session.add_all(children)
        db.session.flush()
        out[line_id] = {
            "products": [p.id for p in products],
            "causes": [c.id for c in parents + children],
            "departments": departments,
        }
    db.session.commit()
    return out


def build(folder: Path, cases: int) -> tuple[Path, float]:
    start = time.perf_counter()
    app = make_app(folder)
    with app.app_context():
        init_database()
        line_ids, customer_ids = [], []
        for code in LINES:
            lines.create_line(SYSTEM, code=code, name=f"月报 {code}", plugins=[])
            line = lines.get_line(code)
            customer = Customer(business_line_id=line.id, name=f"经销商 {code}")
            records.save(SYSTEM, customer, "customer")
            line_ids.append(line.id)
            customer_ids.append(customer.id)
        ref = _reference(line_ids)
        database = Path(db.engine.url.database)
        step = WINDOW / cases
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
            for lo in range(0, cases, CHUNK):
                rows, deadlines, lines_, visits = [], [], [], []
                for i in range(lo, min(lo + CHUNK, cases)):
                    k = i % len(LINES)
                    j = i // len(LINES)  # the case's rank on its line
                    r = ref[line_ids[k]]
                    received = EPOCH + i * step
                    closed = received + dt.timedelta(days=3 + i % 20, hours=i % 7)
                    is_closed = j % 10 != 0 and closed < NOW
                    rejected = j % 50 == 7
                    stage_times = {"new": received.isoformat()}
                    if rejected:
                        stage_times["rejected"] = (received + dt.timedelta(hours=2)).isoformat()
                    elif is_closed:
                        stage_times["closed"] = closed.isoformat()
                    rows.append(
                        {
                            "id": i + 1,
                            "number": f"KS-R-{i:08d}",
                            "business_line_id": line_ids[k],
                            "category": CATEGORIES[j % len(CATEGORIES)],
                            "channel": CHANNELS[(j // 3) % len(CHANNELS)],
                            "status": "rejected"
                            if rejected
                            else ("closed" if is_closed else "investigating"),
                            "priority": ("P3", "P3", "P2", "P1")[j % 4],
                            "priority_reasons": [],
                            "is_major": False,
                            "major_reasons": [],
                            "acceptance_issues": [],
                            "customer_id": customer_ids[k],
                            "product_id": r["products"][(j // 11) % 40] if j % 9 else None,
                            "batch_no": f"B{(j // 13) % 300:04d}" if j % 6 else None,
                            "department_id": r["departments"][j % 6] if j % 7 else None,
                            "root_cause_id": r["causes"][j % 12] if j % 8 else None,
                            "received_at": received,
                            "description": "月报基准",
                            "details": {},
                            "deadlines": {},
                            "stage_times": stage_times,
                            "version": 1,
                            "created_at": received,
                            "updated_at": received,
                        }
                    )
                    for name in TARGETS:
                        due = received + dt.timedelta(days=DAYS[name])
                        met = None
                        state = "void" if rejected and name != "registered" else "running"
                        if name == "registered" or (is_closed and not rejected):
                            state = "met"
                            late = j % 17 == 0
                            met = (
                                due + dt.timedelta(hours=5) if late else due - dt.timedelta(hours=5)
                            )
                        deadlines.append(
                            {
                                "case_id": i + 1,
                                "business_line_id": line_ids[k],
                                "name": name,
                                "due_at": due,
                                "state": state,
                                "met_at": met,
                                "hold_seconds": 0,
                            }
                        )
                    if j % 2 == 0:
                        lines_.append(
                            {
                                "case_id": i + 1,
                                "position": 0,
                                "kind": KINDS[(j // 2) % len(KINDS)],
                                "amount": 100 + i % 900,
                                "exec_status": "cancelled" if j % 40 == 0 else "pending",
                            }
                        )
                    if is_closed and j % 3 == 0:
                        visits.append(
                            {
                                "case_id": i + 1,
                                "visited_at": closed + dt.timedelta(days=2),
                                "channel": "phone",
                                "satisfaction": 1 + j % 5,
                            }
                        )
                conn.execute(sa.insert(Case.__table__), rows)
                conn.execute(sa.insert(CaseDeadline.__table__), deadlines)
                conn.execute(sa.insert(CompensationLine.__table__), lines_)
                conn.execute(sa.insert(CaseVisit.__table__), visits)
    close(app)
    con = sqlite3.connect(database)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return database, time.perf_counter() - start


def _statements(app):
    """A counter of the SQL statements the engine runs."""
    seen = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a, **k: seen.append(1))
    return seen


def report_run(app, code: str, month: str) -> tuple[float, dict]:
    with app.app_context():
        start = time.perf_counter()
        report = report_monthly.monthly(SYSTEM, code, month, now=NOW)
        seconds = time.perf_counter() - start
        db.session.rollback()
    return seconds, report


def history_run(app, code: str, month: str) -> float:
    """Reading the stage times of every case of the line received before the month's end:
    the least the closed / open-at-the-end counts must read without an index on closing time."""
    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code))
        year, number = report_monthly.parse_month(month)
        _, end = report_monthly.bounds(line, year, number)
        start = time.perf_counter()
        db.session.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.func.length(Case.stage_times))).where(
                Case.business_line_id == line.id, Case.received_at < end
            )
        ).one()
        seconds = time.perf_counter() - start
        db.session.rollback()
    return seconds


def bare_run(app, code: str, month: str) -> tuple[float, int]:
    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code))
        year, number = report_monthly.parse_month(month)
        first, last = report_monthly.month_days(year, number)
        lo = dt.datetime.combine(first, dt.time(), SH).astimezone(dt.UTC)
        hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SH).astimezone(dt.UTC)
        start = time.perf_counter()
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(Case.business_line_id == line.id, Case.received_at >= lo, Case.received_at < hi)
        )
        seconds = time.perf_counter() - start
        db.session.rollback()
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--line", default="R1")
    parser.add_argument("--month", default="2026-06")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", help="build into (or reuse) this folder instead of a temp one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kesu-report-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp) / "template"
        database = folder / "kesu.db"
        if not database.exists():
            database, built = build(folder, args.cases)
            print(f"built {args.cases:,} cases in {built:.1f} s")
        size = database.stat().st_size / 2**20
        print(f"database {size:.0f} MiB")
        app = make_app(folder, database)
        statements = _statements(app)
        first_report, report = report_run(app, args.line, args.month)  # cold: the first read
        queries = len(statements)
        _, count = bare_run(app, args.line, args.month)
        if count != report["total"]:
            raise AssertionError(f"bare count {count} != report total {report['total']}")
        print(
            f"{args.line} {args.month}: {report['total']:,} cases "
            f"(previous {report['previous']['total']:,}), closed {report['closed']:,}, "
            f"open at the end {report['open_at_end']:,}; {queries} SQL statements; "
            f"first (cold) run {first_report:.3f} s"
        )
        reports, bares, histories = [], [], []
        for r in range(args.rounds):
            order = ("bare", "report") if r % 2 == 0 else ("report", "bare")
            for side in order:
                if side == "report":
                    reports.append(report_run(app, args.line, args.month)[0])
                else:
                    bares.append(bare_run(app, args.line, args.month)[0])
                    histories.append(history_run(app, args.line, args.month))
            print(
                f"round {r + 1}: report {reports[-1]:.3f} s, bare count {bares[-1] * 1000:.1f} ms,"
                f" history read {histories[-1]:.3f} s"
            )
        close(app)
    rep, bare = statistics.median(reports), statistics.median(bares)
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (WAL)"
    )
    print(f"report      : {rep:.3f} s (median of {args.rounds})")
    print(f"bare count  : {bare * 1000:.1f} ms")
    history = statistics.median(histories)
    print(f"history read: {history:.3f} s")
    print(
        "| date | machine | cases | line-month | its cases | report | bare count "
        "| history read | statements |"
    )
    print(
        f"| {dt.date.today().isoformat()} | {machine} | {args.cases:,} | {args.line} {args.month} "
        f"| {report['total']:,} | {rep:.2f} s | {bare * 1000:.1f} ms | {history:.2f} s "
        f"| {queries} |"
    )


if __name__ == "__main__":
    main()
