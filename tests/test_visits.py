"""Return visits (回访): recording one on a closed case, the score's bounds, the supervisor's
reopen list (2 vs 3), reopening and dismissing, the due list on the line's working calendar,
record rules and permissions per role, and the latest score on the CASE object."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Case, CaseVisit, KesuUser
from tests.test_workflow import step

SH = ZoneInfo("Asia/Shanghai")
CLOSE_PATH = [
    ("accept", "accepted"),
    ("assign", "investigating"),
    ("propose", "proposed"),
    ("submit", "confirming"),
    ("confirm", "closed"),  # the logistics category leaves out verification
]


def closed_case(api, **overrides) -> dict:
    """A logistics case (no compensation, no verification) taken through to ``closed``."""
    # the customer asked for no compensation: the empty proposal needs no confirmation
    case = api("agent").create_case(category="logistics", **{"demand": "improvement", **overrides})
    for action, status in CLOSE_PATH:
        case = step(api, case["id"], action, status)
    return case


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def visit(api, case_id, score, user="agent", **extra):
    body = {"visited_at": now_iso(), "channel": "phone", "satisfaction": score, **extra}
    return api(user).post(f"/api/v1/case/{case_id}/visit", json=body)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count()).select_from(CaseVisit)),
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
        )


def reopen_ids(api, user="supervisor") -> list[int]:
    resp = api(user).get("/api/v1/visit/reopen")
    assert resp.status_code == 200, resp.get_json()
    return [row["case"]["id"] for row in resp.get_json()["result"]]


def due_ids(api, user="agent") -> list[int]:
    resp = api(user).get("/api/v1/visit/due")
    assert resp.status_code == 200, resp.get_json()
    return [row["case"]["id"] for row in resp.get_json()["result"]]


def test_a_score_of_2_goes_on_the_reopen_list_and_3_does_not(api):
    two, three = closed_case(api), closed_case(api)
    resp = visit(api, two["id"], 2, comment="还是漏")
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()["result"]
    assert case["satisfaction"] == 2
    (v,) = case["visits"]
    assert (v["satisfaction"], v["channel"], v["comment"], v["by"]) == (
        2,
        "phone",
        "还是漏",
        "agent",
    )
    assert v["followup"] == "pending" and v["visited_at"].endswith("+08:00")
    resp = visit(api, three["id"], 3)
    assert resp.status_code == 201
    assert resp.get_json()["result"]["visits"][0]["followup"] is None
    assert reopen_ids(api) == [two["id"]]
    row = api("supervisor").get("/api/v1/visit/reopen").get_json()["result"][0]
    assert (row["satisfaction"], row["comment"], row["by"]) == (2, "还是漏", "agent")
    assert row["case"]["number"] == two["number"]


@pytest.mark.parametrize("score", [1, 5])
def test_scores_1_and_5_are_accepted(api, score):
    case = closed_case(api)
    resp = visit(api, case["id"], score)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["result"]["satisfaction"] == score


@pytest.mark.parametrize("score", [0, 6, -1, True, "3", 2.5, None])
def test_scores_outside_1_to_5_are_refused_naming_the_field(app, api, score):
    case = closed_case(api)
    before = counts(app)
    resp = visit(api, case["id"], score)
    assert resp.status_code == 400, resp.get_json()
    assert "satisfaction" in resp.get_json()["errors"]
    assert counts(app) == before


def test_other_fields_are_checked(app, api):
    case = closed_case(api)
    _closed_at(app, case["id"], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    before = counts(app)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    closed_at = read_case(app, case["id"]).stage_times["closed"]
    before_closing = (dt.datetime.fromisoformat(closed_at) - dt.timedelta(minutes=1)).isoformat()
    minute = dt.datetime.fromisoformat(closed_at).replace(second=0, microsecond=0)
    for body, field in [
        ({"visited_at": future}, "visited_at"),
        ({"visited_at": (minute - dt.timedelta(microseconds=1)).isoformat()}, "visited_at"),
        ({"visited_at": before_closing}, "visited_at"),
        ({"visited_at": "yesterday"}, "visited_at"),
        ({"channel": "fax"}, "channel"),
        ({"comment": "x" * 5001}, "comment"),
        ({"extra": 1}, "extra"),
    ]:
        resp = visit(api, case["id"], 4, **body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert field in resp.get_json()["errors"], (body, resp.get_json())
    resp = api("agent").post(f"/api/v1/case/{case['id']}/visit", json={"satisfaction": 4})
    assert resp.status_code == 400
    assert {"visited_at", "channel"} <= set(resp.get_json()["errors"])
    assert counts(app) == before
    # The minute of closing counts as after it.
    assert visit(api, case["id"], 4, visited_at=minute.isoformat()).status_code == 201
    # A time without an offset is the line's wall-clock time (Asia/Shanghai).
    local = dt.datetime.now(SH).replace(tzinfo=None, microsecond=0) - dt.timedelta(seconds=1)
    resp = visit(api, case["id"], 4, visited_at=local.isoformat(), channel="wechat")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["result"]["visits"][-1]["visited_at"] == local.isoformat() + "+08:00"


def read_case(app, case_id) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def test_a_visit_waits_until_the_case_is_closed(app, api):
    case = api("agent").create_case()
    before = counts(app)
    resp = visit(api, case["id"], 4)
    assert resp.status_code == 409
    assert resp.get_json()["status"] == "new"
    assert counts(app) == before


def test_reopening_takes_the_case_off_the_list(api):
    case = closed_case(api)
    assert visit(api, case["id"], 1).status_code == 201
    assert reopen_ids(api) == [case["id"]]
    reopened = step(api, case["id"], "reopen", "investigating")
    assert reopened["visits"][0]["followup"] == "reopened"
    assert reopened["visits"][0]["followup_by"] == "supervisor"
    assert reopen_ids(api) == []
    assert visit(api, case["id"], 4).status_code == 409  # no longer closed


def test_dismissing_needs_a_reason(app, api):
    case = closed_case(api)
    visit_id = visit(api, case["id"], 2).get_json()["result"]["visits"][0]["id"]
    url = f"/api/v1/visit/{visit_id}/dismiss"
    before = counts(app)
    for body in ({}, {"reason": "  "}, {"reason": 3}, {"reason": "x" * 5001}):
        resp = api("supervisor").post(url, json=body)
        assert resp.status_code == 400, body
        assert "reason" in resp.get_json()["errors"]
    assert api("agent").post(url, json={"reason": "客户已满意"}).status_code == 403
    assert counts(app) == before
    assert reopen_ids(api) == [case["id"]]
    resp = api("supervisor").post(url, json={"reason": "客户已电话确认接受"})
    assert resp.status_code == 200, resp.get_json()
    result = resp.get_json()["result"]
    assert (result["followup"], result["followup_reason"]) == ("dismissed", "客户已电话确认接受")
    assert reopen_ids(api) == []
    assert api("supervisor").post(url, json={"reason": "again"}).status_code == 409
    case = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert case["visits"][0]["followup"] == "dismissed" and case["status"] == "closed"
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.case_id == case["id"])
        ).all()
    assert actions[-2:] == ["visit", "visit_dismissed"]


def test_another_lines_visits_stay_invisible(app, api):
    case = closed_case(api)
    visit_id = visit(api, case["id"], 1).get_json()["result"]["visits"][0]["id"]
    before = counts(app)
    assert visit(api, case["id"], 4, user="agent2").status_code == 404
    url = f"/api/v1/visit/{visit_id}/dismiss"
    assert api("supervisor2").post(url, json={"reason": "越界"}).status_code == 404
    assert (
        api("supervisor2").post("/api/v1/visit/999999/dismiss", json={"reason": "x"}).status_code
        == 404
    )
    assert counts(app) == before
    assert reopen_ids(api, "supervisor2") == []
    assert case["id"] not in due_ids(api, "agent2")
    assert api("agent2").get(f"/api/v1/case/{case['id']}").status_code == 404
    assert reopen_ids(api, "admin") == [case["id"]]


def test_permissions_per_role(api):
    case = closed_case(api)
    for user in ("qa", "dept", "sales", "manager", "finance", "auditor", "warehouse"):
        assert visit(api, case["id"], 4, user=user).status_code == 403, user
        assert api(user).get("/api/v1/visit/due").status_code == 403, user
        assert api(user).get("/api/v1/visit/reopen").status_code == 403, user
    for user in ("agent", "supervisor", "admin"):
        assert visit(api, case["id"], 4, user=user).status_code == 201, user
        assert api(user).get("/api/v1/visit/due").status_code == 200, user
    assert api("agent").get("/api/v1/visit/reopen").status_code == 403
    assert api("supervisor").get("/api/v1/visit/reopen").status_code == 200


def test_the_case_shows_the_latest_score(app, api):
    case = closed_case(api)
    _closed_at(app, case["id"], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert (
        api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["satisfaction"] is None
    )
    first = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    visit(api, case["id"], 4, visited_at=first.isoformat())
    result = visit(api, case["id"], 1).get_json()["result"]
    assert result["satisfaction"] == 1
    # Recorded later, but visited between the two: the latest visit is still the score-1 one.
    between = first + dt.timedelta(seconds=1)
    result = visit(api, case["id"], 5, visited_at=between.isoformat()).get_json()["result"]
    assert [v["satisfaction"] for v in result["visits"]] == [4, 5, 1]
    assert result["satisfaction"] == 1


def test_a_closed_case_is_due_until_visited_and_again_after_reclosing(app, api):
    case = closed_case(api)
    assert case["id"] in due_ids(api)
    row = next(r for r in api("agent").get("/api/v1/visit/due").get_json()["result"])
    assert row["overdue"] is False and row["due_at"].endswith("T18:00:00+08:00")
    _closed_at(app, case["id"], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    assert visit(api, case["id"], 2, visited_at=earlier.isoformat()).status_code == 201
    assert case["id"] not in due_ids(api)
    step(api, case["id"], "reopen", "investigating")
    for action, status in CLOSE_PATH[2:]:
        step(api, case["id"], action, status)
    assert case["id"] in due_ids(api)  # the earlier visit was before this closing


def _closed_at(app, case_id: int, when: dt.datetime) -> None:
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.status = "closed"
        case.stage_times = {**case.stage_times, "closed": when.astimezone(dt.UTC).isoformat()}
        db.session.commit()


def _due(app, username: str, now: dt.datetime):
    from core.services import visits

    with app.test_request_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        return [(d.case.id, d.due_at.astimezone(SH), d.overdue) for d in visits.due(user, now)]


def test_due_after_exactly_n_working_days_across_a_holiday(app, api):
    """Closed Wed 2026-09-30 10:00: Oct 1-7 (a weekend among them) are holidays; Oct 8, Oct 9
    and the make-up Saturday Oct 10 are working days: due Oct 10 18:00 with 3 days."""
    case = api("agent").create_case()
    _closed_at(app, case["id"], dt.datetime(2026, 9, 30, 10, tzinfo=SH))
    due = dt.datetime(2026, 10, 10, 18, tzinfo=SH)
    just_before = due - dt.timedelta(seconds=1)
    assert _due(app, "agent", just_before) == [(case["id"], due, False)]
    assert _due(app, "agent", due) == [(case["id"], due, False)]
    assert _due(app, "agent", due + dt.timedelta(seconds=1)) == [(case["id"], due, True)]
    assert _due(app, "agent2", due) == []
    # The line's setting: 1 to 3650 working days; with 1, due at the end of Oct 8.
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import Invalid

    with app.app_context():
        for bad in ("0", "3651", "x"):
            with pytest.raises(Invalid) as caught:
                lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", {"visit_due_days": bad})
            assert "visit_due_days" in caught.value.errors
        lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", {"visit_due_days": "1"})
    one = dt.datetime(2026, 10, 8, 18, tzinfo=SH)
    assert _due(app, "agent", one) == [(case["id"], one, False)]
    assert _due(app, "agent", one + dt.timedelta(seconds=1))[0][2] is True


def test_overdue_cases_come_first(app, api):
    old, recent = api("agent").create_case(), api("agent").create_case()
    _closed_at(app, recent["id"], dt.datetime(2026, 11, 30, 10, tzinfo=SH))
    _closed_at(app, old["id"], dt.datetime(2026, 11, 2, 10, tzinfo=SH))
    now = dt.datetime(2026, 12, 1, 12, tzinfo=SH)
    rows = _due(app, "supervisor", now)
    assert [(r[0], r[2]) for r in rows] == [(old["id"], True), (recent["id"], False)]


def test_a_visit_in_the_minute_of_closing_ends_the_wait(app, api):
    """A screen gives minutes: a visit stamped with the closing minute counts as after it."""
    case = closed_case(api)
    closed = dt.datetime.fromisoformat(read_case(app, case["id"]).stage_times["closed"])
    minute = closed.replace(second=0, microsecond=0)
    assert visit(api, case["id"], 4, visited_at=minute.isoformat()).status_code == 201
    assert case["id"] not in due_ids(api)
