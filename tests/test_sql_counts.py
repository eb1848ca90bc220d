"""Constant SQL per page: a screen issues as many statements for 500 cases as for 10.

Statements are counted on the engine (SQLAlchemy's ``before_cursor_execute``) while the page is
drawn, the second time it is asked for (the first fills per-process caches). The bulk rows are
written straight into the tables: test setup, not the system under test.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import (
    ApprovalStep,
    BusinessLine,
    Case,
    CaseDeadline,
    CompensationLine,
    Customer,
    KesuUser,
    Product,
)
from tests.conftest import signed_in

STATUSES = ("new", "accepted", "investigating", "approving", "executing", "confirming", "on_hold")
# The roles whose My work pages are measured, each with sections that list the bulk rows.
WORKERS = ("agent", "supervisor", "qa", "sales", "finance", "manager", "warehouse", "dept")


@contextmanager
def counting(app):
    """Collect every SQL statement sent while the block runs."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def statements(app, client, url: str, marker: str) -> tuple[int, int]:
    """(statements sent while ``url`` was drawn, how often ``marker`` is on the page)."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    with counting(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(seen), resp.get_data(as_text=True).count(marker)


def add_cases(app, count: int) -> None:
    """``count`` more cases on L1, registered by the agent, spread over the stages, each with a
    running deadline (half of them overdue), an approved reshipment line and an approval step."""
    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        customer = db.session.scalar(
            sa.select(Customer).where(Customer.business_line_id == line.id)
        )
        product = db.session.scalar(sa.select(Product).where(Product.business_line_id == line.id))
        users = {
            u.username: u
            for u in db.session.scalars(sa.select(KesuUser).where(KesuUser.username.in_(WORKERS)))
        }
        start = db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0
        now = utcnow()
        handlers = [users[name] for name in WORKERS]
        rows = []
        for n in range(start, start + count):
            due = now + dt.timedelta(hours=1 if (n - start) % 2 else -1)
            rows.append(
                {
                    "number": f"T{n:07d}",
                    "business_line_id": line.id,
                    "category": "product_quality" if n % 2 else "policy_returns",
                    "channel": "phone",
                    "status": STATUSES[n % len(STATUSES)],
                    "customer_id": customer.id,
                    "product_id": product.id,
                    "received_at": now - dt.timedelta(days=1),
                    "description": f"批量客诉 {n}",
                    "created_by_id": users["agent"].id,
                    "handler_id": handlers[n % len(handlers)].id,  # many: no N+1 per handler
                    "department_id": users["dept"].department_id,
                    "is_major": n % 3 == 0,
                    "version": 1,
                    "priority_reasons": [],
                    "major_reasons": [],
                    "acceptance_issues": [],
                    "details": {},
                    "deadlines": {"first_reply": due.isoformat()},
                    "next_due_at": due,
                    "next_due_name": "first_reply",
                    "stage_times": {},
                }
            )
        with write_transaction():
            db.session.execute(sa.insert(Case), rows)
            made = db.session.execute(
                sa.select(Case.id, Case.next_due_at).where(
                    Case.number.in_([r["number"] for r in rows])
                )
            ).all()
            ids = [cid for cid, _ in made]
            db.session.execute(
                sa.insert(CaseDeadline),
                [
                    {
                        "case_id": cid,
                        "business_line_id": line.id,
                        "name": "first_reply",
                        "due_at": due,
                        "state": "running",
                        "hold_seconds": 0,
                        "hold_clock_seconds": 0,
                    }
                    for cid, due in made
                ],
            )
            db.session.execute(
                sa.insert(CompensationLine),
                [
                    {
                        "case_id": cid,
                        "position": 0,
                        "kind": "reship" if i % 2 else "credit_note",
                        "quantity": 1 if i % 2 else None,
                        "amount": "10.00",
                        "approved_at": now,
                        "exec_status": "pending",
                    }
                    for i, cid in enumerate(ids)
                ],
            )
            db.session.execute(
                sa.insert(ApprovalStep),
                [
                    {
                        "case_id": cid,
                        "round": 1,
                        "seq": 1,
                        "step": "cs_supervisor",
                        "role": "cs_supervisor",
                        "decision": "pending",
                    }
                    for cid in ids
                ],
            )
        db.session.remove()


def add_events(app, case_id: int, count: int) -> None:
    """``count`` more audit events (edits) on a case, through the audit chain."""
    from core.services import audit

    with app.app_context():
        agent = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        with write_transaction():
            for n in range(count):
                audit.record(
                    agent,
                    "update",
                    entity="case",
                    entity_id=case_id,
                    case_id=case_id,
                    changes={"description": [f"第 {n} 版", f"第 {n + 1} 版"]},
                )
        db.session.remove()


def test_the_case_list_is_constant(app):
    add_cases(app, 10)
    client = signed_in(app, "agent")
    small, rows_small = statements(app, client, "/cases/", "<tr data-case=")
    add_cases(app, 490)
    large, rows_large = statements(app, client, "/cases/", "<tr data-case=")
    assert (rows_small, rows_large) == (10, 20)  # a page of 20
    assert small == large


def test_the_case_page_is_constant_in_its_history(app, api):
    case = api("agent").create_case()
    client = signed_in(app, "agent")
    url = f"/cases/{case['id']}"
    one, shown_one = statements(app, client, url, "版 →")
    add_events(app, case["id"], 49)
    fifty, shown_fifty = statements(app, client, url, "版 →")
    assert (shown_one, shown_fifty) == (0, 49)  # every edit is in the history
    assert one == fifty


def test_the_inbox_is_constant(app):
    """待审批 with its proposals: as many statements for 500 waiting cases as for 10."""
    add_cases(app, 10)
    client = signed_in(app, "supervisor")
    small, rows_small = statements(app, client, "/inbox/", "/approve")
    add_cases(app, 490)
    large, rows_large = statements(app, client, "/inbox/", "/approve")
    assert 0 < rows_small < rows_large  # every waiting case can be approved in place
    assert small == large


@pytest.mark.parametrize("username", WORKERS)
def test_my_work_is_constant(app, username):
    add_cases(app, 10)
    client = signed_in(app, username)
    small, rows_small = statements(app, client, "/", "kesu-work-row")
    add_cases(app, 490)
    large, rows_large = statements(app, client, "/", "kesu-work-row")
    assert 0 < rows_small < rows_large  # the bulk cases are listed
    assert small == large


def test_the_counter_sees_one_statement_per_lazy_load(app):
    """The measure itself: loading each case's deadlines one by one is N+1, and it shows."""
    add_cases(app, 10)

    def lazy(limit: int) -> int:
        with app.app_context():
            with counting(app) as seen:
                stmt = sa.select(Case).options(lazyload(Case.deadline_rows))
                for case in db.session.scalars(stmt.order_by(Case.id).limit(limit)):
                    assert len(case.deadline_rows) == 1
            db.session.remove()
        return len(seen)

    assert lazy(10) > lazy(2)
