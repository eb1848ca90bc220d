"""major_incident (重大投诉) through the REST API: triggers, batch outbreaks, incidents, alerts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Notification


@pytest.mark.parametrize(("cost", "major"), [("100.00", False), ("100.01", True)])
def test_medical_cost_strictly_above_100(api, cost, major):
    case = api("agent").create_case(details={"problem": "delay", "medical_cost": cost})
    assert case["is_major"] is major
    assert case["major_reasons"] == (["medical_cost"] if major else [])
    assert case["priority"] == ("P1" if major else "P3")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"details": {"problem": "delay", "regulator_involved": True}}, "regulator"),
        ({"channel": "regulator"}, "regulator"),
        ({"details": {"problem": "delay", "media_involved": True}}, "media"),
        ({"channel": "media"}, "media"),
        ({"details": {"problem": "delay", "safety_risk": True}}, "safety"),
        ({"customer": {"name": "大客户集团", "kind": "key_account"}}, "key_account"),
    ],
)
def test_each_trigger_makes_the_case_major_and_p1(api, overrides, reason):
    case = api("agent").create_case(**overrides)
    assert (case["is_major"], case["major_reasons"], case["priority"]) == (True, [reason], "P1")


def test_major_fields_join_every_categorys_form(api):
    fields = api("agent").get("/api/v1/case/fields?business_line=L1").get_json()["categories"]
    for category in fields:
        assert {"regulator_involved", "media_involved", "safety_risk", "medical_cost"} <= set(
            category["details"]["properties"]
        ), category["key"]


def test_escalation_alerts_the_lines_management_once(app, api):
    case = api("agent").create_case(channel="media")
    api("agent").put(
        f"/api/v1/case/{case['id']}", json={"description": "记者再次来电", "version": 1}
    )
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "major_case")
        ).all()
        recipients = sorted(r.user_id for r in rows)
        from core.models import KesuUser

        names = sorted(db.session.get(KesuUser, uid).username for uid in recipients)
    # CS supervisors and managers of L1, each once
    assert names == ["boss", "director", "gm", "manager", "rsm", "salesgm", "supervisor"]


T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def batch_case(api, when, batch="HC-OUT", user="agent", **kw):
    return api(user).create_case(
        category="product_quality",
        batch_no=batch,
        received_at=when.isoformat(),
        details={"problem": "quality_defect", "affected_quantity": kw.pop("qty", 5)},
        **kw,
    )


def test_third_case_of_a_batch_within_30_days_opens_an_incident(app, api):
    first = batch_case(api, T0, qty=5)
    second = batch_case(api, T0 + dt.timedelta(days=10), qty=7)
    assert not first["is_major"] and not second["is_major"]
    third = batch_case(api, T0 + dt.timedelta(days=30), qty=9)
    assert third["is_major"] and "batch_outbreak" in third["major_reasons"]
    for earlier in (first, second):
        case = api("agent").get(f"/api/v1/case/{earlier['id']}").get_json()["result"]
        assert (
            case["is_major"]
            and case["major_reasons"] == ["batch_outbreak"]
            and case["priority"] == "P1"
        )
    incidents = api("agent").get("/api/v1/incident/").get_json()
    assert incidents["count"] == 1
    incident = incidents["result"][0]
    assert incident["batch_no"] == "HC-OUT" and incident["product"]["code"] == "P-100"
    assert incident["opened_at"].endswith("+08:00")
    assert [c["number"] for c in incident["cases"]] == [
        first["number"],
        second["number"],
        third["number"],
    ]
    assert incident["affected_quantity"] == 21
    fourth = batch_case(api, T0 + dt.timedelta(days=31), qty=1)
    assert fourth["is_major"]
    incident = api("agent").get(f"/api/v1/incident/{incident['id']}").get_json()["result"]
    assert len(incident["cases"]) == 4 and incident["affected_quantity"] == 22
    with app.app_context():
        kinds = db.session.scalars(
            sa.select(Notification.kind).where(Notification.kind == "incident")
        ).all()
    assert len(kinds) == 2 * 7  # opened, then joined; to the seven supervisors and managers of L1


def test_third_case_outside_the_window_is_not_an_outbreak(api):
    batch_case(api, T0)
    batch_case(api, T0 + dt.timedelta(days=10))
    third = batch_case(api, T0 + dt.timedelta(days=30, minutes=1))
    assert "batch_outbreak" not in third["major_reasons"]
    assert api("agent").get("/api/v1/incident/").get_json()["count"] == 0


def test_other_batches_and_products_do_not_count(api):
    batch_case(api, T0)
    batch_case(api, T0 + dt.timedelta(days=1), batch="OTHER")
    third = batch_case(api, T0 + dt.timedelta(days=2))
    assert not third["is_major"]


def test_outbreak_threshold_is_a_line_setting(app, api):
    from core.services import lines
    from core.services.access import SYSTEM

    with app.app_context():
        lines.update_plugin_settings(
            SYSTEM, "L1", "major_incident", {"outbreak_cases": 2, "outbreak_days": 7}
        )
    batch_case(api, T0)
    assert batch_case(api, T0 + dt.timedelta(days=7))["is_major"]
    assert not batch_case(api, T0 + dt.timedelta(days=20), batch="B2")["is_major"]
    assert not batch_case(api, T0 + dt.timedelta(days=27, minutes=1), batch="B2")["is_major"]


def test_incidents_follow_the_record_rule(api):
    for days in (0, 1, 2):
        batch_case(api, T0 + dt.timedelta(days=days))
    incident = api("agent").get("/api/v1/incident/").get_json()["result"][0]
    assert api("agent2").get("/api/v1/incident/").get_json()["count"] == 0
    assert api("agent2").get(f"/api/v1/incident/{incident['id']}").status_code == 404


def test_not_detected_where_the_plugin_is_disabled(api):
    case = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商"}, channel="media"
    )
    assert not case["is_major"]


def test_a_case_edited_into_another_outbreak_batch_follows_its_batch(app, api):
    """A case already in one batch's incident, corrected to another batch that has an outbreak
    of its own, leaves the first incident and joins the second (a case is in one incident)."""
    cases_a = [batch_case(api, T0 + dt.timedelta(days=d), batch="HC-A") for d in (0, 1, 2)]
    for d in (0, 1, 2):
        batch_case(api, T0 + dt.timedelta(days=d), batch="HC-B")
    moved = api("agent").get(f"/api/v1/case/{cases_a[2]['id']}").get_json()["result"]
    resp = api("agent").put(
        f"/api/v1/case/{moved['id']}", json={"batch_no": "HC-B", "version": moved["version"]}
    )
    assert resp.status_code == 200, resp.get_json()
    incidents = {
        i["batch_no"]: i for i in api("agent").get("/api/v1/incident/").get_json()["result"]
    }
    numbers = {batch: [c["number"] for c in i["cases"]] for batch, i in incidents.items()}
    assert moved["number"] in numbers["HC-B"] and moved["number"] not in numbers["HC-A"]
    assert len(numbers["HC-A"]) == 2 and len(numbers["HC-B"]) == 4
