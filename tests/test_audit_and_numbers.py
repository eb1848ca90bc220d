"""The hash-chained audit trail and gap-free case numbers under concurrent intake."""

from __future__ import annotations

import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Case, KesuUser
from core.services import audit
from core.services.cases import create_case
from tests.audit_helpers import drop_audit_guards
from tests.audit_helpers import events as _events
from tests.conftest import case_body


def test_every_change_writes_an_event_with_actor_time_and_values(app, api):
    case = api("agent").create_case(batch_no="B1")
    api("agent").put(f"/api/v1/case/{case['id']}", json={"batch_no": "B2", "version": 1})
    api("agent").action(case["id"], "accept")
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.case_id == case["id"])
                .order_by(AuditEvent.id)
            )
        )
    assert [r.action for r in rows] == ["create", "update", "accept"]
    create, update, accept = rows
    assert create.actor == "agent" and create.changes["number"] == [None, case["number"]]
    assert update.changes["batch_no"] == ["B1", "B2"]
    assert accept.changes["status"] == ["new", "accepted"]
    assert all(r.at.tzinfo is dt.UTC for r in rows)
    assert all(re.fullmatch("[0-9a-f]{64}", r.hash) for r in rows)


def test_chain_links_each_event_to_the_previous(app, api):
    api("agent").create_case()
    api("agent").create_case()
    rows = _events(app)
    assert rows[0].prev_hash == "0" * 64
    for prev, cur in zip(rows, rows[1:], strict=False):
        assert cur.prev_hash == prev.hash
    with app.app_context():
        assert audit.verify().ok


def test_tampered_event_is_detected_by_kesu_audit_verify(app, api, runner):
    case = api("agent").create_case(batch_no="ORIGINAL")
    api("agent").action(case["id"], "accept")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output

    target = _events(app)[-2]  # the case's create event
    drop_audit_guards(app)
    with app.app_context():
        changes = dict(target.changes)
        changes["batch_no"] = [None, "FORGED"]
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == target.id).values(changes=changes)
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {target.id}" in result.output


def test_deleted_event_is_detected(app, api, runner):
    api("agent").create_case()
    api("agent").create_case()
    last = _events(app)[-1]
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == last.id))
        db.session.commit()
        result = audit.verify()
    assert not result.ok
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_removed_middle_event_breaks_the_chain(app, api):
    for _ in range(3):
        api("agent").create_case()
    rows = _events(app)
    middle = rows[len(rows) // 2]
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == middle.id))
        db.session.commit()
        result = audit.verify()
    assert not result.ok
    assert result.broken_id == rows[len(rows) // 2 + 1].id


def test_case_numbers_are_unique_and_gap_free_under_concurrent_intake(app):
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def intake():
        try:
            with app.app_context():
                actor = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
                start.wait()
                for _ in range(per_thread):
                    create_case(actor, case_body())
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=intake) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with app.app_context():
        numbers = list(db.session.scalars(sa.select(Case.number)))
        assert audit.verify().ok
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    sequence = sorted(int(n[-5:]) for n in numbers)
    assert sequence == list(range(1, threads * per_thread + 1))


def test_number_month_follows_the_lines_local_time(app):
    from core.db import write_transaction
    from core.services.numbers import next_case_number

    shanghai = ZoneInfo("Asia/Shanghai")
    late_utc = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 December in Shanghai
    with app.app_context(), write_transaction():
        assert next_case_number(late_utc.astimezone(shanghai)) == "KS-202612-00001"
        assert next_case_number(late_utc.astimezone(shanghai)) == "KS-202612-00002"
        assert next_case_number(late_utc) == "KS-202611-00001"
