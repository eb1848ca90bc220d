"""Record rules on the screens: lists, pages, forms, pickers and downloads of another line."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import BusinessLine, Customer
from tests.conftest import login
from tests.test_api_cases import counts
from tests.test_evidence import PNG, upload


@pytest.fixture
def l1_case(api):
    case = api("agent").create_case()
    ev = upload(api("agent"), case["id"], PNG).get_json()["result"]
    return case, ev["id"]


def test_foreign_case_pages_are_not_found(app, client, l1_case):
    (case, evidence_id) = l1_case
    login(client, "agent2")
    before = counts(app)
    cid = case["id"]
    assert client.get(f"/cases/{cid}").status_code == 404
    assert client.get(f"/cases/{cid}/edit").status_code == 404
    assert (
        client.post(f"/cases/{cid}/edit", data={"description": "x", "version": "1"}).status_code
        == 404
    )
    assert client.get(f"/cases/{cid}/evidence/{evidence_id}").status_code == 404
    assert client.post(f"/cases/{cid}/action/reject", data={"comment": "x"}).status_code == 404
    assert client.post(f"/cases/{cid}/evidence", data={"kind": "photo"}).status_code == 404
    assert case["number"] not in client.get("/cases/").get_data(as_text=True)
    assert counts(app) == before


def test_own_line_pages_work(client, l1_case):
    (case, evidence_id) = l1_case
    login(client, "finance")
    assert client.get(f"/cases/{case['id']}").status_code == 200
    download = client.get(f"/cases/{case['id']}/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == PNG
    download.close()


def test_intake_offers_only_own_lines_and_their_pickers(app, client):
    login(client, "agent2")
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'value="L2"' in page and 'value="L1"' not in page
    before = counts(app)
    resp = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "business_line": "L1",
            "category": "logistics",
            "customer__name": "X",
            "channel": "phone",
            "description": "x",
        },
    )
    assert resp.status_code == 200
    assert counts(app) == before
    login(client, "agent")
    # The pickers search as one types (core/views/intake.py), in the chosen line only.
    customers = client.get("/cases/new/customers?business_line=L1&q=").get_data(as_text=True)
    assert "上海经销商" in customers and "成都经销商" not in customers
    products = client.get("/cases/new/products?business_line=L1&q=").get_data(as_text=True)
    assert "P-100" in products and "B-200" not in products


def test_customer_screens_follow_the_line_rule(app, client):
    with app.app_context():
        l1 = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        l1_customer = db.session.scalar(
            sa.select(Customer).where(Customer.business_line_id == l1.id)
        )
        l1_id, customer_id = l1.id, l1_customer.id
    login(client, "agent2")
    listing = client.get("/customerview/list/").get_data(as_text=True)
    assert "成都经销商" in listing and "上海经销商" not in listing
    assert client.get(f"/customerview/show/{customer_id}").status_code in (302, 404)
    before = counts(app)
    client.post(
        "/customerview/add",
        data={"business_line": str(l1_id), "name": "越界客户", "kind": "dealer"},
    )
    client.post(
        f"/customerview/edit/{customer_id}",
        data={"business_line": str(l1_id), "name": "改名", "kind": "dealer"},
    )
    assert counts(app) == before
    with app.app_context():
        assert db.session.get(Customer, customer_id).name == "上海经销商"


def test_customer_added_on_screen_is_audited(app, client):
    with app.app_context():
        l2 = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L2"))
    login(client, "agent2")
    resp = client.post(
        "/customerview/add",
        data={
            "business_line": str(l2.id),
            "name": "重庆新客户",
            "kind": "dealer",
            "phone": "13311112222",
        },
    )
    assert resp.status_code == 302
    from core.models import AuditEvent

    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.entity, event.action, event.actor) == ("customer", "create", "agent2")
        assert event.changes["name"] == [None, "重庆新客户"]


def test_stale_edit_on_screen_writes_nothing(app, client, api):
    case = api("agent").create_case(batch_no="OLD")
    api("agent").put(f"/api/v1/case/{case['id']}", json={"batch_no": "NEWER", "version": 1})
    login(client, "agent")
    resp = client.post(
        f"/cases/{case['id']}/edit",
        data={
            "version": "1",
            "customer_id": str(case["customer"]["id"]),
            "channel": "phone",
            "description": "改描述",
            "batch_no": "STALE",
        },
    )
    assert resp.status_code == 200
    assert "客诉已被他人修改" in resp.get_data(as_text=True)
    current = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert (current["batch_no"], current["version"]) == ("NEWER", 2)


def test_register_menu_only_for_roles_that_register(client):
    login(client, "finance")
    assert 'href="/cases/new"' not in client.get("/cases/").get_data(as_text=True)
    login(client, "agent")
    assert 'href="/cases/new"' in client.get("/cases/").get_data(as_text=True)


def test_language_follows_the_business_line_until_chosen(app, client):
    from core.services import records
    from core.services.access import SYSTEM

    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L2"))
        line.locale = "en"
        records.save(SYSTEM, line, "business_line")
    login(client, "agent2")
    assert "Register a complaint" in client.get("/cases/new").get_data(as_text=True)
    client.get("/lang/zh_CN")
    assert "登记客诉" in client.get("/cases/new").get_data(as_text=True)
    login(client, "agent")
    assert "登记客诉" in client.get("/cases/new").get_data(as_text=True)


def test_timeline_shows_labels_and_local_times(client, api):
    from tests.test_evidence import PNG, upload

    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    upload(api("agent"), case["id"], PNG)
    api("agent").action(case["id"], "accept")
    api("supervisor").action(case["id"], "assign", department="QA")
    login(client, "agent")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') : page.index('id="kesu-sla"')]
    assert "上传了照片“photo.png”" in timeline
    assert "品保首次回复期限：20" in timeline
    assert "+00:00" not in timeline and "qa_first_reply" not in timeline


@pytest.mark.parametrize(
    ("username", "offered"),
    [("agent", True), ("sales", True), ("finance", False), ("qa", False), ("auditor", False)],
)
def test_the_home_page_offers_registering_only_to_who_may_register(app, username, offered):
    from tests.conftest import signed_in

    client = signed_in(app, username)
    html = client.get("/").get_data(as_text=True)
    assert ('id="kesu-home-register"' in html) is offered
    intake = client.get("/cases/new")
    assert (intake.status_code == 200) is offered


def test_error_pages_are_inside_the_layout_and_in_chinese(app):
    from tests.conftest import signed_in

    client = signed_in(app, "finance")
    missing = client.get("/cases/999999")
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert "页面不存在" in html and "未找到。" in html
    assert 'class="navbar' in html  # the application's menu, not a bare page
    assert "Not Found" not in html and "404 Not Found" not in html
    nowhere = client.get("/no/such/page")
    assert nowhere.status_code == 404 and "页面不存在" in nowhere.get_data(as_text=True)
    # the API keeps answering JSON
    api = client.get("/api/v1/case/999999")
    assert api.status_code in (401, 404) and api.is_json
