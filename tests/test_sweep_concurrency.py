"""Two overdue sweeps at once (cron on two hosts, or a slow sweep still running when the next
starts) escalate and notify every passed deadline once: the write gate (core.services.locks)
makes the second wait for the first to commit, then find nothing left to do."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.models import AuditEvent, CaseDeadline, Department, KesuUser, Notification
from core.services import sla_sweep
from tests.test_capa_register import _action, _local, _quality_case


def _sweep_when_released(app, now, barrier, results, errors) -> None:
    with app.app_context():
        barrier.wait()
        try:
            results.append(sla_sweep.sweep(None, now))
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            db.session.remove()


def _wait_until_both_wait(app) -> None:
    """Hold on until both sweeps are queued behind the gate. PostgreSQL shows its lock waits;
    SQLite's busy wait is invisible, so the sweeps get a moment to reach it."""
    if db.engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    while True:
        db.session.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # a fresh look
        if db.session.scalar(waiting) >= 2:
            return
        assert time.monotonic() < deadline, "the sweeps never reached the write gate"
        time.sleep(0.05)


def test_two_sweeps_at_once_escalate_and_notify_each_deadline_once(app, api, smtp_server):
    with app.app_context(), write_transaction():
        head = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "manager"))
        db.session.scalar(sa.select(Department).where(Department.code == "QA")).head_id = head.id
    api("agent").create_case(received_at="2026-11-02T10:00:00")
    api("agent2").create_case(
        business_line="L2",
        received_at="2026-11-02T10:00:00",
        customer={"name": "成都经销商", "kind": "dealer"},
        product="B-200",
    )
    _action(api, _quality_case(api))  # a corrective action due 2026-12-10
    now = _local("2026-12-11T08:00")

    results, errors = [], []
    barrier = threading.Barrier(3)
    sweeps = [
        threading.Thread(target=_sweep_when_released, args=(app, now, barrier, results, errors))
        for _ in range(2)
    ]
    with app.app_context():
        with write_transaction():  # the gate is held: both sweeps queue behind it
            for thread in sweeps:
                thread.start()
            barrier.wait()
            _wait_until_both_wait(app)
        for thread in sweeps:
            thread.join(timeout=120)
        assert not errors, errors

        escalated = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseDeadline)
            .where(CaseDeadline.escalated_at.is_not(None))
        )
        assert escalated > 0
        assert sorted(r.total for r in results) == [0, escalated]  # one sweep did it all
        notices = db.session.execute(
            sa.select(KesuUser.username, Notification.kind)
            .join(KesuUser, KesuUser.id == Notification.user_id)
            .where(Notification.kind.in_(["overdue", "capa_overdue"]))
        ).all()
        assert sorted(notices) == [
            ("manager", "capa_overdue"),
            ("supervisor", "overdue"),
            ("supervisor2", "overdue"),
        ]
        sweep_events = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "sweep")
        )
        assert sweep_events == 2  # one per line
    # One digest to each line's supervisor (the other mail is the quality case's assignment).
    to = [rcpt for mail in smtp_server.messages for rcpt in mail.rcpt_tos]
    assert sorted(r for r in to if r.startswith("supervisor")) == [
        "supervisor2@kesu.invalid",
        "supervisor@kesu.invalid",
    ]
