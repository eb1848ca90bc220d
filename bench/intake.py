"""Intake throughput: registering cases through the service layer vs bare INSERTs.

    python bench/intake.py --cases 300

Both sides write into fresh SQLite files, one transaction per case. The service side does
everything a real intake does (validation, customer lookup, gap-free numbering, plugin hooks,
the hash-chained audit event); the baseline inserts an equivalent case row, and nothing else,
with SQLAlchemy Core. The ratio says what that work costs per case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from core.app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.models import BusinessLine, Case, Customer, KesuUser  # noqa: E402
from core.services import cases, lines, records  # noqa: E402
from core.services.access import SYSTEM  # noqa: E402
from core.services.setup import create_user, init_database  # noqa: E402

BODY = {
    "business_line": "B1",
    "category": "product_quality",
    "channel": "phone",
    "customer": {"name": "基准经销商"},
    "batch_no": "BENCH-1",
    "quantity_purchased": 10,
    "description": "基准测试",
    "claim_amount": "100.00",
    "details": {"problem": "quality_defect", "affected_quantity": 2},
}


def seed(username: str, password: str) -> None:
    """In the app's context: the schema, line B1 (product quality, major incident), a customer,
    and a CS agent of B1 (also the HTTP intake bench's set-up)."""
    init_database()
    lines.create_line(
        SYSTEM, code="B1", name="Bench", plugins=["product_quality", "major_incident"]
    )
    line = lines.get_line("B1")
    records.save(SYSTEM, Customer(business_line_id=line.id, name="基准经销商"), "customer")
    create_user(SYSTEM, username=username, password=password, roles=["CS Agent"], lines=["B1"])


def make_app(folder: Path):
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"})
    with app.app_context():
        seed("bench", "bench-bench")
    return app


def service_run(app, n: int, same_batch: bool) -> float:
    with app.app_context():
        actor = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "bench"))
        start = time.perf_counter()
        for i in range(n):
            cases.create_case(
                actor, {**BODY, "batch_no": "BENCH-1" if same_batch else f"BENCH-{i}"}
            )
        return time.perf_counter() - start


def baseline_run(app, n: int) -> float:
    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine))
        customer = db.session.scalar(sa.select(Customer))
        engine = db.engine
        now = dt.datetime.now(dt.UTC)
        start = time.perf_counter()
        for i in range(n):
            with engine.begin() as conn:
                conn.execute(
                    sa.insert(Case.__table__).values(
                        number=f"KS-BASE-{i:06d}",
                        business_line_id=line.id,
                        category="product_quality",
                        channel="phone",
                        status="new",
                        priority="P3",
                        priority_reasons=[],
                        is_major=False,
                        major_reasons=[],
                        acceptance_issues=[],
                        customer_id=customer.id,
                        batch_no="BENCH-1",
                        quantity_purchased=10,
                        received_at=now,
                        description="基准测试",
                        claim_amount="100.00",
                        details={},
                        deadlines={},
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--same-batch",
        action="store_true",
        help="every complaint about one batch: a growing batch outbreak",
    )
    args = parser.parse_args()
    service, baseline = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp) / "a")
            service.append(service_run(app, args.cases, args.same_batch))
            base_app = make_app(Path(tmp) / "b")
            baseline.append(baseline_run(base_app, args.cases))
    s, b = statistics.median(service), statistics.median(baseline)
    batches = "one batch (outbreak)" if args.same_batch else "a batch each"
    print(f"cases per round: {args.cases}, {batches}, rounds: {args.rounds} (median shown)")
    print(
        f"service layer : {s:.3f} s  {s / args.cases * 1000:.2f} ms/case  {args.cases / s:.0f} cases/s"
    )
    print(
        f"bare INSERT   : {b:.3f} s  {b / args.cases * 1000:.2f} ms/case  {args.cases / b:.0f} cases/s"
    )
    print(f"ratio         : {s / b:.1f}x")
    from bench.timing import machine

    print("| date | machine | scenario | service layer | bare INSERT | ratio |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {dt.date.today().isoformat()} | {machine(f'SQLite {sqlite3.sqlite_version} (WAL)')} "
        f"| {batches} | {s / args.cases * 1000:.2f} ms/case ({args.cases / s:.0f} cases/s) "
        f"| {b / args.cases * 1000:.2f} ms/case | {s / b:.1f}× |"
    )


if __name__ == "__main__":
    main()
