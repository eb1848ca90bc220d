"""The registration form: registration-stage fields only, labelled errors, customer search and
creation, the product and batch pickers and the live check (acceptance issues, duplicates)."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Customer
from tests.conftest import PASSWORD, signed_in

QA_LABELS = ("处理方式", "原因分析", "责任单位", "工程变更编号")
# The root cause is the case's own field (one for every category), asked at investigation too.
QA_FIELDS = ("remedy", "responsible_unit", "engineering_change_no")

# Goods received the day before: within the reporting window whatever the date.
RECEIVED = (dt.datetime.now() - dt.timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")


def _ids(html: str, fieldset_of: str) -> set[str]:
    """The field ids inside the template (or live fieldset) of one category."""
    start = html.index(f'data-category="{fieldset_of}"')
    end = html.index("</fieldset>", start)
    return set(re.findall(r'id="(details__\w+)"', html[start:end]))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_intake_offers_only_registration_fields_per_category(app):
    client = signed_in(app, "agent")
    html = client.get("/cases/new?business_line=L1&category=logistics").get_data(as_text=True)
    # The chosen category's fieldset is live; the others wait as templates the script swaps in.
    assert html.count('class="kesu-plugin-fields" data-category="logistics"') == 1
    assert '<template class="kesu-category-template" data-category="product_quality">' in html
    assert '<template class="kesu-category-template" data-category="logistics">' not in html
    quality = _ids(html, "product_quality")
    assert {"details__problem", "details__affected_quantity", "details__defect"} <= quality
    assert not quality & {f"details__{name}" for name in QA_FIELDS}
    for label in QA_LABELS:
        assert label not in html, label
    chosen = client.get("/cases/new?business_line=L1&category=product_quality")
    assert "details__root_cause" not in chosen.get_data(as_text=True)


def test_investigation_fields_stay_on_the_edit_page_and_the_api(app, api):
    case = api("agent").create_case(
        category="product_quality",
        details={"problem": "quality_defect", "remedy": "explain", "responsible_unit": "二车间"},
    )
    assert case["details"]["responsible_unit"] == "二车间"
    client = signed_in(app, "agent")
    html = client.get(f"/cases/{case['id']}/edit").get_data(as_text=True)
    for name in QA_FIELDS:
        assert f'id="details__{name}"' in html, name


def test_registration_saves_only_the_chosen_categorys_fields(app, api):
    client = signed_in(app, "agent")
    resp = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "business_line": "L1",
            "category": "product_quality",  # switched on the page: the form's value wins
            "customer__name": "上海经销商",
            "channel": "phone",
            "description": "桶内有颗粒",
            "details__problem": "quality_defect",
            "details__root_cause": "not asked at registration",
            "details__delay_days": "3",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    case = api("agent").get("/api/v1/case/").get_json()["result"][0]
    assert case["category"] == "product_quality"
    assert case["details"]["problem"] == "quality_defect"
    assert "root_cause" not in case["details"] and "delay_days" not in case["details"]


def test_empty_submit_names_every_field_by_its_label(app):
    client = signed_in(app, "agent")
    url = "/cases/new?business_line=L1&category=logistics"
    before = _count(app, AuditEvent)
    html = client.post(url, data={"submit_case": "1", "category": "logistics"}).get_data(
        as_text=True
    )
    summary = html[html.index('id="kesu-form-errors"') :]
    summary = summary[: summary.index("</div>")]
    assert "投诉渠道：请选择一个值" in summary
    assert "问题描述：此项必填。" in summary
    assert "投诉单位或个人：此项必填。" in summary
    assert "物流问题类型：请选择一个值" in summary
    assert not re.search(r"\b(channel|description|customer|problem|details)\b", summary)
    assert _count(app, AuditEvent) == before

    client.get("/lang/en")
    html = client.post(url, data={"submit_case": "1", "category": "logistics"}).get_data(
        as_text=True
    )
    summary = html[html.index('id="kesu-form-errors"') :]
    summary = summary[: summary.index("</div>")]
    assert "Channel: choose a value" in summary
    assert "Problem description: This field is required." in summary
    assert "channel" not in summary


def test_submit_without_a_category_asks_for_one(app):
    client = signed_in(app, "agent")
    html = client.post(
        "/cases/new?business_line=L1",
        data={"submit_case": "1", "category": "", "channel": "phone"},
    ).get_data(as_text=True)
    assert "类别：请选择一个值" in html


def _role_without_contact(app) -> None:
    """A registering role that may not see contact details (masked in the search)."""
    from core.services.access import SYSTEM
    from core.services.setup import create_user

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role("Intake clerk")
        sm.add_permission_role(role, sm.find_permission_view_menu("can_create", "Case"))
        sm.add_permission_role(role, sm.find_permission_view_menu("can_read", "Case"))
        create_user(
            SYSTEM, username="clerk", password=PASSWORD, roles=["Intake clerk"], lines=["L1"]
        )
        db.session.commit()


def test_customer_search_sees_only_own_lines_and_masks_contact(app):
    agent = signed_in(app, "agent")
    found = agent.get("/cases/new/customers?business_line=L1&q=经销").get_json()["result"]
    assert [c["name"] for c in found] == ["上海经销商"]  # not L2's 成都经销商
    assert found[0]["phone"] == "13812345678"  # the agent may view contacts
    by_phone = agent.get("/cases/new/customers?business_line=L1&q=1381").get_json()["result"]
    assert [c["name"] for c in by_phone] == ["上海经销商"]
    assert agent.get("/cases/new/customers?business_line=L1&q=%25").get_json()["result"] == []
    foreign = agent.get("/cases/new/customers?business_line=L2&q=经销")
    assert foreign.status_code == 403 and "成都" not in foreign.get_data(as_text=True)

    _role_without_contact(app)
    clerk = signed_in(app, "clerk")
    found = clerk.get("/cases/new/customers?business_line=L1&q=上海").get_json()["result"]
    assert found[0]["phone"] == "138****5678"
    assert found[0]["email"] == "z***@example.com"


def test_new_customer_from_the_form_then_registered_by_id(app, api):
    client = signed_in(app, "agent")
    resp = client.post(
        "/cases/new/customers",
        json={"business_line": "L1", "name": "杭州门店", "phone": "13700001111", "kind": "dealer"},
    )
    assert resp.status_code == 201, resp.get_json()
    customer = resp.get_json()["result"]
    assert customer["name"] == "杭州门店"
    again = client.post("/cases/new/customers", json={"business_line": "L1", "name": "杭州门店"})
    assert again.status_code == 409
    bad = client.post("/cases/new/customers", json={"business_line": "L1", "phone": "abc"})
    assert bad.status_code == 400
    assert set(bad.get_json()["errors"]) == {"customer.name", "customer.phone"}
    assert bad.get_json()["errors"]["customer.phone"] == ["电话：电话号码格式不正确。"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Customer.name == "杭州门店")) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    AuditEvent.entity == "customer", AuditEvent.entity_id == customer["id"]
                )
            )
            == 1
        )

    resp = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "category": "logistics",
            "customer_id": str(customer["id"]),
            "channel": "phone",
            "description": "外箱破损",
            "details__problem": "delay",
        },
    )
    assert resp.status_code == 302
    case = api("agent").get("/api/v1/case/").get_json()["result"][0]
    assert case["customer"]["id"] == customer["id"]


def test_a_customer_of_another_line_cannot_be_picked(app, api):
    with app.app_context():
        other = db.session.scalar(sa.select(Customer.id).where(Customer.name == "成都经销商"))
    client = signed_in(app, "agent")
    html = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "category": "logistics",
            "customer_id": str(other),
            "channel": "phone",
            "description": "外箱破损",
            "details__problem": "delay",
        },
    ).get_data(as_text=True)
    assert "未知客户" in html
    assert api("agent").get("/api/v1/case/").get_json()["count"] == 0
    batches = client.get(f"/cases/new/batches?business_line=L1&customer_id={other}")
    assert batches.status_code == 400


def test_product_and_batch_pickers(app, api):
    client = signed_in(app, "agent")
    found = client.get("/cases/new/products?business_line=L1&q=乳胶").get_json()["result"]
    assert [p["code"] for p in found] == ["P-100"]
    assert client.get("/cases/new/products?business_line=L1&q=矿泉").get_json()["result"] == []
    case = api("agent").create_case(batch_no="B-77")
    cid = case["customer"]["id"]
    batches = client.get(f"/cases/new/batches?business_line=L1&customer_id={cid}").get_json()
    assert batches["result"] == ["B-77"]


def _draft(**overrides):
    body = {
        "business_line": "L1",
        "category": "product_quality",
        "channel": "phone",
        "description": "到货短少",
        "batch_no": "B-1",
        "goods_received_at": RECEIVED,
        "details": {"problem": "short_shipment", "affected_quantity": 3},
        "evidence": [],
    }
    body.update(overrides)
    return body


def test_live_check_reports_missing_evidence_until_a_photo_is_attached(app):
    client = signed_in(app, "agent")
    before = _count(app, AuditEvent)
    issues = client.post("/cases/new/check", json=_draft()).get_json()["issues"]
    assert [(i["code"], i["field"]) for i in issues] == [("missing_evidence", "photo")]
    assert re.search(r"[\u4e00-\u9fff]", issues[0]["message"])
    assert client.post("/cases/new/check", json=_draft(evidence=["photo"])).get_json() == {
        "issues": [],
        "duplicates": [],
    }
    missing_quantity = _draft(evidence=["photo"], details={"problem": "short_shipment"})
    issues = client.post("/cases/new/check", json=missing_quantity).get_json()["issues"]
    assert [i["field"] for i in issues] == ["quantity"]
    client.get("/lang/en")
    issues = client.post("/cases/new/check", json=_draft()).get_json()["issues"]
    assert not re.search(r"[\u4e00-\u9fff]", issues[0]["message"])
    assert _count(app, AuditEvent) == before  # the check writes nothing


def test_live_check_refuses_another_line_and_bad_bodies(app):
    client = signed_in(app, "agent")
    assert client.post("/cases/new/check", json=_draft(business_line="L2")).status_code == 403
    assert client.post("/cases/new/check", json=_draft(category="nope")).status_code == 400
    assert client.post("/cases/new/check", json=[1]).status_code == 400
    assert client.post("/cases/new/check", data="x").status_code == 400
    # Wrong values are taken as not given yet, never a 500.
    odd = _draft(channel=5, batch_no=["x"], goods_received_at="soon", details={"problem": 7})
    assert client.post("/cases/new/check", json=odd).status_code == 200


def test_duplicate_warning_for_an_open_case_of_the_same_customer_and_batch(app, api):
    open_case = api("agent").create_case(batch_no="B-9")
    closed = api("agent").create_case(batch_no="B-CLOSED")
    assert api("agent").action(closed["id"], "reject", comment="重复").status_code in (200, 201)
    client = signed_in(app, "agent")
    found = client.post(
        "/cases/new/check", json=_draft(customer_name="上海经销商", batch_no="B-9")
    ).get_json()["duplicates"]
    assert [(d["id"], d["number"], d["url"]) for d in found] == [
        (open_case["id"], open_case["number"], f"/cases/{open_case['id']}")
    ]
    cid = open_case["customer"]["id"]
    by_id = client.post("/cases/new/check", json=_draft(customer_id=cid, batch_no="B-9"))
    assert [d["id"] for d in by_id.get_json()["duplicates"]] == [open_case["id"]]
    for draft in (
        _draft(customer_name="上海经销商", batch_no="B-CLOSED"),  # that case is closed
        _draft(customer_name="杭州门店", batch_no="B-9"),  # another customer
        _draft(customer_name="上海经销商", batch_no="B-10"),  # another batch
    ):
        assert client.post("/cases/new/check", json=draft).get_json()["duplicates"] == []
    # Saving is still allowed.
    resp = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "category": "logistics",
            "customer_id": str(cid),
            "channel": "phone",
            "batch_no": "B-9",
            "description": "同批次又一次",
            "details__problem": "delay",
        },
    )
    assert resp.status_code == 302
