"""Every workflow action: its allowed path, and its refusals (403 role, 409 status, 422 precondition)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.contracts import AcceptanceIssue, ProposalLine
from core.extensions import db
from core.models import AuditEvent
from core.workflow import ACTIONS
from tests.conftest import make_plugin
from tests.plugin_helpers import settle

# Who runs each action in these tests (a role that has it).
RUNNER = {
    "accept": "agent",
    "reject": "agent",
    "assign": "supervisor",
    "propose": "qa",
    "submit": "agent",
    "approve": "supervisor",
    "refuse": "supervisor",
    "execute": "sales",
    "confirm": "agent",
    "verify": "qa",
    "close": "agent",
    "reopen": "supervisor",
    "hold": "agent",
    "resume": "agent",
}
PAYLOAD = {
    "reject": {"comment": "超过受理时限"},
    "assign": {"department": "QA", "handler": "qa"},
    "propose": {"root_cause": "承运商装卸不当"},
    "refuse": {"comment": "金额过高"},
    "verify": {"effective": True},
    "reopen": {"comment": "客户不满意"},
    "hold": {"comment": "等待客户补充照片"},
}


def claims_plugin(**extra_hooks):
    """A category that proposes a refund of the claim amount."""

    def proposal(case):
        if case.category != "claims":
            return None
        amount = case.claim_amount or Decimal("0")
        return [ProposalLine(kind="refund", amount=amount)] if amount else []

    return make_plugin("claims", kesu_compensation_proposal=proposal, **extra_hooks)


@pytest.fixture
def claims(temp_plugin):
    temp_plugin(claims_plugin())
    return "claims"


def run(api, case_id, action, user=None, **payload):
    body = {**PAYLOAD.get(action, {}), **payload}
    return api(user or RUNNER[action]).action(case_id, action, **body)


def step(api, case_id, action, expect_status):
    resp = run(api, case_id, action)
    assert resp.status_code == 200, (action, resp.get_json())
    case = resp.get_json()["result"]
    assert case["status"] == expect_status, (action, case["status"])
    return case


def test_full_path_with_compensation(api, claims):
    case = api("agent").create_case(category="claims", claim_amount="800.00")
    cid = case["id"]
    case = step(api, cid, "accept", "accepted")
    case = step(api, cid, "assign", "investigating")
    assert case["department"] == "QA" and case["handler"] == "qa"
    case = step(api, cid, "propose", "proposed")
    assert [(c["kind"], c["amount"]) for c in case["compensation"]] == [("refund", "800.00")]
    assert case["root_cause"] == "承运商装卸不当"
    case = step(api, cid, "submit", "approving")
    assert [(a["step"], a["role"], a["decision"]) for a in case["approvals"]] == [
        ("cs_supervisor", "cs_supervisor", "pending")
    ]
    case = step(api, cid, "approve", "executing")
    assert case["approvals"][0]["decision"] == "approved"
    assert case["approvals"][0]["by"] == "supervisor"
    assert case["approvals"][0]["at"].endswith("+08:00")
    refused = run(api, cid, "execute")
    assert refused.status_code == 422
    assert refused.get_json()["problems"][0]["code"] == "lines_not_done"
    settle(api, cid)
    case = step(api, cid, "execute", "confirming")
    case = step(api, cid, "confirm", "verifying")
    case = step(api, cid, "verify", "verifying")
    assert case["verified_effective"] is True
    case = step(api, cid, "close", "closed")
    assert api("supervisor").get(f"/api/v1/case/{cid}").get_json()["result"]["allowed_actions"] == [
        "reopen"
    ]


def test_without_compensation_approval_and_execution_are_skipped(api):
    # the customer asked for no compensation (an empty proposal then needs no confirmation)
    case = api("agent").create_case(category="logistics", demand="improvement")
    cid = case["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
    ]:
        step(api, cid, action, status)
    case = step(api, cid, "submit", "confirming")
    assert case["compensation"] == [] and case["approvals"] == []


def test_category_that_leaves_out_verification_closes_on_confirmation(api, temp_plugin):
    temp_plugin(
        make_plugin(
            "quick",
            kesu_workflow_stages=lambda case: ["confirming"] if case.category == "quick" else None,
        )
    )
    cid = api("agent").create_case(category="quick", demand="improvement")["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
        ("submit", "confirming"),
        ("confirm", "closed"),
    ]:
        step(api, cid, action, status)


FROM_NEW = {"accept", "reject", "hold"}


@pytest.mark.parametrize("action", sorted(set(ACTIONS) - FROM_NEW))
def test_action_not_allowed_now_is_409_with_status_and_allowed_actions(api, claims, action):
    cid = api("agent").create_case(category="claims")["id"]
    resp = run(api, cid, action)
    assert resp.status_code == 409, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "new"
    assert set(body["allowed_actions"]) <= FROM_NEW
    assert api("agent").get(f"/api/v1/case/{cid}").get_json()["result"]["status"] == "new"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_role_without_the_action_is_403(app, api, action):
    cid = api("agent").create_case()["id"]
    resp = run(api, cid, action, user="finance")
    assert resp.status_code == 403, resp.get_json()
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action)
            )
            == 0
        )


@pytest.mark.parametrize(
    ("action", "user"),
    [
        ("accept", "qa"),
        ("assign", "agent"),
        ("reopen", "agent"),
        ("verify", "agent"),
        ("approve", "sales"),
    ],
)
def test_specific_roles_are_refused(api, action, user):
    cid = api("agent").create_case()["id"]
    assert run(api, cid, action, user=user).status_code == 403


def test_unknown_action_is_404(api):
    cid = api("agent").create_case()["id"]
    assert api("agent").action(cid, "teleport").status_code == 404


def test_reject_needs_reasons_and_reopen_returns_to_new(api):
    cid = api("agent").create_case()["id"]
    resp = api("agent").action(cid, "reject")
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    step(api, cid, "reject", "rejected")
    assert api("agent").action(cid, "reopen", comment="x").status_code == 403
    resp = api("supervisor").action(cid, "reopen")
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    step(api, cid, "reopen", "new")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "department"),
        ({"department": "NOPE"}, "department"),
        ({"department": "QA", "handler": "agent2"}, "handler"),
        ({"department": "QA", "handler": "nobody"}, "handler"),
    ],
)
def test_assign_preconditions(api, payload, field):
    cid = api("agent").create_case()["id"]
    step(api, cid, "accept", "accepted")
    resp = api("supervisor").action(cid, "assign", **payload)
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["errors"]


def test_propose_needs_a_root_cause(api):
    cid = api("agent").create_case()["id"]
    step(api, cid, "accept", "accepted")
    step(api, cid, "assign", "investigating")
    resp = api("qa").action(cid, "propose")
    assert resp.status_code == 422 and "root_cause" in resp.get_json()["errors"]


def _to_approving(api, claim="500.00"):
    cid = api("agent").create_case(category="claims", claim_amount=claim)["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
        ("submit", "approving"),
    ]:
        step(api, cid, action, status)
    return cid


def test_refusal_returns_the_proposal_with_the_reason(api, claims):
    cid = _to_approving(api)
    resp = api("supervisor").action(cid, "refuse")
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    case = step(api, cid, "refuse", "proposed")
    assert case["approvals"][0]["decision"] == "refused"
    assert case["approvals"][0]["comment"] == "金额过高"
    case = step(api, cid, "submit", "approving")
    rounds = [(a["round"], a["decision"]) for a in case["approvals"]]
    assert rounds == [(1, "refused"), (2, "pending")]


def test_only_the_steps_role_may_decide_it(api, claims):
    cid = _to_approving(api)
    case = api("manager").get(f"/api/v1/case/{cid}").get_json()["result"]
    assert "approve" not in case["allowed_actions"]
    resp = api("manager").action(cid, "approve")
    assert resp.status_code == 403
    assert "step" in resp.get_json()["errors"]


def test_ineffective_verification_loops_back_to_investigation(api, claims):
    cid = api("agent").create_case(category="claims", demand="improvement")["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
        ("submit", "confirming"),
        ("confirm", "verifying"),
    ]:
        step(api, cid, action, status)
    resp = api("agent").action(cid, "close")
    assert resp.status_code == 422 and "verified_effective" in resp.get_json()["errors"]
    resp = api("qa").action(cid, "verify")
    assert resp.status_code == 422 and "effective" in resp.get_json()["errors"]
    resp = api("qa").action(cid, "verify", effective=False)
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    resp = api("qa").action(cid, "verify", effective="no")
    assert resp.status_code == 400 and "effective" in resp.get_json()["errors"]
    resp = api("qa").action(cid, "verify", effective=False, comment="仍有颗粒")
    assert resp.get_json()["result"]["status"] == "investigating"
    for action, status in [
        ("propose", "proposed"),
        ("submit", "confirming"),
        ("confirm", "verifying"),
        ("verify", "verifying"),
        ("close", "closed"),
    ]:
        step(api, cid, action, status)
    step(api, cid, "reopen", "investigating")


def test_hold_and_resume_return_to_the_same_stage(api):
    cid = api("agent").create_case()["id"]
    step(api, cid, "accept", "accepted")
    step(api, cid, "assign", "investigating")
    resp = api("agent").action(cid, "hold")
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    case = step(api, cid, "hold", "on_hold")
    assert case["held_from"] == "investigating"
    assert case["allowed_actions"] == ["resume"]
    case = step(api, cid, "resume", "investigating")
    assert case["held_from"] is None


def test_acceptance_issues_block_accept_unless_a_supervisor_overrides(app, api, temp_plugin):
    temp_plugin(
        make_plugin(
            "strict",
            kesu_acceptance_issues=lambda case: (
                [AcceptanceIssue("late_report", "too late", "received_at")]
                if case.category == "strict"
                else None
            ),
        )
    )
    cid = api("agent").create_case(category="strict")["id"]
    resp = api("agent").action(cid, "accept")
    assert resp.status_code == 422
    assert resp.get_json()["acceptance_issues"][0]["code"] == "late_report"
    assert api("agent").action(cid, "accept", override=True, comment="老客户").status_code == 403
    resp = api("supervisor").action(cid, "accept", override=True)
    assert resp.status_code == 422 and "comment" in resp.get_json()["errors"]
    resp = api("supervisor").action(cid, "accept", override=True, comment="老客户，特批受理")
    assert resp.status_code == 200
    case = resp.get_json()["result"]
    assert case["status"] == "accepted"
    assert case["acceptance_override"] == "老客户，特批受理"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "accept"))
        assert event.changes["override"] is True
        assert event.changes["comment"] == "老客户，特批受理"
        assert event.actor == "supervisor"


def test_status_changes_only_through_actions(api):
    case = api("agent").create_case()
    resp = api("agent").put(f"/api/v1/case/{case['id']}", json={"status": "closed", "version": 1})
    assert resp.status_code == 400 and "status" in resp.get_json()["errors"]


def test_action_with_a_stale_version_is_409(api):
    case = api("agent").create_case()
    api("agent").put(f"/api/v1/case/{case['id']}", json={"batch_no": "X", "version": 1})
    resp = api("agent").action(case["id"], "accept", version=1)
    assert resp.status_code == 409
    assert resp.get_json()["current_version"] == 2


def test_plugin_preconditions_refuse_with_422(api, temp_plugin):
    from core.contracts import Problem

    temp_plugin(
        make_plugin(
            "signed",
            kesu_action_problems=lambda case, action, payload: (
                [
                    Problem(
                        "settlement_unsigned",
                        "the settlement is not signed",
                        "details.settlement_signed",
                    )
                ]
                if case.category == "signed" and action == "accept"
                else None
            ),
        )
    )
    cid = api("agent").create_case(category="signed")["id"]
    resp = api("agent").action(cid, "accept")
    assert resp.status_code == 422
    assert resp.get_json()["problems"][0]["code"] == "settlement_unsigned"
    assert "details.settlement_signed" in resp.get_json()["errors"]


def test_responsible_department_acts_only_on_cases_assigned_to_it(api):
    from tests.test_evidence import PNG, upload

    ours = api("agent").create_case()["id"]
    theirs = api("agent").create_case()["id"]
    for cid, department in ((ours, "QA"), (theirs, "WH")):
        step(api, cid, "accept", "accepted")
        api("supervisor").action(cid, "assign", department=department)
    assert api("dept").get(f"/api/v1/case/{theirs}").get_json()["result"]["allowed_actions"] == []
    resp = api("dept").action(theirs, "propose", root_cause="x")
    assert resp.status_code == 403 and "department" in resp.get_json()["errors"]
    assert upload(api("dept"), theirs, PNG).status_code == 403
    assert api("dept").action(ours, "propose", root_cause="仓库装错").status_code == 200
    assert upload(api("dept"), ours, PNG).status_code == 201


def test_a_refused_action_names_the_stage_in_words(api):
    case = api("agent").create_case(category="logistics")
    resp = api("agent").post(f"/api/v1/case/{case['id']}/action/close", json={})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["status"] == "new"  # the code stays for programs
    assert body["message"] == "客诉处于“已登记”状态，不能执行“结案”。"


def test_only_a_role_that_handles_cases_can_be_the_handler(app, api):
    from tests.conftest import signed_in

    case = api("agent").create_case(category="logistics")
    cid = case["id"]
    step(api, cid, "accept", "accepted")
    html = signed_in(app, "supervisor").get(f"/cases/{cid}").get_data(as_text=True)
    offered = set(re.findall(r'<option value="([a-z0-9]+)"', html))
    assert {"qa", "dept", "sales", "agent"} <= offered
    assert not offered & {"finance", "auditor", "manager"}
    for username in ("finance", "auditor"):
        resp = run(api, cid, "assign", handler=username)
        assert resp.status_code == 422, username
        assert "handler" in resp.get_json()["errors"]
    assert step(api, cid, "assign", "investigating")["handler"] == "qa"
