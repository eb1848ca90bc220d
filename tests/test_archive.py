"""Archiving (归档) after the line's retention: read-only, out of the working lists, still in
the ledger; nothing is ever deleted (see also the authorization matrix's DELETE watch)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow, write_transaction
from core.extensions import db
from tests.conftest import login
from tests.plugin_helpers import act, read
from tests.test_evidence import PNG, upload

DAY = dt.timedelta(days=1)


def _rejected_case(api) -> dict:
    case = api("agent").create_case()
    act(api, case["id"], "supervisor", "reject", comment="不属于客诉范围")
    return read(api, case["id"])


def _ended(app, case_id: int, ago: dt.timedelta) -> None:
    """Test setup: the case ended ``ago`` before now."""
    from core.models import Case

    with app.app_context(), write_transaction():
        case = db.session.get(Case, case_id)
        times = dict(case.stage_times)
        times[case.status] = (utcnow() - ago).isoformat()
        case.stage_times = times


def _eligible(app, code="L1") -> int:
    from core.services import archive
    from core.services.access import SYSTEM
    from core.services.lines import get_line

    with app.app_context():
        return archive.eligible(SYSTEM, get_line(code)).count


@pytest.mark.parametrize(
    ("ago", "eligible"),
    [(365 * DAY - dt.timedelta(minutes=1), False), (365 * DAY + dt.timedelta(minutes=1), True)],
)
def test_a_case_may_be_archived_once_a_year_has_passed_since_it_ended(app, api, ago, eligible):
    case = _rejected_case(api)
    _ended(app, case["id"], ago)
    assert _eligible(app) == (1 if eligible else 0)


def test_the_line_sets_the_retention_but_never_below_a_year(app, api):
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import Invalid

    case = _rejected_case(api)
    _ended(app, case["id"], 400 * DAY)
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            lines.update_plugin_settings(SYSTEM, "L1", lines.CORE_KEY, {"archive_after_days": 364})
        assert "archive_after_days" in refused.value.errors
        lines.update_plugin_settings(SYSTEM, "L1", lines.CORE_KEY, {"archive_after_days": 401})
    assert _eligible(app) == 0
    with app.app_context():
        lines.update_plugin_settings(SYSTEM, "L1", lines.CORE_KEY, {"archive_after_days": 399})
    assert _eligible(app) == 1


def test_open_cases_and_pending_compensation_are_not_archived(app, api):
    from core.models import Case, CompensationLine

    open_case = api("agent").create_case()
    _ended(app, open_case["id"], 400 * DAY)  # a stamp of a stage it is not in: ignored
    pending = _rejected_case(api)
    _ended(app, pending["id"], 400 * DAY)
    with app.app_context(), write_transaction():
        db.session.add(
            CompensationLine(
                case_id=pending["id"], kind="credit_note", amount=10, exec_status="pending"
            )
        )
        assert db.session.get(Case, open_case["id"]).status == "new"
    assert _eligible(app) == 0


def test_archived_case_is_read_only_out_of_the_list_and_still_found(app, api, client):
    from core.models import AuditEvent, Case
    from core.services import archive
    from core.services.access import SYSTEM
    from core.services.lines import get_line

    case = _rejected_case(api)
    kept = api("agent").create_case()
    _ended(app, case["id"], 400 * DAY)
    with app.app_context():
        assert archive.archive_line(SYSTEM, get_line("L1")) == 1
        assert archive.archive_line(SYSTEM, get_line("L1")) == 0  # again: nothing new
        row = db.session.get(Case, case["id"])
        assert row.archived_at is not None
        events = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.case_id == case["id"])
        ).all()
    assert events[-1] == "archive"

    listed = api("agent").get("/api/v1/case/").get_json()
    assert case["id"] not in {c["id"] for c in listed["result"]}
    assert kept["id"] in {c["id"] for c in listed["result"]}
    archived = api("agent").get("/api/v1/case/?archived=true").get_json()
    assert [c["id"] for c in archived["result"]] == [case["id"]]
    assert read(api, case["id"])["allowed_actions"] == []

    # every way of writing to it is refused, and nothing changes
    version = read(api, case["id"])["version"]
    reopen = api("supervisor").action(case["id"], "reopen", comment="客户再次来电")
    assert reopen.status_code == 409 and "archived" in str(reopen.get_json())
    evidence = upload(api("agent"), case["id"], PNG)
    assert evidence.status_code == 409 and "archived" in str(evidence.get_json())
    assert read(api, case["id"])["version"] == version

    login(client, "agent")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="kesu-archived"' in page
    listing = client.get("/cases/").get_data(as_text=True)
    assert case["number"] not in listing and kept["number"] in listing
    assert case["number"] in client.get("/cases/?archived=true").get_data(as_text=True)
    ledger = api("agent").get("/api/v1/ledger/?business_line=L1").get_json()
    assert case["number"] in str(ledger)


def test_the_admin_archives_on_the_screen_after_checking_the_count(app, api, client):
    case = _rejected_case(api)
    _ended(app, case["id"], 400 * DAY)
    login(client, "admin")
    page = client.get("/archive/").get_data(as_text=True)
    assert "归档 1 件客诉" in page
    stale = client.post("/archive/L1", data={"expected": "2"})
    assert stale.status_code == 302 and _eligible(app) == 1  # the count moved: nothing done
    done = client.post("/archive/L1", data={"expected": "1"})
    assert done.status_code == 302 and _eligible(app) == 0
    assert read(api, case["id"])["allowed_actions"] == []


def test_nothing_kept_can_be_deleted_and_the_watch_sees_a_delete(app, api):
    from core.models import AuditEvent, Case
    from core.models.kept import KeptRecordDeleted
    from tests.test_authz_matrix import watch_deletes

    case = api("agent").create_case()
    with app.app_context():
        for model, pk in ((Case, case["id"]), (AuditEvent, 1)):
            db.session.delete(db.session.get(model, pk))
            with pytest.raises(KeptRecordDeleted):
                db.session.flush()
            db.session.rollback()
        seen = watch_deletes(app)
        db.session.execute(sa.text("DELETE FROM kesu_case WHERE id = -1"))  # deletes nothing
        db.session.rollback()
    assert seen and seen[0].startswith("DELETE FROM kesu_case")
    assert read(api, case["id"])["id"] == case["id"]
