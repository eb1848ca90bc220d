"""Approvals by position per line, the CNY 25,000 threshold, the inbox, and editing a proposal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from tests.plugin_helpers import PDF, act, add_evidence, read, to_investigating


def proposal_of(api, amount: str):
    """A short-shipment case whose reshipment is worth ``amount`` (one unit at that price)."""
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        details={"problem": "short_shipment", "affected_quantity": 1, "unit_price": amount},
    )
    add_evidence(api, case["id"], "photo")
    to_investigating(api, case["id"], department="WH")
    return act(api, case["id"], "qa", "propose", root_cause="漏装")


def test_25000_00_needs_only_the_supervisor(api):
    case = proposal_of(api, "25000.00")
    case = act(api, case["id"], "agent", "submit")
    assert [a["step"] for a in case["approvals"]] == ["cs_supervisor"]


def test_25000_01_needs_case_report_then_regional_then_sales_gm(api):
    case = proposal_of(api, "25000.01")
    refused = act(api, case["id"], "agent", "submit", status=422)
    assert refused["problems"][0]["code"] == "missing_case_report"
    add_evidence(api, case["id"], "document", PDF, "案例报告.pdf")
    case = act(api, case["id"], "agent", "submit")
    assert [(a["step"], a["role"]) for a in case["approvals"]] == [
        ("cs_supervisor", "cs_supervisor"),
        ("regional_sales_manager", "regional_sales_manager"),
        ("sales_gm", "sales_gm"),
    ]
    act(api, case["id"], "rsm", "approve", status=403)  # in order: the supervisor first
    act(api, case["id"], "supervisor", "approve")
    act(api, case["id"], "salesgm", "approve", status=403)
    act(api, case["id"], "rsm", "approve")
    assert act(api, case["id"], "salesgm", "approve")["status"] == "executing"


def test_threshold_is_a_line_setting(app, api):
    from core.models import BusinessLine

    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        line.settings = {"approval_threshold": "1000.00"}
        db.session.commit()
    case = proposal_of(api, "1000.01")
    add_evidence(api, case["id"], "document", PDF, "report.pdf")
    assert len(act(api, case["id"], "agent", "submit")["approvals"]) == 3


def test_only_a_holder_of_the_position_on_the_line_decides(app, api):
    from core.services import positions
    from core.services.access import SYSTEM

    case = proposal_of(api, "100.00")
    act(api, case["id"], "agent", "submit")
    act(api, case["id"], "supervisor2", "approve", status=404)  # a supervisor of another line
    act(api, case["id"], "manager", "approve", status=403)  # may approve, holds no position
    with app.app_context():
        positions.grant(SYSTEM, "manager", "L1", "cs_supervisor")
    assert act(api, case["id"], "manager", "approve")["status"] == "executing"


def test_inbox_lists_what_waits_for_each_approver(api):
    case = proposal_of(api, "30000.00")
    add_evidence(api, case["id"], "document", PDF, "report.pdf")
    act(api, case["id"], "agent", "submit")

    def inbox(user):
        return [c["number"] for c in api(user).get("/api/v1/case/inbox").get_json()["result"]]

    assert inbox("supervisor") == [case["number"]] and inbox("rsm") == []
    act(api, case["id"], "supervisor", "approve")
    assert inbox("supervisor") == [] and inbox("rsm") == [case["number"]]


def test_positions_are_granted_from_the_shell(app, runner):
    result = runner.invoke(args=["positions", "grant", "finance", "L1", "leadership"])
    assert result.exit_code == 0, result.output
    assert "leadership" in runner.invoke(args=["positions", "list"]).output
    bad = runner.invoke(args=["positions", "grant", "finance", "L1", "emperor"])
    assert bad.exit_code != 0
    foreign = runner.invoke(args=["positions", "grant", "finance", "L2", "leadership"])
    assert foreign.exit_code != 0


# -- editing a proposal ----------------------------------------------------------------------------


def test_staff_edit_lines_with_a_reason_audited(app, api):
    case = proposal_of(api, "50.00")
    body = {
        "lines": [
            {"kind": "reship", "quantity": 2, "unit_price": "50.00", "sku": "P-100"},
            {"kind": "account_adjustment", "amount": "15.00", "note": "运费补贴"},
        ],
        "reason": "客户另有 1 桶破损",
        "version": case["version"],
    }
    resp = api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body)
    assert resp.status_code == 200, resp.get_json()
    edited = resp.get_json()["result"]
    assert [(c["kind"], c["amount"]) for c in edited["compensation"]] == [
        ("reship", "100.00"),
        ("account_adjustment", "15.00"),
    ]
    assert edited["compensation_total"] == "115.00"
    assert edited["version"] > case["version"]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "compensation"))
    assert event.changes["reason"] == "客户另有 1 桶破损" and event.actor == "qa"
    assert [line["amount"] for line in event.changes["compensation"][0]] == ["50.00"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"kind": "refund", "amount": "1"}]}, "reason"),
        ({"lines": "x", "reason": "r"}, "lines"),
        ({"lines": [{"kind": "gift", "amount": "1"}], "reason": "r"}, "lines.0.kind"),
        ({"lines": [{"kind": "refund"}], "reason": "r"}, "lines.0.amount"),
        ({"lines": [{"kind": "reship", "quantity": 2}], "reason": "r"}, "lines.0.unit_price"),
        (
            {
                "lines": [{"kind": "reship", "quantity": 2, "unit_price": "5", "amount": "11"}],
                "reason": "r",
            },
            "lines.0.amount",
        ),
        ({"lines": [{"kind": "refund", "amount": "-1"}], "reason": "r"}, "lines.0.amount"),
        ({"lines": [], "reason": "r", "colour": 1}, "colour"),
    ],
)
def test_bad_lines_are_refused_naming_the_field(app, api, body, field):
    case = proposal_of(api, "50.00")
    resp = api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body)
    assert resp.status_code == 400 and field in resp.get_json()["errors"], resp.get_json()
    assert read(api, case["id"])["compensation_total"] == "50.00"


def test_lines_change_only_at_the_proposal_stage_by_those_who_propose(api):
    case = proposal_of(api, "50.00")
    body = {"lines": [], "reason": "客户放弃"}
    assert (
        api("finance").put(f"/api/v1/case/{case['id']}/compensation", json=body).status_code == 403
    )
    stale = api("qa").put(f"/api/v1/case/{case['id']}/compensation", json={**body, "version": 1})
    assert stale.status_code == 409
    act(api, case["id"], "agent", "submit")
    assert api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body).status_code == 409


def test_inbox_needs_the_right_to_approve(app, api):
    from core.services import positions
    from core.services.access import SYSTEM

    with app.app_context():
        positions.grant(
            SYSTEM, "sales", "L1", "cs_supervisor"
        )  # a position, but no approve permission
    case = proposal_of(api, "100.00")
    act(api, case["id"], "agent", "submit")
    assert api("sales").get("/api/v1/case/inbox").get_json()["count"] == 0
    act(api, case["id"], "sales", "approve", status=403)


def test_positions_screen_keeps_the_membership_rule(app, client):
    from core.models import BusinessLine, KesuUser, LinePosition
    from tests.test_screen_rules import login

    with app.app_context():
        agent2 = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent2"))
        l1 = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        ids = (agent2.id, l1.id)
        before = db.session.scalar(sa.select(sa.func.count()).select_from(LinePosition))
    login(client, "admin")
    page = client.post(
        "/linepositionview/add",
        data={"user": str(ids[0]), "business_line": str(ids[1]), "position": "leadership"},
        follow_redirects=True,
    )
    assert "该用户不属于此业务线" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LinePosition)) == before


def test_timeline_shows_a_proposal_as_old_to_new(client, api):
    from tests.test_screen_rules import login

    case = api("agent").create_case(
        category="product_quality",
        details={
            "problem": "quality_defect",
            "affected_quantity": 2,
            "unit_price": "10.00",
            "remedy": "recall_credit_reship",
            "responsible_unit": "生产部",
        },
    )
    to_investigating(api, case["id"])
    api("qa").post(
        f"/api/v1/quality/{case['id']}/actions",
        json={
            "kind": "corrective",
            "description": "x",
            "responsible_unit": "生产部",
            "due_date": "2026-12-01",
        },
    )
    act(api, case["id"], "qa", "propose", root_cause="x")
    login(client, "agent")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    event = page[page.index('data-action="propose"') :]
    assert "提出处理方案：" in event and "合计 ¥" in event


def test_the_inbox_shows_the_reason_of_the_lines_it_shows(app, api):
    """A hand edit's reason stands beside its lines; after a refusal the proposal made again
    replaces them, and the old reason is no longer shown as theirs."""
    from tests.conftest import signed_in

    case = proposal_of(api, "50.00")
    body = {
        "lines": [{"kind": "refund", "amount": "80.00"}],
        "reason": "客户另付运费，改为退款",
        "version": case["version"],
    }
    assert api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body).status_code == 200
    act(api, case["id"], "agent", "submit")
    inbox = signed_in(app, "supervisor")
    assert "客户另付运费，改为退款" in inbox.get("/inbox/").get_data(as_text=True)
    act(api, case["id"], "supervisor", "refuse", comment="请按补发处理")
    act(api, case["id"], "qa", "propose", root_cause="漏装")
    act(api, case["id"], "agent", "submit")
    page = inbox.get("/inbox/").get_data(as_text=True)
    assert case["number"] in page and "客户另付运费，改为退款" not in page
