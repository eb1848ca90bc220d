"""The case REST API: intake, reading, listing, editing, and bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Case, CaseCounter, Customer
from tests.conftest import case_body


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            "cases": db.session.scalar(sa.select(sa.func.count()).select_from(Case)),
            "customers": db.session.scalar(sa.select(sa.func.count()).select_from(Customer)),
            "events": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
            "counter": db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(CaseCounter.last), 0))
            ),
        }


def test_create_returns_the_case(api):
    resp = api("agent").post("/api/v1/case/", json=case_body(claim_amount="1234.50"))
    assert resp.status_code == 201
    body = resp.get_json()
    case = body["result"]
    assert body["id"] == case["id"]
    assert case["number"].startswith("KS-") and len(case["number"]) == len("KS-202611-00001")
    assert case["status"] == "new"
    assert case["business_line"] == "L1"
    assert case["category"] == "logistics"
    assert case["customer"]["name"] == "上海经销商"
    assert case["product"]["code"] == "P-100"
    assert case["claim_amount"] == "1234.50"
    assert case["version"] == 1
    assert case["allowed_actions"] == ["accept", "reject", "hold"]
    for key in (
        "id number business_line category channel status priority is_major major_reasons "
        "acceptance_issues customer product batch_no quantity_purchased purchase_date "
        "goods_received_at received_at description demand claim_amount details deadlines "
        "compensation approvals allowed_actions version created_at updated_at"
    ).split():
        assert key in case, key


def test_customer_is_created_in_the_line_when_new(app, api):
    before = counts(app)
    case = api("agent").create_case(
        customer={"name": "杭州新客户", "kind": "key_account", "phone": "0571-88886666"}
    )
    assert case["customer"]["kind"] == "key_account"
    after = counts(app)
    assert after["customers"] == before["customers"] + 1
    # a second complaint of the same customer finds it instead of creating another
    api("agent").create_case(customer={"name": "杭州新客户"})
    assert counts(app)["customers"] == after["customers"]


def test_customer_by_id(api):
    case = api("agent").create_case()
    again = api("agent").create_case(customer=None, customer_id=case["customer"]["id"])
    assert again["customer"]["id"] == case["customer"]["id"]


def test_timestamp_without_offset_is_read_in_the_line_timezone(api, app):
    case = api("agent").create_case(
        received_at="2026-11-20T09:00:00", goods_received_at="2026-11-19T23:30:00+00:00"
    )
    assert case["received_at"] == "2026-11-20T09:00:00+08:00"
    # stored in UTC, shown in Asia/Shanghai
    assert case["goods_received_at"] == "2026-11-20T07:30:00+08:00"
    with app.app_context():
        stored = db.session.get(Case, case["id"])
        assert stored.received_at.isoformat() == "2026-11-20T01:00:00+00:00"


def test_received_at_defaults_to_now(api):
    case = api("agent").create_case()
    assert case["received_at"].endswith("+08:00")


def _no_db_text(body: dict) -> None:
    text = str(body).lower()
    for leak in ("sqlite", "integrityerror", "select ", "insert ", "constraint", "traceback"):
        assert leak not in text, body


BAD_INPUTS = [
    ("business_line unknown", {"business_line": "NOPE"}, 400, "business_line"),
    ("business_line missing", {"business_line": None}, 400, "business_line"),
    ("business_line foreign", {"business_line": "L2"}, 403, "business_line"),
    ("category unknown", {"category": "weather"}, 400, "category"),
    ("category missing", {"category": None}, 400, "category"),
    ("category not a category", {"category": "major_incident"}, 400, "category"),
    ("channel unknown", {"channel": "pigeon"}, 400, "channel"),
    ("description missing", {"description": None}, 400, "description"),
    ("description blank", {"description": "   "}, 400, "description"),
    ("quantity as text", {"quantity_purchased": "ten"}, 400, "quantity_purchased"),
    ("quantity as bool", {"quantity_purchased": True}, 400, "quantity_purchased"),
    ("quantity negative", {"quantity_purchased": -1}, 400, "quantity_purchased"),
    ("claim not a number", {"claim_amount": "abc"}, 400, "claim_amount"),
    ("claim three decimals", {"claim_amount": "1.234"}, 400, "claim_amount"),
    ("claim infinite", {"claim_amount": "Infinity"}, 400, "claim_amount"),
    ("purchase date bad", {"purchase_date": "2026-13-01"}, 400, "purchase_date"),
    ("received_at bad", {"received_at": "yesterday"}, 400, "received_at"),
    ("received_at in the future", {"received_at": "2099-01-01T00:00:00+08:00"}, 400, "received_at"),
    ("unknown field", {"colour": "red"}, 400, "colour"),
    ("customer missing", {"customer": None}, 400, "customer"),
    ("customer not an object", {"customer": "张三"}, 400, "customer"),
    ("customer without name", {"customer": {"kind": "dealer"}}, 400, "customer.name"),
    ("customer kind bad", {"customer": {"name": "X", "kind": "alien"}}, 400, "customer.kind"),
    ("customer phone bad", {"customer": {"name": "X", "phone": "call me"}}, 400, "customer.phone"),
    ("customer email bad", {"customer": {"name": "X", "email": "nope"}}, 400, "customer.email"),
    ("customer and id", {"customer_id": 1}, 400, "customer"),
    ("product unknown", {"product": "NOPE-1"}, 400, "product"),
    ("details not an object", {"details": [1, 2]}, 400, "details"),
    ("details unknown key", {"details": {"colour": "red"}}, 400, "details.colour"),
]


@pytest.mark.parametrize(
    ("label", "change", "status", "field"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_names_the_field_and_writes_nothing(app, api, label, change, status, field):
    before = counts(app)
    resp = api("agent").post("/api/v1/case/", json=case_body(**change))
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert field in body["errors"], body
    assert body["message"]
    _no_db_text(body)
    assert counts(app) == before


def test_customer_of_another_line_is_unknown(app, api):
    with app.app_context():
        foreign = db.session.scalar(sa.select(Customer).where(Customer.name == "成都经销商"))
    resp = api("agent").post("/api/v1/case/", json=case_body(customer=None, customer_id=foreign.id))
    assert resp.status_code == 400
    assert "customer_id" in resp.get_json()["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("a=b", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_body_is_a_400_naming_the_body(app, api, data, content_type):
    before = counts(app)
    agent = api("agent")
    resp = agent.client.post(
        "/api/v1/case/", data=data, content_type=content_type, headers=agent.headers
    )
    assert resp.status_code == 400
    assert "body" in resp.get_json()["errors"]
    assert counts(app) == before


def test_json_that_is_not_an_object(app, api):
    resp = api("agent").post("/api/v1/case/", json=["a"])
    assert resp.status_code == 400
    assert "body" in resp.get_json()["errors"]


def test_failed_intake_leaves_no_gap_in_numbers(api):
    first = api("agent").create_case()
    assert api("agent").post("/api/v1/case/", json=case_body(product="NOPE")).status_code == 400
    second = api("agent").create_case()
    n1, n2 = int(first["number"][-5:]), int(second["number"][-5:])
    assert n2 == n1 + 1


def test_without_token_is_401(client):
    resp = client.post("/api/v1/case/", json=case_body())
    assert resp.status_code == 401


def test_role_without_create_is_403(app, api):
    before = counts(app)
    resp = api("finance").post("/api/v1/case/", json=case_body())
    assert resp.status_code == 403
    assert counts(app) == before


# -- reading and listing ---------------------------------------------------------------------


def test_list_is_paged_and_filtered(api):
    agent = api("agent")
    made = [agent.create_case(batch_no=f"LIST-{i}") for i in range(3)]
    resp = agent.get("/api/v1/case/?page_size=2")
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["count"] == 3 and not body["count_capped"] and len(body["result"]) == 2
    page2 = agent.get(f"/api/v1/case/?page_size=2&after={body['next']}").get_json()
    assert len(page2["result"]) == 1 and page2["next"] is None
    ids = [c["id"] for c in body["result"]] + [c["id"] for c in page2["result"]]
    assert ids == sorted(c["id"] for c in made)[::-1]  # newest first, each once
    one = agent.get("/api/v1/case/?q=LIST-1").get_json()
    assert [c["batch_no"] for c in one["result"]] == ["LIST-1"]
    assert agent.get("/api/v1/case/?status=closed").get_json()["count"] == 0
    assert agent.get("/api/v1/case/?category=logistics").get_json()["count"] == 3


# A cursor of the other sort, one that is not base64 JSON, one without a time zone.
OTHER_SORT = "WyJkZWFkbGluZSIsbnVsbCwxXQ"  # ["deadline",null,1]
NAIVE = "WyJyZWNlaXZlZCIsIjIwMjYtMDEtMDFUMDA6MDA6MDAiLDFd"  # ["received","2026-01-01T00:00:00",1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("after=x", "after"),
        ("after=%E2%98%83", "after"),
        (f"after={OTHER_SORT}", "after"),
        (f"after={NAIVE}", "after"),
        ("after=" + "A" * 201, "after"),
    ],
)
def test_bad_paging_is_a_400_naming_the_parameter(api, query, field):
    resp = api("agent").get(f"/api/v1/case/?{query}")
    assert resp.status_code == 400
    assert field in resp.get_json()["errors"]


def test_unknown_case_is_404(api):
    assert api("agent").get("/api/v1/case/999999").status_code == 404


# -- editing -------------------------------------------------------------------------------------


def test_edit_needs_the_current_version(app, api):
    agent = api("agent")
    case = agent.create_case()
    resp = agent.put(
        f"/api/v1/case/{case['id']}", json={"description": "改了", "version": case["version"]}
    )
    assert resp.status_code == 200, resp.get_json()
    edited = resp.get_json()["result"]
    assert edited["description"] == "改了"
    assert edited["version"] == case["version"] + 1

    before = counts(app)
    stale = agent.put(
        f"/api/v1/case/{case['id']}", json={"description": "又改", "version": case["version"]}
    )
    assert stale.status_code == 409
    assert stale.get_json()["current_version"] == edited["version"]
    assert counts(app) == before
    assert agent.get(f"/api/v1/case/{case['id']}").get_json()["result"]["description"] == "改了"


def test_edit_without_version_is_a_400(api):
    case = api("agent").create_case()
    resp = api("agent").put(f"/api/v1/case/{case['id']}", json={"description": "x"})
    assert resp.status_code == 400
    assert "version" in resp.get_json()["errors"]


def test_edit_is_audited_old_to_new(app, api):
    case = api("agent").create_case(batch_no="OLD")
    api("agent").put(f"/api/v1/case/{case['id']}", json={"batch_no": "NEW", "version": 1})
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.case_id == case["id"], AuditEvent.action == "update"
            )
        )
        assert event.changes["batch_no"] == ["OLD", "NEW"]
        assert event.actor == "agent"


def test_edit_with_bad_value_writes_nothing(app, api):
    case = api("agent").create_case()
    before = counts(app)
    resp = api("agent").put(
        f"/api/v1/case/{case['id']}",
        json={"quantity_purchased": "many", "description": "x", "version": 1},
    )
    assert resp.status_code == 400
    assert "quantity_purchased" in resp.get_json()["errors"]
    assert counts(app) == before
    assert api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["version"] == 1


def test_unchanged_edit_keeps_the_version(api):
    case = api("agent").create_case(batch_no="SAME")
    resp = api("agent").put(f"/api/v1/case/{case['id']}", json={"batch_no": "SAME", "version": 1})
    assert resp.status_code == 200
    assert resp.get_json()["result"]["version"] == 1


def test_category_changes_only_while_new(api):
    agent = api("agent")
    case = agent.create_case()
    moved = agent.put(
        f"/api/v1/case/{case['id']}", json={"category": "policy_returns", "version": 1}
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["result"]["category"] == "policy_returns"
    agent.action(case["id"], "accept")
    version = agent.get(f"/api/v1/case/{case['id']}").get_json()["result"]["version"]
    resp = agent.put(
        f"/api/v1/case/{case['id']}", json={"category": "logistics", "version": version}
    )
    assert resp.status_code == 400
    assert "category" in resp.get_json()["errors"]


def test_received_at_cannot_be_cleared_or_moved_into_the_future(app, api):
    case = api("agent").create_case()
    before = counts(app)
    for value in (None, "2099-01-01T08:00:00"):
        resp = api("agent").put(
            f"/api/v1/case/{case['id']}", json={"received_at": value, "version": 1}
        )
        assert resp.status_code == 400, resp.get_json()
        assert "received_at" in resp.get_json()["errors"]
    assert counts(app) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_no": "B" * 65}, "batch_no"),
        ({"customer": {"name": "X", "contact": "联" * 101}}, "customer.contact"),
        ({"customer": {"name": "X", "phone": "1" * 41}}, "customer.phone"),
        ({"customer": {"name": "名" * 201}}, "customer.name"),
    ],
)
def test_text_longer_than_stored_is_a_400(app, api, change, field):
    before = counts(app)
    resp = api("agent").post("/api/v1/case/", json=case_body(**change))
    assert resp.status_code == 400
    assert field in resp.get_json()["errors"]
    assert counts(app) == before


def test_major_filter_both_ways(api):
    api("agent").create_case()
    assert api("agent").get("/api/v1/case/?is_major=false").get_json()["count"] == 1
    assert api("agent").get("/api/v1/case/?is_major=true").get_json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "agent", "password": "correct-horse-42"}, 200, None),
        ({"username": "agent", "password": "wrong"}, 401, None),
        ({"username": "agent"}, 400, "password"),
        ({"username": "agent", "password": "x", "provider": "ldap"}, 400, "provider"),
        (["agent"], 400, "body"),
    ],
)
def test_login(client, body, status, field):
    resp = client.post("/api/v1/security/login", json=body)
    assert resp.status_code == status
    data = resp.get_json()
    if status == 200:
        assert data["access_token"]
    else:
        assert data["message"]
        if field:
            assert field in data["errors"]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer a.b.c", "Basic xyz"])
def test_bad_token_is_401_in_kesus_error_shape(client, header):
    resp = client.get("/api/v1/case/", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.get_json()["message"]
