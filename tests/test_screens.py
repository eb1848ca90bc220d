"""The screens, driven in a real headless Chromium against the app served on a local port."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api, make_app
from tests.test_evidence import PNG


@pytest.fixture
def live_app(tmp_path, template_db, third_party_plugin):
    """The app with the example third-party plugin installed and enabled on L1 only."""
    app = make_app(tmp_path, template_db, WTF_CSRF_ENABLED=True)
    assert (
        app.test_cli_runner()
        .invoke(args=["plugins", "enable", "service_complaint", "--line", "L1"])
        .exit_code
        == 0
    )
    yield app
    from core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def options(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        f"{selector} option", "els => els.map(e => e.textContent.trim())"
    )


def choose(page, selector: str, value: str) -> None:
    """Pick an option whose change reloads the page, and wait for the new page."""
    with page.expect_navigation():
        page.select_option(selector, value)


def assert_offline(screen) -> None:
    outside = [
        u for u in screen.requests if not u.startswith(screen.base) and not u.startswith("data:")
    ]
    assert outside == [], outside


def test_intake_fields_follow_the_category_and_the_line(screen):
    s = screen.login("agent")
    s.goto("/cases/new")
    page = s.page
    assert page.inner_text("h2") == "登记客诉"
    choose(page, "#choose-line", "L1")
    assert "服务投诉" in options(page, "#choose-category")
    choose(page, "#choose-category", "service_complaint")
    assert page.is_visible("#details__service_area")
    assert "服务区域" in page.inner_text("fieldset.kesu-plugin-fields")
    assert options(page, "#details__service_area")[1:] == ["前台", "客房", "餐饮"]
    choose(page, "#choose-category", "logistics")
    assert not page.is_visible("#details__service_area")
    assert_offline(s)


def test_third_party_category_is_absent_where_not_enabled(screen):
    s = screen.login("agent2")
    s.goto("/cases/new?business_line=L2")
    assert "服务投诉" not in options(s.page, "#choose-category")
    assert "物流问题" in options(s.page, "#choose-category")


def test_register_through_the_screen_and_work_the_case(screen, as_api):
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=service_complaint")
    page.fill("#customer__name", "上海经销商")
    page.select_option("#channel", "phone")
    page.fill("#product", "P-100")
    page.fill("#description", "客房卫生不达标")
    page.select_option("#details__service_area", "housekeeping")
    page.click("#kesu-submit")
    page.wait_for_load_state()
    number = page.inner_text("#kesu-case-number").split()[0]
    assert re.fullmatch(r"KS-\d{6}-\d{5}", number)
    assert page.inner_text(".kesu-status") == "已登记"
    assert "客房" in page.inner_text(".kesu-plugin-values")

    page.click("form[data-action=accept] button")
    page.wait_for_load_state()
    assert page.inner_text(".kesu-status") == "已受理"
    assert "“受理”已完成" in page.inner_text(".alert-success")
    timeline = page.inner_text("#timeline")
    assert "受理" in timeline and "agent" in timeline

    page.set_input_files(
        "#kesu-upload input[type=file]",
        files=[{"name": "damage.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.fill("#kesu-upload input[name=source]", "经销商微信")
    page.click("#kesu-upload button")
    page.wait_for_load_state()
    assert "damage.png" in page.inner_text("#kesu-gallery")  # an image: a thumbnail
    with page.expect_download() as download:
        page.click("#kesu-gallery .kesu-thumb .small a")
    with open(download.value.path(), "rb") as fh:
        assert fh.read() == PNG
    assert_offline(s)


def test_invalid_intake_shows_errors_next_to_fields_and_saves_nothing(screen, as_api):
    s = screen.login("agent")
    page = s.page
    s.goto("/cases/new?business_line=L1&category=service_complaint")
    page.fill("#customer__name", "上海经销商")
    page.select_option("#channel", "phone")
    page.fill("#product", "不存在的产品")
    page.click("#kesu-submit")
    page.wait_for_load_state()
    errors = {
        e.get_attribute("data-field"): e.inner_text()
        for e in page.query_selector_all(".kesu-field-error")
    }
    assert errors["description"] == "此项必填。"
    assert errors["details__service_area"] == "此项必填。"
    assert errors["product"] == "未知产品。"
    assert page.input_value("#customer__name") == "上海经销商"
    assert as_api("agent").get("/api/v1/case/").get_json()["count"] == 0


def test_actions_follow_the_role(screen, as_api):
    case = as_api("agent").create_case()
    as_api("agent").action(case["id"], "accept")
    s = screen.login("supervisor")
    s.goto(f"/cases/{case['id']}")
    page = s.page
    buttons = page.eval_on_selector_all(
        "#kesu-actions form", "els => els.map(e => e.dataset.action)"
    )
    assert buttons == ["assign", "hold"]
    page.click("details[data-action-box=assign] > summary")  # the button opens its form
    page.select_option("form[data-action=assign] select[name=department]", "QA")
    page.select_option("form[data-action=assign] select[name=handler]", "qa")
    page.click("form[data-action=assign] button")
    page.wait_for_load_state()
    assert page.inner_text(".kesu-status") == "调查中"
    assert "品保课" in page.inner_text(".kesu-fields")
    assert "品保课" in page.inner_text("#timeline")
    # the supervisor may not propose for QA's department... but QA may
    assert page.query_selector("form[data-action=propose]") is not None
    page.click("details[data-action-box=hold] > summary")
    page.click("form[data-action=hold] button")  # comment missing: the form is not sent
    assert page.eval_on_selector(
        "form[data-action=hold] textarea[name=comment]", "e => e.validity.valueMissing"
    )
    assert page.inner_text(".kesu-status") == "调查中"


def test_contact_is_masked_on_screen_without_view_contact(screen, as_api):
    case = as_api("agent").create_case()
    s = screen.login("finance")
    s.goto(f"/cases/{case['id']}")
    assert s.page.inner_text("#kesu-phone") == "138****5678"
    assert s.page.inner_text("#kesu-email") == "z***@example.com"
    assert s.page.query_selector("#kesu-actions form") is None
    s.goto("/customerview/list/")
    assert "138****5678" in s.page.inner_text("body")
    assert "13812345678" not in s.page.content()


def test_foreign_case_is_not_found_on_screen(screen, as_api):
    case = as_api("agent").create_case()
    s = screen.login("agent2")
    response = s.page.goto(f"{s.base}/cases/{case['id']}")
    assert response.status == 404
    s.goto("/cases/")
    assert case["number"] not in s.page.inner_text("body")


def test_admin_switches_a_plugin_per_line(screen, as_api):
    s = screen.login("admin")
    s.goto("/plugins/")
    page = s.page
    cell = "tr[data-plugin=service_complaint] td[data-line=L2]"
    assert page.get_attribute(cell, "data-enabled") == "no"
    page.click(f"{cell} button")
    page.wait_for_load_state()
    assert page.get_attribute(cell, "data-enabled") == "yes"
    fields = as_api("agent2").get("/api/v1/case/fields?business_line=L2").get_json()
    assert "service_complaint" in [c["key"] for c in fields["categories"]]


def test_english_is_selectable(screen):
    s = screen.login("agent", locale="en")
    s.goto("/cases/new")
    assert s.page.inner_text("h2") == "Register a complaint"
    s.goto("/lang/zh_CN")
    s.goto("/cases/new")
    assert s.page.inner_text("h2") == "登记客诉"


# Words that may stay in Latin letters on a Chinese screen: codes, names, units.
ALLOWED_LATIN = {
    "Kesu",
    "KS",
    "CNY",
    "KB",
    "SHA",
    "P1",
    "P2",
    "P3",
    "agent",
    "supervisor",
    "admin",
    "finance",
    "qa",
    "png",
    "damage",
    "WH",
    "QA",
    "L1",
    "L2",
    "Asia",
    "Shanghai",
}


@pytest.mark.parametrize("username", ["supervisor", "admin"])
def test_chinese_screens_have_no_untranslated_words(screen, as_api, username):
    case = as_api("agent").create_case()
    as_api("agent").action(case["id"], "accept")
    s = screen.login(username)
    pages = [
        "/",
        "/cases/",
        "/cases/new?business_line=L1&category=logistics",
        f"/cases/{case['id']}",
        f"/cases/{case['id']}/edit",
    ]
    if username == "admin":
        pages += ["/plugins/"]
    for path in pages:
        s.goto(path)
        text = s.page.inner_text("div.container")
        words = set(re.findall(r"[A-Za-z][A-Za-z]{2,}", text)) - ALLOWED_LATIN
        words = {w for w in words if not re.fullmatch(r"[A-Z]\d+|KS|[a-z_]+", w)}
        assert words == set(), (path, words)
