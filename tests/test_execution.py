"""Compensation carried out line by line: who marks what, ``execute`` waiting for every line,
approved lines never changed, and credits due by month end when goods go out first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.contracts import ProposalLine
from core.extensions import db
from core.models import AuditEvent, CompensationLine
from tests.conftest import make_plugin
from tests.plugin_helpers import act, read


def mixed_plugin():
    """A category proposing a credit note, a reshipment and freight charged to the customer."""

    def proposal(case):
        return [
            ProposalLine(kind="credit_note", amount=Decimal("300.00"), note="冲销 3 桶"),
            ProposalLine.goods("reship", 10, Decimal("30.00"), sku="P-100", batch_no="B1"),
            ProposalLine(kind="freight_to_customer", amount=Decimal("20.00")),
        ]

    return make_plugin("mixed", kesu_compensation_proposal=proposal)


@pytest.fixture
def mixed(temp_plugin):
    temp_plugin(mixed_plugin())
    return "mixed"


def to_executing(api) -> dict:
    case = api("agent").create_case(category="mixed", claim_amount="800.00")
    cid = case["id"]
    act(api, cid, "agent", "accept")
    act(api, cid, "supervisor", "assign", department="QA", handler="qa")
    act(api, cid, "qa", "propose", root_cause="装卸不当")
    act(api, cid, "agent", "submit")
    return act(api, cid, "supervisor", "approve")


def line_of(case: dict, kind: str) -> dict:
    return next(line for line in case["compensation"] if line["kind"] == kind)


def done(api, user, case, kind, reference="CN-2612-0001"):
    line = line_of(case, kind)
    url = f"/api/v1/case/{case['id']}/compensation/{line['id']}/done"
    return api(user).post(url, json={"reference": reference})


def cancel(api, user, case, kind, reason="客户放弃运费"):
    line = line_of(case, kind)
    url = f"/api/v1/case/{case['id']}/compensation/{line['id']}/cancel"
    return api(user).post(url, json={"reason": reason})


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_approval_freezes_the_lines_and_execute_waits_for_each_one(app, api, mixed):
    case = to_executing(api)
    assert case["status"] == "executing"
    for line in case["compensation"]:
        assert line["approved_at"] is not None
        assert line["execution"] == {
            "status": "pending",
            "reference": None,
            "reason": None,
            "by": None,
            "at": None,
        }
        assert line["export"] is None
    refused = act(api, case["id"], "sales", "execute", status=422)
    assert refused["problems"][0]["code"] == "lines_not_done"
    assert len(refused["lines"]) == 3

    assert done(api, "finance", case, "credit_note").status_code == 200
    assert done(api, "sales", case, "reship", reference="SO-2612-0042").status_code == 200
    # one line still pending: still refused, naming that line
    refused = act(api, case["id"], "sales", "execute", status=422)
    assert refused["lines"] == [line_of(case, "freight_to_customer")["id"]]

    resp = cancel(api, "supervisor", case, "freight_to_customer")
    assert resp.status_code == 200, resp.get_json()
    after = resp.get_json()["result"]
    assert line_of(after, "freight_to_customer")["execution"]["status"] == "cancelled"
    assert line_of(after, "freight_to_customer")["execution"]["reason"] == "客户放弃运费"
    credit = line_of(after, "credit_note")["execution"]
    assert (credit["status"], credit["reference"], credit["by"]) == (
        "done",
        "CN-2612-0001",
        "finance",
    )
    assert credit["at"].endswith("+08:00")
    assert act(api, case["id"], "sales", "execute")["status"] == "confirming"


def test_money_lines_are_finances_goods_lines_sales_and_customer_services(app, api, mixed):
    case = to_executing(api)
    before = audit_count(app)
    for user, kind in [
        ("sales", "credit_note"),
        ("agent", "freight_to_customer"),
        ("finance", "reship"),
        ("qa", "reship"),
        ("manager", "credit_note"),
    ]:
        resp = done(api, user, case, kind)
        assert resp.status_code == 403, (user, kind, resp.get_json())
    for user in ("agent", "finance", "sales"):
        assert cancel(api, user, case, "reship").status_code == 403, user
    assert audit_count(app) == before  # nothing written
    assert all(
        line["execution"]["status"] == "pending" for line in read(api, case["id"])["compensation"]
    )

    assert done(api, "agent", case, "reship").status_code == 200
    assert done(api, "finance", case, "freight_to_customer").status_code == 200
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "compensation_done")
        ).all()
        assert [(e.actor, e.changes["kind"]) for e in events] == [
            ("agent", "reship"),
            ("finance", "freight_to_customer"),
        ]
        assert events[0].changes["reference"] == "CN-2612-0001"


def test_a_line_is_carried_out_once_with_a_reference(app, api, mixed):
    case = to_executing(api)
    for body, field in [
        ({}, "reference"),
        ({"reference": "   "}, "reference"),
        ({"reference": 42}, "reference"),
        ({"reference": "X" * 65}, "reference"),
        ({"reference": "CN-1", "extra": 1}, "extra"),
    ]:
        line = line_of(case, "credit_note")
        url = f"/api/v1/case/{case['id']}/compensation/{line['id']}/done"
        resp = api("finance").post(url, json=body)
        assert resp.status_code == 400, body
        assert field in resp.get_json()["errors"], body
    assert done(api, "finance", case, "credit_note", reference="X" * 64).status_code == 200
    again = done(api, "finance", case, "credit_note")
    assert again.status_code == 409
    assert cancel(api, "supervisor", case, "credit_note").status_code == 409
    missing = f"/api/v1/case/{case['id']}/compensation/999999/done"
    assert api("finance").post(missing, json={"reference": "CN-1"}).status_code == 404
    no_reason = f"/api/v1/case/{case['id']}/compensation/{line_of(case, 'reship')['id']}/cancel"
    resp = api("supervisor").post(no_reason, json={"reason": ""})
    assert resp.status_code == 400 and "reason" in resp.get_json()["errors"]


def test_lines_not_yet_approved_cannot_be_carried_out(app, api, mixed):
    case = api("agent").create_case(category="mixed")
    act(api, case["id"], "agent", "accept")
    act(api, case["id"], "supervisor", "assign", department="QA")
    proposed = act(api, case["id"], "qa", "propose", root_cause="装卸不当")
    assert all(line["approved_at"] is None for line in proposed["compensation"])
    assert done(api, "finance", proposed, "credit_note").status_code == 409


def test_another_lines_case_does_not_exist_for_them(app, api, mixed):
    case = to_executing(api)
    resp = done(api, "supervisor2", case, "reship")
    assert resp.status_code == 404
    assert cancel(api, "supervisor2", case, "reship").status_code == 404


def test_approved_lines_stand_and_a_correction_is_a_new_line(app, api, mixed):
    case = to_executing(api)
    cid = case["id"]
    approved_ids = [line["id"] for line in case["compensation"]]
    for kind, user in [("credit_note", "finance"), ("reship", "sales")]:
        assert done(api, user, case, kind).status_code == 200
    assert cancel(api, "supervisor", case, "freight_to_customer").status_code == 200
    act(api, cid, "sales", "execute")
    act(api, cid, "agent", "confirm")
    act(api, cid, "qa", "verify", effective=False, comment="仍漏液")
    # proposing again does not re-propose what was approved
    again = act(api, cid, "qa", "propose")
    assert [line["id"] for line in again["compensation"]] == approved_ids
    # a correction: one more credit, proposed by hand; the approved lines are kept unchanged
    body = {
        "lines": [{"kind": "credit_note", "amount": "50.00", "note": "补差价"}],
        "reason": "补差价",
        "version": again["version"],
    }
    resp = api("agent").put(f"/api/v1/case/{cid}/compensation", json=body)
    assert resp.status_code == 200, resp.get_json()
    corrected = resp.get_json()["result"]
    assert [line["id"] for line in corrected["compensation"][:3]] == approved_ids
    assert [line["execution"]["status"] for line in corrected["compensation"]] == [
        "done",
        "done",
        "cancelled",
        "pending",
    ]
    new = corrected["compensation"][3]
    assert (new["kind"], new["amount"], new["approved_at"]) == ("credit_note", "50.00", None)
    # refused: back to the proposal; re-proposing replaces only the line never approved
    act(api, cid, "agent", "submit")
    act(api, cid, "supervisor", "refuse", comment="金额需复核")
    case = read(api, cid)
    body = {
        "lines": [{"kind": "credit_note", "amount": "40.00"}],
        "reason": "复核后",
        "version": case["version"],
    }
    resp = api("agent").put(f"/api/v1/case/{cid}/compensation", json=body)
    lines = resp.get_json()["result"]["compensation"]
    assert [line["id"] for line in lines[:3]] == approved_ids
    assert [(line["amount"], line["approved_at"]) for line in lines[3:]] == [("40.00", None)]
    act(api, cid, "agent", "submit")
    approved = act(api, cid, "supervisor", "approve")
    assert approved["status"] == "executing"
    assert approved["compensation"][3]["approved_at"] is not None
    with app.app_context():
        rounds = db.session.scalars(
            sa.select(CompensationLine.approved_round)
            .where(CompensationLine.case_id == cid)
            .order_by(CompensationLine.position)
        ).all()
    assert rounds == [1, 1, 1, 3]
    refused = act(api, cid, "sales", "execute", status=422)
    assert refused["lines"] == [approved["compensation"][3]["id"]]


def test_reshipped_before_the_recall_the_credit_is_due_by_month_end(app, api, mixed):
    from core.services import execution
    from core.services.access import SYSTEM

    case = to_executing(api)
    # the goods go out while the credit note is still open
    shipped = done(api, "sales", case, "reship").get_json()["result"]
    credit = line_of(shipped, "credit_note")
    freight = line_of(shipped, "freight_to_customer")
    assert freight["credit_due_on"] is None  # a charge to the customer is no credit
    due = dt.date.fromisoformat(credit["credit_due_on"])
    today = dt.datetime.fromisoformat(line_of(shipped, "reship")["execution"]["at"]).date()
    assert (due.year, due.month) == (today.year, today.month)
    assert (due + dt.timedelta(days=1)).day == 1  # the month's last day
    assert credit["credit_overdue"] is False

    with app.app_context():
        [(row, overdue)] = execution.credits_due(SYSTEM)
        assert row.id == credit["id"] and overdue is False
        tz = row.case.business_line.timezone
        last_evening = dt.datetime.combine(due, dt.time(23, 59), dt.UTC)
        # 23:59 UTC on the last day is the next morning in Shanghai: overdue there
        assert execution.credit_overdue(row, tz, last_evening - dt.timedelta(hours=8)) is False
        assert execution.credit_overdue(row, tz, last_evening - dt.timedelta(hours=7)) is True
        assert execution.credit_overdue(row, "UTC", last_evening) is False
        assert execution.credit_overdue(row, "UTC", last_evening + dt.timedelta(minutes=1))
    # once credited it leaves the list
    assert done(api, "finance", case, "credit_note").status_code == 200
    with app.app_context():
        assert execution.credits_due(SYSTEM) == []


def test_a_credit_done_before_the_goods_go_out_is_not_due(app, api, mixed):
    case = to_executing(api)
    assert done(api, "finance", case, "credit_note").status_code == 200
    shipped = done(api, "sales", case, "reship").get_json()["result"]
    assert line_of(shipped, "credit_note")["credit_due_on"] is None


def test_the_open_credits_list_of_ones_own_lines(app, api, mixed):
    case = to_executing(api)
    done(api, "sales", case, "reship")
    credit = line_of(read(api, case["id"]), "credit_note")
    listed = api("finance").get("/api/v1/case/credits-due").get_json()
    assert (listed["count"], listed["overdue"]) == (1, 0)
    [item] = listed["result"]
    assert (item["number"], item["business_line"], item["line"]["id"]) == (
        case["number"],
        "L1",
        credit["id"],
    )
    assert item["line"]["credit_due_on"] == credit["credit_due_on"]
    assert api("finance").get("/api/v1/case/credits-due?business_line=L1").get_json()["count"] == 1
    assert api("supervisor2").get("/api/v1/case/credits-due").get_json()["count"] == 0
    assert api("finance").get("/api/v1/case/credits-due?business_line=L2").status_code == 403
    resp = api("finance").get("/api/v1/case/credits-due?business_line=NOPE")
    assert resp.status_code == 400 and "business_line" in resp.get_json()["errors"]


def test_the_proposal_form_edits_only_lines_never_approved(app, api, mixed):
    from tests.conftest import signed_in

    case = to_executing(api)
    cid = case["id"]
    for kind, user in [("credit_note", "finance"), ("reship", "sales")]:
        done(api, user, case, kind)
    cancel(api, "supervisor", case, "freight_to_customer")
    act(api, cid, "sales", "execute")
    act(api, cid, "agent", "confirm")
    act(api, cid, "qa", "verify", effective=False, comment="仍漏液")
    proposed = act(api, cid, "qa", "propose")
    client = signed_in(app, "agent")
    html = client.get(f"/cases/{cid}").get_data(as_text=True)
    # the three approved lines are shown, not offered for editing: two blank rows only
    assert html.count('class="kesu-approved-line"') == 3
    assert 'name="kind-1"' in html and 'name="kind-2"' not in html
    resp = client.post(
        f"/cases/{cid}/compensation",
        data={
            "kind-0": "credit_note",
            "amount-0": "50.00",
            "kind-1": "",
            "reason": "补差价",
            "version": str(proposed["version"]),
        },
    )
    assert resp.status_code == 302
    lines = read(api, cid)["compensation"]
    assert [(line["kind"], line["amount"], line["approved_at"] is None) for line in lines] == [
        ("credit_note", "300.00", False),
        ("reship", "300.00", False),
        ("freight_to_customer", "20.00", False),
        ("credit_note", "50.00", True),
    ]


def test_the_compensation_total_is_what_the_customer_is_given(app, api, mixed):
    """Freight charged to the customer is not compensation, nor is a cancelled line: the total
    an approver weighs and the case page shows leaves both out."""
    case = to_executing(api)
    # credit 300 + reshipment 10 × 30; the 20 of freight the customer pays is not counted
    assert read(api, case["id"])["compensation_total"] == "600.00"
    assert cancel(api, "supervisor", case, "credit_note", reason="客户改为补发").status_code == 200
    assert read(api, case["id"])["compensation_total"] == "300.00"

    from tests.conftest import signed_in

    page = signed_in(app, "supervisor").get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="kesu-total">300.00<' in page
    assert "理赔合计" in page and "向客户或责任人收取的费用不计入理赔合计。" in page
