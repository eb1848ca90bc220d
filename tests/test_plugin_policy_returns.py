"""policy_returns (政策退换货) through the REST API: who pays, approval, the warehouse receipt."""

from __future__ import annotations

import pytest

from tests.plugin_helpers import act, read, to_investigating

RETURN = {"sku": "P-100", "return_quantity": 10, "freight_out": "120.00", "freight_back": "80.50"}


def proposed(api, **details):
    case = api("agent").create_case(
        category="policy_returns", batch_no="B-RET", details={**RETURN, **details}
    )
    to_investigating(api, case["id"], department="WH")
    return act(api, case["id"], "sales", "propose", root_cause="促销政策调整")


def test_customer_liable_and_insisting_pays_freight_both_ways(api):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    assert [(c["kind"], c["amount"], c["sku"], c["quantity"]) for c in case["compensation"]] == [
        ("freight_to_customer", "200.50", "P-100", 10)
    ]


def test_customer_liable_not_insisting_means_no_return(api):
    case = proposed(api, liable_party="customer", insists_on_return=False)
    assert case["compensation"] == []
    assert case["proposal_note"] == "客户责任且不坚持退货：不退货。"


def test_company_liable_charges_the_named_responsible_person(api):
    case = api("agent").create_case(
        category="policy_returns", details={**RETURN, "liable_party": "company"}
    )
    to_investigating(api, case["id"])
    refused = act(api, case["id"], "sales", "propose", status=422, root_cause="x")
    assert refused["problems"][0]["field"] == "details.responsible_person"
    api("agent").put(
        f"/api/v1/case/{case['id']}",
        json={
            "details": {"responsible_person": "王经理"},
            "version": read(api, case["id"])["version"],
        },
    )
    case = act(api, case["id"], "sales", "propose", root_cause="业务员擅自承诺退货")
    assert [(c["kind"], c["amount"], c["note"]) for c in case["compensation"]] == [
        ("charge_responsible_person", "200.50", "王经理")
    ]


def test_liable_party_is_needed_to_propose(api):
    case = api("agent").create_case(category="policy_returns", details=RETURN)
    to_investigating(api, case["id"])
    assert (
        act(api, case["id"], "sales", "propose", status=422, root_cause="x")["problems"][0]["code"]
        == "missing_liable_party"
    )


@pytest.mark.parametrize("approver", ["director", "gm"])
def test_marketing_director_or_general_manager_approves(api, approver):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    case = act(api, case["id"], "agent", "submit")
    assert [(a["step"], a["role"]) for a in case["approvals"]] == [
        ("cs_supervisor", "cs_supervisor"),
        ("returns", "marketing_director|general_manager"),
    ]
    act(api, case["id"], "supervisor", "approve")
    # leadership is not one of the step's positions
    act(api, case["id"], "boss", "approve", status=403)
    assert act(api, case["id"], approver, "approve")["status"] == "executing"


def _receipt(api, case_id, user="warehouse", **received):
    body = {"sku": "P-100", "batch_no": "B-RET", "quantity": 10, **received}
    return api(user).post(f"/api/v1/returns/{case_id}/receipts", json=body)


def test_warehouse_refuses_goods_without_an_approved_form(api):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    resp = _receipt(api, case["id"])
    assert resp.status_code == 201
    receipt = resp.get_json()["result"]
    assert (receipt["accepted"], receipt["reasons"]) == (False, ["not_approved"])
    assert receipt["reason_texts"] == ["无已批准的审批表：拒收，一切后果由退货单位承担。"]


@pytest.mark.parametrize(
    ("received", "reasons"),
    [
        ({}, []),
        ({"sku": "P-200"}, ["sku"]),
        ({"batch_no": "B-OTHER"}, ["batch_no"]),
        ({"quantity": 9}, ["quantity"]),
        ({"quantity": 11, "sku": "X"}, ["sku", "quantity"]),
    ],
)
def test_warehouse_checks_sku_batch_and_quantity_against_the_approved_form(
    app, api, received, reasons
):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    act(api, case["id"], "agent", "submit")
    act(api, case["id"], "supervisor", "approve")
    act(api, case["id"], "director", "approve")
    receipt = _receipt(api, case["id"], **received).get_json()["result"]
    assert (receipt["accepted"], receipt["reasons"]) == (not reasons, reasons)
    listed = api("finance").get(f"/api/v1/returns/{case['id']}/receipts").get_json()["result"]
    assert [r["accepted"] for r in listed] == [not reasons]
    from core.extensions import db
    from core.models import AuditEvent

    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="return_receipt").one()
        assert event.actor == "warehouse" and event.changes["accepted"] == [None, not reasons]


def test_only_the_warehouse_records_receipts(api):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    assert _receipt(api, case["id"], user="agent").status_code == 403
    assert _receipt(api, case["id"], user="agent2").status_code == 404
    bad = api("warehouse").post(f"/api/v1/returns/{case['id']}/receipts", json={"sku": "P-100"})
    assert bad.status_code == 400 and {"batch_no", "quantity"} <= set(bad.get_json()["errors"])


def test_receipts_only_on_open_cases_of_an_enabled_category(api, runner):
    case = proposed(api, liable_party="customer", insists_on_return=True)
    recorded = _receipt(api, case["id"]).get_json()["result"]
    assert recorded["recorded_at"].endswith("+08:00")
    assert (
        runner.invoke(args=["plugins", "disable", "policy_returns", "--line", "L1"]).exit_code == 0
    )
    assert _receipt(api, case["id"]).status_code == 409
