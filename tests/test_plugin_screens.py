"""The plugins' screens in headless Chromium, in zh_CN: their fields, panels and outcomes."""

from __future__ import annotations

import datetime as dt
import re

from tests.conftest import Api
from tests.test_evidence import PNG, upload
from tests.test_screens import ALLOWED_LATIN


def api_of(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def untranslated(page) -> set[str]:
    text = page.inner_text("div.container")
    words = set(re.findall(r"[A-Za-z][A-Za-z]{2,}", text)) - ALLOWED_LATIN
    return {w for w in words if not re.fullmatch(r"[a-z_]+|[A-Z]{1,4}\d*", w)}


def dl(page, selector) -> dict[str, str]:
    """A definition list as {label: value}."""
    pairs = page.eval_on_selector_all(
        f"{selector} dt",
        "els => els.map(e => [e.textContent.trim(), e.nextElementSibling.textContent.trim()])",
    )
    return dict(pairs)


def test_logistics_case_page_in_chinese(screen, live_app):
    api = api_of(live_app)
    case = api("agent").create_case(
        category="logistics",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-21T08:00:00",
        details={
            "problem": "transit_damage",
            "affected_quantity": 6,
            "carrier": "顺丰物流",
            "carrier_negotiation": "failed",
            "damage_severity": "severe",
        },
    )
    s = screen.login("agent")
    s.goto(f"/cases/{case['id']}")
    page = s.page
    values = dl(page, ".kesu-plugin-values")
    assert values["物流问题类型"] == "运输残损"
    assert values["与承运商协商结果"] == "承运商拒绝赔偿"
    assert values["残损程度"] == "严重"
    issues = page.inner_text("#kesu-acceptance-issues")
    assert "残损或短缺未在收货当天提出，视为货物完好验收。" in issues
    assert "请上传承运商送货单" in issues
    assert untranslated(page) == set()


def test_intake_shows_the_quality_fields_and_the_lines_defects(screen):
    s = screen.login("agent")
    s.goto("/cases/new?business_line=L1&category=product_quality")
    legend = s.page.inner_text("fieldset.kesu-plugin-fields legend")
    assert legend == "产品质量"
    text = s.page.inner_text("fieldset.kesu-plugin-fields")
    for label in (
        "质量问题类型",
        "影响数量",
        "缺陷类型",  # the field, not the problem "质量异常"
        "体检费用（元）",
        "媒体介入",
    ):
        assert label in text, label
    for label in ("处理方式", "原因分析", "责任单位", "工程变更编号"):  # QA's, at investigation
        assert label not in text, label
    options = s.page.eval_on_selector_all(
        "#details__defect option", "els => els.map(e => e.textContent.trim())"
    )
    assert "颗粒" in options and "色差" in options
    assert untranslated(s.page) == set()


def test_quality_capa_through_the_panel(screen, live_app):
    api = api_of(live_app)
    case = api("agent").create_case(
        category="product_quality",
        details={
            "problem": "quality_defect",
            "affected_quantity": 3,
            "unit_price": "100.00",
            "remedy": "credit_to_zero",
        },
    )
    api("agent").action(case["id"], "accept")
    api("supervisor").action(case["id"], "assign", department="QA")
    s = screen.login("qa")
    s.goto(f"/cases/{case['id']}")
    page = s.page
    assert "质量分析与纠正措施" in page.inner_text("body")
    assert page.inner_text("#quality-first-reply").count(":") == 1  # a local time is shown
    page.fill("#quality-analysis textarea[name=root_cause]", "研磨筛网破损")
    page.fill("#quality-analysis input[name=responsible_unit]", "生产部")
    page.select_option(
        "#quality-analysis select[name=root_cause_category]", label="生产工艺 / 设备故障"
    )
    page.click("#quality-analysis button")
    page.wait_for_load_state()
    assert "分析已登记" in page.inner_text(".alert-success")
    page.fill("#quality-add-action input[name=description]", "更换筛网")
    page.fill("#quality-add-action input[name=due_date]", "2026-12-15")
    page.click("#quality-add-action button")
    page.wait_for_load_state()
    assert "更换筛网" in page.inner_text("#quality-actions")
    assert "纠正措施" in page.inner_text("#quality-actions")
    page.click("details[data-action-box=propose] > summary")
    page.click("form[data-action=propose] button")
    page.wait_for_load_state()
    assert page.inner_text(".kesu-status") == "已提出方案"
    assert page.inner_text("#kesu-root-cause-category") == "生产工艺 / 设备故障"
    rows = page.eval_on_selector_all(
        "#compensation select[name^=kind] option:checked",
        "els => els.map(e => e.textContent.trim())",
    )
    assert rows[0] == "冲销"
    assert untranslated(page) == set()


def test_policy_return_receipt_refused_on_screen(screen, live_app):
    api = api_of(live_app)
    case = api("agent").create_case(
        category="policy_returns",
        batch_no="B-RET",
        details={
            "liable_party": "customer",
            "insists_on_return": True,
            "sku": "P-100",
            "return_quantity": 10,
        },
    )
    s = screen.login("warehouse")
    s.goto(f"/cases/{case['id']}")
    page = s.page
    page.fill("#returns-record input[name=sku]", "P-100")
    page.fill("#returns-record input[name=batch_no]", "B-RET")
    page.fill("#returns-record input[name=quantity]", "10")
    page.click("#returns-record button")
    page.wait_for_load_state()
    assert "退货拒收：无已批准的审批表" in page.inner_text(".alert-warning")
    assert "拒收" in page.inner_text("#returns-receipts")
    assert untranslated(page) == set()


def test_consumer_outcome_on_screen(screen, live_app):
    api = api_of(live_app)
    case = api("agent").create_case(
        category="terminal_consumer",
        customer={"name": "王女士", "phone": "13600001111"},
        details={"amount_paid": "99.00", "outcome": "malicious", "legal_action": "已起诉"},
    )
    s = screen.login("supervisor")
    s.goto(f"/cases/{case['id']}")
    values = dl(s.page, ".kesu-plugin-values")
    assert values["调查结论"] == "恶意投诉"
    assert values["购买金额（元）"] == "99.00"
    assert "请上传产品照片。" in s.page.inner_text("#kesu-acceptance-issues")


def test_major_incident_screens_and_alerts(screen, live_app):
    api = api_of(live_app)
    t0 = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)
    cases = [
        api("agent").create_case(
            category="product_quality",
            batch_no="HC-OUT",
            received_at=(t0 + dt.timedelta(days=d)).isoformat(),
            details={"problem": "quality_defect", "affected_quantity": 4},
        )
        for d in (0, 5, 9)
    ]
    s = screen.login("supervisor")
    s.goto(f"/cases/{cases[0]['id']}")
    page = s.page
    assert "同一批次多起投诉" in page.inner_text("#major-reasons")
    page.click("#major-incident-link")
    page.wait_for_load_state()
    assert page.inner_text("#incident-batch") == "HC-OUT"
    assert page.inner_text("#incident-affected") == "12"
    assert [c["number"] for c in cases] == page.eval_on_selector_all(
        "#incident-cases tr[data-case]", "els => els.map(e => e.dataset.case)"
    )
    assert untranslated(page) == set()
    s.goto("/notifications/")
    assert "批次集中投诉" in page.inner_text(".kesu-notifications")
    assert untranslated(page) == set()


def test_inbox_screen(screen, live_app):
    api = api_of(live_app)
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        details={"problem": "short_shipment", "affected_quantity": 2, "unit_price": "10.00"},
    )
    upload(api("agent"), case["id"], PNG)
    api("agent").action(case["id"], "accept")
    api("supervisor").action(case["id"], "assign", department="WH")
    api("qa").action(case["id"], "propose", root_cause="漏装")
    api("agent").action(case["id"], "submit")
    s = screen.login("supervisor")
    s.goto("/inbox/")
    assert case["number"] in s.page.inner_text(".kesu-inbox")
    assert "客服主管" in s.page.inner_text(".kesu-inbox")
    assert untranslated(s.page) == set()
