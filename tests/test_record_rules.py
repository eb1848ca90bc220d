"""Record rules (a user sees and changes only their business lines' cases) and contact masking."""

from __future__ import annotations

import pytest

from tests.conftest import case_body
from tests.test_api_cases import counts
from tests.test_evidence import PNG, upload


@pytest.fixture
def l1_case(api):
    case = api("agent").create_case(
        customer={"name": "上海经销商", "phone": "13812345678", "email": "zhangsan@example.com"}
    )
    ev = upload(api("agent"), case["id"], PNG).get_json()["result"]
    return {**case, "evidence_url": ev["url"]}


def test_foreign_case_is_invisible_everywhere_in_the_api(app, api, l1_case):
    other = api("agent2")
    cid = l1_case["id"]
    assert other.get(f"/api/v1/case/{cid}").status_code == 404
    assert other.get("/api/v1/case/").get_json()["count"] == 0
    before = counts(app)
    assert (
        other.put(f"/api/v1/case/{cid}", json={"description": "x", "version": 1}).status_code == 404
    )
    assert other.action(cid, "reject", comment="x").status_code == 404
    assert upload(other, cid, PNG).status_code == 404
    assert other.get(l1_case["evidence_url"]).status_code == 404
    assert counts(app) == before


def test_own_line_is_visible(api, l1_case):
    assert api("supervisor").get(f"/api/v1/case/{l1_case['id']}").status_code == 200
    assert api("supervisor").get("/api/v1/case/").get_json()["count"] == 1


def test_admin_sees_every_line(api, l1_case):
    api("agent2").create_case(business_line="L2", product="B-200", customer={"name": "成都经销商"})
    listed = api("admin").get("/api/v1/case/").get_json()
    assert {c["business_line"] for c in listed["result"]} == {"L1", "L2"}


def test_an_edit_cannot_move_a_case_into_a_foreign_line(app, api, l1_case):
    before = counts(app)
    resp = api("agent").put(
        f"/api/v1/case/{l1_case['id']}",
        json={
            "business_line": "L2",
            "customer": {"name": "成都经销商"},
            "product": "B-200",
            "version": 1,
        },
    )
    assert resp.status_code == 403
    assert "business_line" in resp.get_json()["errors"]
    assert counts(app) == before
    assert (
        api("agent").get(f"/api/v1/case/{l1_case['id']}").get_json()["result"]["business_line"]
        == "L1"
    )


def test_moving_to_another_own_line_needs_customer_and_product_there(api, l1_case):
    admin = api("admin")
    resp = admin.put(f"/api/v1/case/{l1_case['id']}", json={"business_line": "L2", "version": 1})
    assert resp.status_code == 400
    assert {"customer", "product"} <= set(resp.get_json()["errors"])
    resp = admin.put(
        f"/api/v1/case/{l1_case['id']}",
        json={
            "business_line": "L2",
            "customer": {"name": "成都经销商"},
            "product": "B-200",
            "version": 1,
        },
    )
    assert resp.status_code == 200, resp.get_json()
    moved = resp.get_json()["result"]
    assert moved["business_line"] == "L2" and moved["customer"]["name"] == "成都经销商"


def test_create_in_a_foreign_line_is_refused(app, api):
    before = counts(app)
    resp = api("agent2").post(
        "/api/v1/case/",
        json={
            "business_line": "L1",
            "category": "logistics",
            "channel": "phone",
            "customer": {"name": "X"},
            "description": "x",
        },
    )
    assert resp.status_code == 403
    assert counts(app) == before


CONTACT_ROLES = {
    "agent": True,
    "supervisor": True,
    "sales": True,
    "admin": True,
    "finance": False,
    "qa": False,
    "dept": False,
    "auditor": False,
    "manager": False,
}


@pytest.mark.parametrize(("username", "unmasked"), sorted(CONTACT_ROLES.items()))
def test_phone_and_email_are_masked_without_view_contact(api, l1_case, username, unmasked):
    reader = api(username)
    one = reader.get(f"/api/v1/case/{l1_case['id']}").get_json()["result"]["customer"]
    listed = reader.get("/api/v1/case/").get_json()["result"][0]["customer"]
    for customer in (one, listed):
        if unmasked:
            assert customer["phone"] == "13812345678"
            assert customer["email"] == "zhangsan@example.com"
        else:
            assert customer["phone"] == "138****5678"
            assert customer["email"] == "z***@example.com"


def test_masking_helpers():
    from core.services.present import mask_email, mask_phone

    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0571-88886666") == "057****6666"
    assert mask_phone("12345") == "***45"
    assert mask_phone(None) is None
    assert mask_email("a@b.cn") == "a***@b.cn"
    assert mask_email(None) is None


def test_evidence_download_follows_the_case(api, l1_case):
    resp = api("finance").get(l1_case["evidence_url"])
    assert resp.status_code == 200
    assert resp.data == PNG
    resp.close()


def test_sales_registers_for_an_existing_customer_but_never_edits_it(app, api):
    """Sales may register complaints (and new customers) but has no customer edit right: intake
    must not become a way round it."""
    sales = api("sales")
    same = {"name": "上海经销商", "kind": "dealer", "phone": "13812345678"}
    assert sales.post("/api/v1/case/", json=case_body(customer=same)).status_code == 201
    before = counts(app)
    for change in ({"phone": "13999999999"}, {"email": "x@example.com"}, {"kind": "key_account"}):
        resp = sales.post("/api/v1/case/", json=case_body(customer={**same, **change}))
        field = f"customer.{next(iter(change))}"
        assert resp.status_code == 403 and field in resp.get_json()["errors"], resp.get_json()
    assert counts(app) == before
    customer = api("agent").get("/api/v1/customer/1").get_json()["result"]
    assert customer["phone"] == "13812345678" and customer["email"] == "zhangsan@example.com"
    # customer service may correct the details at intake
    resp = api("agent").post(
        "/api/v1/case/", json=case_body(customer={**same, "phone": "13999999999"})
    )
    assert resp.status_code == 201
