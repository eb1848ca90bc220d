"""logistics (物流问题) through the REST API, at its rules' boundaries."""

from __future__ import annotations

import pytest

from tests.plugin_helpers import PDF, act, add_evidence, codes, read, to_investigating


def damage(api, *, goods, received, **details):
    return api("agent").create_case(
        category="logistics",
        goods_received_at=goods,
        received_at=received,
        details={"problem": "transit_damage", "affected_quantity": 6, **details},
    )


@pytest.mark.parametrize(
    ("goods", "received", "late"),
    [
        (
            "2026-11-20T23:30:00+08:00",
            "2026-11-20T23:59:00+08:00",
            False,
        ),  # same day, just before midnight
        (
            "2026-11-20T23:30:00+08:00",
            "2026-11-21T00:10:00+08:00",
            True,
        ),  # next day, ten minutes later
        (
            "2026-11-20T15:30:00Z",
            "2026-11-20T16:10:00Z",
            True,
        ),  # same UTC day, next day in Shanghai
        ("2026-11-19T16:30:00Z", "2026-11-20T15:00:00Z", False),  # two UTC days, one Shanghai day
        ("2026-11-20T08:00:00", "2026-11-20T20:00:00", False),  # no offset: the line's time
    ],
)
def test_damage_must_be_raised_on_the_day_of_receipt(api, goods, received, late):
    case = damage(api, goods=goods, received=received)
    assert (("late_report", "goods_received_at") in codes(case)) is late


def test_signed_delivery_note_is_required_and_counts_once_uploaded(api):
    case = damage(api, goods="2026-11-20T09:00:00", received="2026-11-20T10:00:00")
    assert codes(case) == [("missing_evidence", "delivery_note")]
    assert (
        case["acceptance_issues"][0]["message"]
        == "请上传承运商送货单：注明实际收货情况并经双方签字。"
    )
    assert act(api, case["id"], "agent", "accept", status=422)
    add_evidence(api, case["id"], "photo")  # a photo is not the delivery note
    assert codes(read(api, case["id"])) == [("missing_evidence", "delivery_note")]
    add_evidence(api, case["id"], "delivery_note", PDF, "送货单.pdf")
    assert codes(read(api, case["id"])) == []
    assert act(api, case["id"], "agent", "accept")["status"] == "accepted"


def test_shortage_needs_the_receipt_time(api):
    case = api("agent").create_case(category="logistics", details={"problem": "transit_shortage"})
    assert ("missing_evidence", "goods_received_at") in codes(case)


@pytest.mark.parametrize(
    ("normal", "actual", "within"), [(3, 2, True), (3, 3, True), (3, 4, False)]
)
def test_delay_within_the_normal_transit_time(api, normal, actual, within):
    case = api("agent").create_case(
        category="logistics",
        details={"problem": "delay", "transit_days_normal": normal, "transit_days_actual": actual},
    )
    assert codes(case) == ([("within_normal_transit", "transit_days_actual")] if within else [])


def test_force_majeure(api):
    case = api("agent").create_case(
        category="logistics", details={"problem": "delay", "force_majeure": True}
    )
    assert codes(case) == [("force_majeure", "force_majeure")]


def test_required_problem_and_choices(api):
    from tests.conftest import case_body

    for details, field in (
        ({}, "details.problem"),
        ({"problem": "flood"}, "details.problem"),
        ({"problem": "delay", "carrier_negotiation": "maybe"}, "details.carrier_negotiation"),
        ({"problem": "delay", "force_majeure": "yes"}, "details.force_majeure"),
    ):
        resp = api("agent").post("/api/v1/case/", json=case_body(details=details))
        assert resp.status_code == 400 and field in resp.get_json()["errors"], details


def _proposed(api, **details):
    case = damage(api, goods="2026-11-20T09:00:00", received="2026-11-20T10:00:00", **details)
    add_evidence(api, case["id"], "delivery_note", PDF, "送货单.pdf")
    to_investigating(api, case["id"])
    return act(api, case["id"], "qa", "propose", root_cause="承运商装卸不当")


def test_no_company_compensation_by_default(api):
    case = _proposed(api)
    assert case["compensation"] == []
    assert case["proposal_note"] == "公司不予赔偿：由客户向承运商索赔，客服部协助协商。"
    # the customer asked for compensation: nothing paid is confirmed with its reason
    submitted = act(
        api, case["id"], "agent", "submit", confirm_empty=True, comment="由客户向承运商索赔"
    )
    assert submitted["status"] == "confirming"  # nothing to approve or pay
    assert act(api, case["id"], "agent", "confirm")["status"] == "closed"  # no verification stage


EXCEPTIONAL = {
    "lines": [{"kind": "credit_note", "amount": "840.00", "note": "承运商拒赔，特批"}],
    "reason": "承运商拒绝赔偿且残损严重",
}


@pytest.mark.parametrize(
    ("negotiation", "severity"), [("pending", "severe"), ("failed", "minor"), ("settled", "severe")]
)
def test_exceptional_line_refused_unless_carrier_refused_and_damage_severe(
    app, api, negotiation, severity
):
    case = _proposed(api, carrier_negotiation=negotiation, damage_severity=severity)
    resp = api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=EXCEPTIONAL)
    assert resp.status_code == 422
    assert resp.get_json()["problems"][0]["code"] == "exceptional_not_allowed"
    assert read(api, case["id"])["compensation"] == []


def test_exceptional_line_needs_supervisor_and_marketing_director(api):
    case = _proposed(api, carrier_negotiation="failed", damage_severity="severe")
    # The note says what the exception allows, not that nothing is paid.
    assert case["proposal_note"] == (
        "承运商拒赔且残损严重：客服可提出例外理赔，须经客服主管和营销总监审批。"
    )
    resp = api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=EXCEPTIONAL)
    assert resp.status_code == 200, resp.get_json()
    case = act(api, case["id"], "agent", "submit")
    assert [(a["step"], a["role"]) for a in case["approvals"]] == [
        ("cs_supervisor", "cs_supervisor"),
        ("marketing_director", "marketing_director"),
    ]
    act(api, case["id"], "director", "approve", status=403)
    act(api, case["id"], "supervisor", "approve")
    assert act(api, case["id"], "director", "approve")["status"] == "executing"
