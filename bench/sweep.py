"""Overdue sweep: `core.services.sla_sweep.sweep` vs a bare UPDATE of the same rows.

    python bench/sweep.py --cases 1000000

Builds one SQLite database of open cases, each with a few running deadlines of which a
fraction (``--overdue``) has passed at the sweep moment, then times, each on its own fresh
copy of that file: the service's sweep (one set-based UPDATE ... RETURNING the rows' lines,
through the partial index ``ix_case_deadline_sweep``, one notification and one audit event per line,
one write transaction), and a bare ``UPDATE case_deadline SET overdue_at, escalated_at
WHERE due_at < now`` in one write transaction on the same engine setup. The ratio says what
the sweep costs over the least a database could do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.data import Loader, close, make_app, setup_line, setup_user, sqlite_url, ts  # noqa: E402
from core.db import write_transaction  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import BusinessLine, Customer  # noqa: E402
from core.services import records, sla_sweep  # noqa: E402
from core.services.access import SYSTEM  # noqa: E402
from core.services.setup import init_database  # noqa: E402

LINES = ("B1", "B2")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=365)  # the cases were received over a year
# Running deadlines of a case under investigation, with roughly their calendar length.
DEADLINES = (
    ("reply", dt.timedelta(days=4)),
    ("reply_max", dt.timedelta(days=9)),
    ("closed", dt.timedelta(days=22)),
    ("investigation", dt.timedelta(days=7)),
    ("solution", dt.timedelta(days=7)),
    ("compensation_done", dt.timedelta(days=14)),
)
# The service's own statement, so that the plan shown is the one the sweep runs.
SWEEP_UPDATE = sla_sweep.SWEEP_UPDATE_SQL
BARE_UPDATE = "UPDATE case_deadline SET overdue_at = :now, escalated_at = :now WHERE due_at < :now"


def due_offsets(cases: int, per_case: int, layout: str) -> list[int]:
    """Microseconds after EPOCH at which each deadline row falls due, in insertion order."""
    window = int(WINDOW.total_seconds() * 1_000_000)
    if layout == "random":  # due order unrelated to row order
        rng = random.Random(1)
        return [rng.randrange(window) for _ in range(cases * per_case)]
    step = window // cases  # one case after another, deadlines relative to receipt
    lengths = [int(length.total_seconds() * 1_000_000) for _, length in DEADLINES[:per_case]]
    return [i * step + length for i in range(cases) for length in lengths]


def build(folder: Path, cases: int, per_case: int, overdue: float, layout: str):
    """Write the database; return (file, sweep moment, expected overdue rows, seconds)."""
    start = time.perf_counter()
    app = make_app(folder)
    with app.app_context():
        init_database()
        line_ids, customer_ids = [], []
        for code in LINES:
            line_id = setup_line(code, f"Bench {code}")
            customer = Customer(business_line_id=line_id, name=f"基准经销商 {code}")
            records.save(SYSTEM, customer, "customer")
            setup_user(f"supervisor-{code.lower()}", "bench-bench", "CS Supervisor", [code])
            line_ids.append(line_id)
            customer_ids.append(customer.id)
        database = Path(db.engine.url.database)
    close(app)

    dues = due_offsets(cases, per_case, layout)
    cut = sorted(dues)[min(int(len(dues) * overdue), len(dues) - 1)]
    now = EPOCH + dt.timedelta(microseconds=cut)
    expected = sum(1 for d in dues if d < cut)
    step = dt.timedelta(microseconds=int(WINDOW.total_seconds() * 1_000_000) // cases)
    names = [name for name, _ in DEADLINES[:per_case]]
    loader = Loader(sqlite_url(database))
    loader.load(
        "kesu_case",
        CASE_COLUMNS,
        (
            (
                i + 1,
                f"KS-BENCH-{i:08d}",
                line_ids[i % 2],
                customer_ids[i % 2],
                ts(EPOCH + i * step),
                ts(EPOCH + i * step),
                ts(EPOCH + i * step),
                *OPEN_CASE,
            )
            for i in range(cases)
        ),
    )
    loader.load(
        "case_deadline",
        ("case_id", "business_line_id", "name", "due_at", "state", "hold_seconds"),
        (
            (
                j // per_case + 1,
                line_ids[(j // per_case) % 2],
                names[j % per_case],
                ts(EPOCH + dt.timedelta(microseconds=due)),
                "running",
                0,
            )
            for j, due in enumerate(dues)
        ),
    )
    loader.finish()
    return database, now, expected, time.perf_counter() - start


# The open case of the sweep: under investigation, nothing else on it.
CASE_COLUMNS = (
    "id",
    "number",
    "business_line_id",
    "customer_id",
    "received_at",
    "created_at",
    "updated_at",
    "category",
    "channel",
    "status",
    "priority",
    "priority_reasons",
    "is_major",
    "major_reasons",
    "acceptance_issues",
    "description",
    "details",
    "deadlines",
    "stage_times",
    "version",
)
OPEN_CASE = ("logistics", "phone", "investigating", "P3", "[]", False, "[]", "[]", "基准测试")
OPEN_CASE += ("{}", "{}", "{}", 1)


def naive(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(tzinfo=None)


def query_plans(database: Path, now: dt.datetime) -> dict[str, list[str]]:
    con = sqlite3.connect(database)
    param = naive(now).isoformat(sep=" ", timespec="microseconds")
    plans = {}
    statements = {"sweep UPDATE": SWEEP_UPDATE, "bare UPDATE": BARE_UPDATE}
    for label, sql in statements.items():
        rows = con.execute("EXPLAIN QUERY PLAN " + sql, {"now": param}).fetchall()
        plans[label] = [detail for *_, detail in rows]
    con.close()
    return plans


def fresh_copy(database: Path, folder: Path) -> Path:
    folder.mkdir()
    copy = folder / "kesu.db"
    shutil.copyfile(database, copy)
    return copy


def warm(app) -> None:
    """Open the connection and read the schema before the clock starts, on either side."""
    with app.app_context():
        db.session.execute(sa.select(sa.func.count()).select_from(BusinessLine)).scalar()
        db.session.commit()


def sweep_run(database: Path, folder: Path, now: dt.datetime) -> tuple[float, int, float]:
    copy = fresh_copy(database, folder)
    app = make_app(folder, copy)
    warm(app)
    with app.app_context():
        start = time.perf_counter()
        result = sla_sweep.sweep(None, now)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        again = sla_sweep.sweep(None, now)
        second = time.perf_counter() - start
        if again.total:
            raise AssertionError(f"a second sweep escalated {again.total} deadlines")
    close(app)
    shutil.rmtree(folder)
    return seconds, result.total, second


def bare_run(database: Path, folder: Path, now: dt.datetime) -> tuple[float, int]:
    copy = fresh_copy(database, folder)
    app = make_app(folder, copy)
    warm(app)
    with app.app_context():
        start = time.perf_counter()
        with write_transaction():
            count = db.session.execute(sa.text(BARE_UPDATE), {"now": naive(now)}).rowcount
        seconds = time.perf_counter() - start
    close(app)
    shutil.rmtree(folder)
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument(
        "--deadlines-per-case", type=int, default=3, choices=range(1, len(DEADLINES) + 1)
    )
    parser.add_argument("--overdue", type=float, default=0.1, help="share of rows past due")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--layout",
        choices=("timeline", "random"),
        default="timeline",
        help="timeline: cases received one after another; random: due order unrelated to rows",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kesu-sweep-") as tmp:
        tmp = Path(tmp)
        database, now, expected, built = build(
            tmp / "template", args.cases, args.deadlines_per_case, args.overdue, args.layout
        )
        rows = args.cases * args.deadlines_per_case
        size = database.stat().st_size / 2**20
        print(f"built {args.cases} cases, {rows} deadline rows ({size:.0f} MiB) in {built:.1f} s")
        print(f"sweep at {now.isoformat()}: {expected} rows past due ({expected / rows:.1%})")
        for label, plan in query_plans(database, now).items():
            print(f"plan, {label}: " + "; ".join(plan))

        sweeps, bares, seconds_sweeps = [], [], []
        for r in range(args.rounds):
            order = ("bare", "sweep") if r % 2 == 0 else ("sweep", "bare")
            for side in order:
                folder = tmp / f"{side}-{r}"
                if side == "sweep":
                    seconds, total, second = sweep_run(database, folder, now)
                    if total != expected:
                        raise AssertionError(f"sweep escalated {total}, expected {expected}")
                    sweeps.append(seconds)
                    seconds_sweeps.append(second)
                else:
                    seconds, count = bare_run(database, folder, now)
                    if count != expected:
                        raise AssertionError(f"bare UPDATE changed {count}, expected {expected}")
                    bares.append(seconds)
            print(
                f"round {r + 1} ({' then '.join(order)}): sweep {sweeps[-1]:.3f} s, "
                f"bare UPDATE {bares[-1]:.3f} s, second sweep {seconds_sweeps[-1] * 1000:.1f} ms"
            )

    s, b = statistics.median(sweeps), statistics.median(bares)
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (WAL)"
    )
    print(f"rounds: {args.rounds} (median shown), layout: {args.layout}")
    print(f"sweep       : {s:.3f} s  ({expected / s:,.0f} rows/s)")
    print(f"bare UPDATE : {b:.3f} s  ({expected / b:,.0f} rows/s)")
    print(f"second sweep: {statistics.median(seconds_sweeps) * 1000:.1f} ms (nothing left to do)")
    print(f"ratio       : {s / b:.2f}x")
    print(
        "| date | machine | layout | open cases | deadline rows | past due "
        "| sweep | bare UPDATE | ratio | second sweep |"
    )
    print(
        f"| {dt.date.today().isoformat()} | {machine} | {args.layout} | {args.cases:,} | "
        f"{rows:,} | {expected:,} | {s:.2f} s | {b:.2f} s | {s / b:.2f}× | "
        f"{statistics.median(seconds_sweeps) * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
