"""A constructed June 2026 (and May) of line L1 (Asia/Shanghai) for the monthly report tests.

Cases are registered through the API, then given their history directly (status, stage
times, deadlines, compensation lines, visits, root causes), so every figure is known:

======  ======================  =========  ==========================================
case    received (line-local)   month      what happened
======  ======================  =========  ==========================================
A       06-01 00:00             June       closed 06-10, archived; 品保课; 包装 / 外箱破损
B       06-15 10:00             June       still open at the end (closed 07-02); 仓储部
C       06-30 23:59             June       open; nothing classified; P1
D       06-20 09:00             June       not accepted (rejected 06-20)
E       07-01 00:00             July       (not June)
F       05-31 23:59             May        closed 06-05 (counts as closed in June)
G       05-10 10:00             May        closed 05-20
H       06-12 10:00, line L2    June       (another line)
======  ======================  =========  ==========================================
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.extensions import db
from core.models import (
    BusinessLine,
    Case,
    CaseDeadline,
    CaseVisit,
    CompensationLine,
    Department,
    RootCause,
)
from tests.conftest import keep_next_deadlines

SH = ZoneInfo("Asia/Shanghai")
FUTURE = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(dt.UTC)


def _stamp(text: str) -> str:
    return local(text).isoformat()


RECEIVED = {
    "A": "2026-06-01T00:00:00",
    "B": "2026-06-15T10:00:00",
    "C": "2026-06-30T23:59:00",
    "D": "2026-06-20T09:00:00",
    "E": "2026-07-01T00:00:00",
    "F": "2026-05-31T23:59:00",
    "G": "2026-05-10T10:00:00",
}

# (state, due, met) of section 6's four targets per case; "late" met after due.
ON_TIME = ("met", "2026-06-25T18:00", "2026-06-20T10:00")
LATE = ("met", "2026-06-16T18:00", "2026-06-17T09:00")
PAST_DUE = ("running", "2026-07-10T18:00", None)
PENDING = ("running", None, None)  # due far in the future
VOID = ("void", "2026-07-10T18:00", None)
EXACT = ("met", "2026-06-24T18:00", "2026-06-24T18:00")  # met at the very minute: on time
TARGET_ROWS = {
    "A": {
        "registered": ON_TIME,
        "solution": ON_TIME,
        "compensation_done": ON_TIME,
        "closed": EXACT,
    },
    "B": {"registered": LATE, "solution": LATE, "compensation_done": PENDING, "closed": PAST_DUE},
    "C": {
        "registered": ON_TIME,
        "solution": PAST_DUE,
        "compensation_done": PAST_DUE,
        "closed": PENDING,
    },
    "D": {"registered": ON_TIME, "solution": VOID, "compensation_done": VOID, "closed": VOID},
    "F": {"registered": ON_TIME, "solution": ON_TIME, "compensation_done": ON_TIME, "closed": LATE},
    "G": {
        "registered": ON_TIME,
        "solution": ON_TIME,
        "compensation_done": ON_TIME,
        "closed": ON_TIME,
    },
}


def build(app, api) -> dict[str, dict]:
    """Register the cases and give them their history; returns them by letter."""
    made = {}
    for letter, received in RECEIVED.items():
        made[letter] = api("agent").create_case(
            received_at=received, customer={"name": f"月报客户{letter}", "kind": "dealer"}
        )
    made["H"] = api("agent2").create_case(
        business_line="L2",
        product="B-200",
        received_at="2026-06-12T10:00:00",
        customer={"name": "成都经销商", "kind": "dealer"},
    )
    with app.app_context():
        l1 = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        packing = RootCause(business_line_id=l1.id, code="t.packing", name="包装")
        material = RootCause(business_line_id=l1.id, code="t.material", name="原材料")
        db.session.add_all([packing, material])
        db.session.flush()
        torn = RootCause(
            business_line_id=l1.id, code="t.packing.torn", name="外箱破损", parent_id=packing.id
        )
        db.session.add(torn)
        db.session.flush()
        qa = db.session.scalar(sa.select(Department.id).where(Department.code == "QA"))
        wh = db.session.scalar(sa.select(Department.id).where(Department.code == "WH"))
        ids = {k: v["id"] for k, v in made.items()}
        changes = {
            "A": dict(
                status="closed",
                archived_at=local("2026-11-01T09:00"),  # archived cases still count
                stage_times={"new": _stamp(RECEIVED["A"]), "closed": _stamp("2026-06-10T15:00")},
                department_id=qa,
                root_cause_id=torn.id,
                batch_no="B1",
                priority="P3",
            ),
            "B": dict(
                status="closed",
                category="product_quality",
                channel="email",
                product_id=None,
                batch_no=None,
                stage_times={"closed": _stamp("2026-07-02T09:00")},
                department_id=wh,
                root_cause_id=material.id,
                priority="P2",
            ),
            "C": dict(status="investigating", batch_no="B1", priority="P1", stage_times={}),
            "D": dict(
                status="rejected",
                batch_no="B2",
                priority="P3",
                stage_times={"rejected": _stamp("2026-06-20T11:00")},
            ),
            "F": dict(status="closed", stage_times={"closed": _stamp("2026-06-05T12:00")}),
            "G": dict(status="closed", stage_times={"closed": _stamp("2026-05-20T12:00")}),
        }
        for letter, values in changes.items():
            db.session.execute(sa.update(Case).where(Case.id == ids[letter]).values(**values))
        for letter, rows in TARGET_ROWS.items():
            for name, (state, due, met) in rows.items():
                db.session.execute(
                    sa.update(CaseDeadline)
                    .where(CaseDeadline.case_id == ids[letter], CaseDeadline.name == name)
                    .values(
                        state=state,
                        due_at=local(due) if due else FUTURE,
                        met_at=local(met) if met else None,
                    )
                )
        lines = [
            ("A", "credit_note", "100.00", "pending"),
            ("A", "reship", "50.00", "done"),
            ("A", "freight_to_customer", "20.00", "pending"),
            ("A", "refund", "999.00", "cancelled"),
            ("B", "refund", "300.00", "pending"),
            ("B", "charge_responsible_person", "80.00", "pending"),
            ("G", "credit_note", "40.00", "done"),
            ("E", "credit_note", "7000.00", "pending"),
        ]
        for position, (letter, kind, amount, status) in enumerate(lines):
            db.session.add(
                CompensationLine(
                    case_id=ids[letter],
                    position=position,
                    kind=kind,
                    amount=Decimal(amount),
                    exec_status=status,
                )
            )
        for letter, when, score in (
            ("A", "2026-06-12T10:00", 5),
            ("A", "2026-06-14T10:00", 4),
            ("B", "2026-07-05T10:00", 2),
            ("G", "2026-05-25T10:00", 4),
            ("E", "2026-07-20T10:00", 1),
        ):
            db.session.add(
                CaseVisit(
                    case_id=ids[letter], visited_at=local(when), channel="phone", satisfaction=score
                )
            )
        keep_next_deadlines()
        db.session.commit()
    return made
