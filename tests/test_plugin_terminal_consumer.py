"""terminal_consumer (终端客户投诉) through the REST API."""

from __future__ import annotations

import pytest

from tests.plugin_helpers import act, add_evidence, codes, read, settle, to_investigating


def consumer_case(api, *, customer=None, photo=True, **overrides):
    body = {
        "category": "terminal_consumer",
        "quantity_purchased": 2,
        "claim_amount": "1360.00",
        "customer": customer or {"name": "王女士", "kind": "consumer", "phone": "13600001111"},
        "details": {"amount_paid": "1360.00"},
    }
    body.update(overrides)
    case = api("agent").create_case(**body)
    if photo:
        add_evidence(api, case["id"], "photo")
    return read(api, case["id"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": {"name": "匿名消费者", "kind": "consumer"}}, "contact"),
        ({"batch_no": None}, "batch_no"),
        ({"photo": False}, "photo"),
        ({"quantity_purchased": None}, "quantity"),
        ({"details": {}}, "amount_paid"),
    ],
)
def test_each_required_item(api, change, field):
    case = consumer_case(api, **change)
    assert codes(case) == [("missing_evidence", field)]


def test_contact_person_without_phone_is_enough(api):
    case = consumer_case(api, customer={"name": "李先生", "kind": "consumer", "contact": "李先生"})
    assert codes(case) == []


def _decided(api, outcome, **details):
    case = consumer_case(api, details={"amount_paid": "1360.00", "outcome": outcome, **details})
    to_investigating(api, case["id"])
    return case


def test_genuine_complaint_settles_with_leadership_approval(api):
    case = _decided(api, "genuine")
    cid = case["id"]
    case = act(api, cid, "qa", "propose", root_cause="气味超标")
    assert [(c["kind"], c["amount"]) for c in case["compensation"]] == [("refund", "1360.00")]
    case = act(api, cid, "agent", "submit")
    assert [a["step"] for a in case["approvals"]] == ["cs_supervisor", "leadership"]
    act(api, cid, "supervisor", "approve")
    act(api, cid, "director", "approve", status=403)
    act(api, cid, "boss", "approve")
    # paid only after signing and withdrawal
    refused = act(api, cid, "sales", "execute", status=422)
    assert {p["code"] for p in refused["problems"]} == {
        "settlement_signed_missing",
        "complaint_withdrawn_missing",
    }
    version = read(api, cid)["version"]
    api("agent").put(
        f"/api/v1/case/{cid}", json={"details": {"settlement_signed": True}, "version": version}
    )
    assert (
        act(api, cid, "sales", "execute", status=422)["problems"][0]["code"]
        == "complaint_withdrawn_missing"
    )
    version = read(api, cid)["version"]
    api("agent").put(
        f"/api/v1/case/{cid}", json={"details": {"complaint_withdrawn": True}, "version": version}
    )
    assert act(api, cid, "sales", "execute", status=422)["problems"][0]["code"] == "lines_not_done"
    settle(api, cid)
    act(api, cid, "sales", "execute")
    assert act(api, cid, "agent", "confirm")["status"] == "closed"


def test_malicious_complaint_gets_no_compensation_and_closes_on_legal_action(api):
    case = _decided(api, "malicious", apology_statement_received=False)
    cid = case["id"]
    case = act(api, cid, "qa", "propose", root_cause="检测合格，投诉人索要高额赔偿")
    assert case["compensation"] == [] and "恶意投诉" in case["proposal_note"]
    # the consumer claimed 1360 yuan: paying nothing is confirmed with its reason
    submitted = act(api, cid, "agent", "submit", confirm_empty=True, comment="恶意投诉，不予赔偿")
    assert submitted["status"] == "confirming"
    assert (
        act(api, cid, "agent", "confirm", status=422)["problems"][0]["code"]
        == "legal_action_missing"
    )
    version = read(api, cid)["version"]
    api("agent").put(
        f"/api/v1/case/{cid}",
        json={
            "details": {
                "legal_action": "已委托律师起诉，要求出具《道歉声明》并赔偿损失 5000 元",
                "apology_statement_received": True,
            },
            "version": version,
        },
    )
    closed = act(api, cid, "agent", "confirm")
    assert closed["status"] == "closed" and closed["details"]["apology_statement_received"] is True


def test_outcome_must_be_decided_before_proposing(api):
    case = consumer_case(api)
    to_investigating(api, case["id"])
    assert (
        act(api, case["id"], "qa", "propose", status=422, root_cause="x")["problems"][0]["code"]
        == "missing_outcome"
    )
