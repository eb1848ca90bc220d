"""The registration form in Chromium: category fields swapped in place, customer search and a
new customer, the live acceptance check, the duplicate warning and a dropped photo."""

from __future__ import annotations

import base64
import datetime as dt
import re

from tests.test_evidence import PNG
from tests.test_plugin_screens import api_of
from tests.test_screens import assert_offline

QA_LABELS = ("处理方式", "原因分析", "责任单位", "工程变更编号")

# Goods received the day before: within the reporting window whatever the date.
RECEIVED = (dt.datetime.now() - dt.timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")


def _drop_photo(page, name: str = "damage.png") -> None:
    """Drop an image file on the drop zone, as a person dragging it from the desktop."""
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            return transfer;
        }""",
        [base64.b64encode(PNG).decode(), name],
    )
    page.dispatch_event("#kesu-dropzone", "drop", {"dataTransfer": transfer})


def _issues(page) -> list[str]:
    return page.eval_on_selector_all(
        "#kesu-live-issues:not([hidden]) li", "els => els.map(e => e.textContent)"
    )


def test_category_switch_shows_only_its_registration_fields(screen):
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1")
    page.select_option("#choose-category", "product_quality")
    fields = page.inner_text("#kesu-category-fields")
    assert "质量问题类型" in fields and "影响数量" in fields
    for label in QA_LABELS:
        assert label not in page.inner_text("#kesu-case-form"), label
    assert page.input_value("input[name=category]") == "product_quality"
    assert "category=product_quality" in page.url
    page.select_option("#choose-category", "logistics")
    assert page.is_visible("#details__problem")
    assert "质量问题类型" not in page.inner_text("#kesu-category-fields")
    assert page.locator("fieldset.kesu-plugin-fields").count() == 1
    page.select_option("#details__problem", "delay")
    page.select_option("#choose-category", "product_quality")
    page.select_option("#choose-category", "logistics")
    assert page.input_value("#details__problem") == "delay"  # kept while switching
    assert_offline(s)


def test_search_a_customer_or_create_a_new_one(screen, live_app):
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=logistics")
    page.fill("#customer__name", "上海")
    page.wait_for_selector("#kesu-customer-suggest .kesu-suggestion")
    suggestion = page.inner_text("#kesu-customer-suggest .kesu-suggestion")
    assert "上海经销商" in suggestion and "张三" in suggestion
    page.click("#kesu-customer-suggest .kesu-suggestion")
    assert page.input_value("input[name=customer_id]") != ""
    assert "上海经销商" in page.inner_text("#kesu-customer-chosen")
    assert not page.is_visible("#customer__phone")

    page.click("#kesu-customer-clear")
    page.fill("#customer__name", "苏州新客户")
    page.wait_for_selector("#kesu-customer-suggest .kesu-suggestion-new")
    page.click("#kesu-customer-suggest .kesu-suggestion-new")
    page.fill("#customer__phone", "13700002222")
    page.click("#kesu-customer-save")
    page.wait_for_selector("#kesu-customer-chosen:not([hidden])")
    assert "苏州新客户" in page.inner_text("#kesu-customer-chosen")
    new_id = page.input_value("input[name=customer_id]")
    page.select_option("#channel", "phone")
    page.fill("#description", "外箱破损")
    page.select_option("#details__problem", "delay")
    page.click("#kesu-submit")
    page.wait_for_selector("#kesu-case-number")
    api = api_of(live_app)
    case = api("agent").get("/api/v1/case/").get_json()["result"][0]
    assert str(case["customer"]["id"]) == new_id
    assert case["customer"]["name"] == "苏州新客户"


def test_live_issues_and_a_dropped_photo_saved_with_the_case(screen, live_app):
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=product_quality")
    page.fill("#customer__name", "上海经销商")
    page.select_option("#channel", "phone")
    page.fill("#batch_no", "B-31")
    page.fill("#goods_received_at", RECEIVED)
    page.fill("#description", "到货少了 3 桶")
    page.select_option("#details__problem", "short_shipment")
    page.wait_for_selector("#kesu-live-issues:not([hidden]) li")
    issues = _issues(page)
    assert any("照片" in text for text in issues), issues
    assert any("数量" in text for text in issues), issues
    page.fill("#details__affected_quantity", "3")
    page.wait_for_function("() => document.querySelectorAll('#kesu-live-issues li').length === 1")
    _drop_photo(page)
    page.wait_for_selector("#kesu-thumbs img.kesu-thumb-image")
    src = page.get_attribute("#kesu-thumbs img.kesu-thumb-image", "src")
    assert src.startswith("data:image/png")
    assert page.input_value("#kesu-thumbs select") == "photo"
    page.wait_for_selector("#kesu-live", state="hidden")
    assert _issues(page) == []
    page.click("#kesu-submit")
    page.wait_for_selector("#kesu-case-number")
    number = page.inner_text("#kesu-case-number").split()[0]
    api = api_of(live_app)
    listed = api("agent").get("/api/v1/case/").get_json()["result"][0]
    case = api("agent").get(f"/api/v1/case/{listed['id']}").get_json()["result"]
    assert case["number"] == number
    assert [e["filename"] for e in case["evidence"]] == ["damage.png"]
    assert [e["kind"] for e in case["evidence"]] == ["photo"]
    assert case["acceptance_issues"] == []
    assert "damage.png" in page.inner_text("body")


def test_duplicate_warning_links_the_open_case(screen, live_app):
    api = api_of(live_app)
    open_case = api("agent").create_case(batch_no="B-DUP")
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=logistics")
    page.fill("#customer__name", "上海经销商")
    page.fill("#batch_no", "B-DUP")
    page.wait_for_selector("#kesu-duplicates:not([hidden]) a")
    link = page.locator("#kesu-duplicates a")
    assert link.inner_text() == open_case["number"]
    assert link.get_attribute("href") == f"/cases/{open_case['id']}"
    page.fill("#batch_no", "B-OTHER")
    page.wait_for_selector("#kesu-duplicates", state="hidden")


def test_empty_submit_in_the_browser_names_fields_by_label(screen):
    s = screen.login("agent", locale="en")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=logistics")
    page.click("#kesu-submit")
    page.wait_for_selector("#kesu-form-errors")
    text = page.inner_text("#kesu-form-errors")
    assert "Channel: choose a value" in text
    assert not re.search(r"\bchannel\b", text)
