"""Return visits on screen, in real Chromium: an agent records a visit scored 2 on the case
page, the supervisor finds the case on the reopen list of the "Return visits" screen and
dismisses it with a reason; the form's refusals come back as messages, writing nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api
from tests.test_visits import closed_case

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def closed(as_api) -> dict:
    return closed_case(as_api)


def test_a_visit_scored_2_reaches_the_supervisors_reopen_list(screen, as_api):
    case = closed(as_api)
    assert case["status"] == "closed"
    s = screen.login("agent")
    page = s.page
    s.goto(f"/cases/{case['id']}")
    assert page.is_visible("#kesu-print-link a")
    form = "#kesu-visit-form"
    page.select_option(f"{form} select[name=channel]", "wechat")
    page.select_option(f"{form} select[name=satisfaction]", "2")
    page.fill(f"{form} input[name=comment]", "仍有漏液 <b>不满意</b>")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    assert "回访已登记。" in page.inner_text(".alert-success")
    row = page.locator("#visits tr[data-score='2']")
    assert row.count() == 1
    assert "微信" in row.inner_text() and "仍有漏液 <b>不满意</b>" in row.inner_text()
    assert row.locator("[data-followup=pending]").count() == 1
    assert "满意度: 2/5" in page.inner_text("#kesu-satisfaction")
    assert "登记了回访（微信），满意度 2" in page.inner_text(
        "#timeline li[data-action=visit] .kesu-sentence"
    )
    # An agent has the due list but not the supervisor's reopen list.
    s.goto("/visits/")
    assert page.locator("#kesu-visits-reopen").count() == 0
    assert page.locator(f"#kesu-visits-due tr[data-case='{case['number']}']").count() == 0

    s.goto("/logout/")
    s.login("supervisor")
    s.goto("/")
    assert page.locator("a[href='/visits/']").count() == 1  # the menu entry
    s.goto("/visits/")
    entry = page.locator(f"#kesu-visits-reopen tr[data-case='{case['number']}']")
    assert entry.count() == 1
    assert "仍有漏液" in entry.inner_text()
    # Dismissing needs a reason: the browser refuses an empty one before sending it.
    entry.locator("input[name=reason]").fill("已电话安抚，客户接受")
    entry.locator("button").click()
    page.wait_for_load_state()
    assert case["number"] in page.inner_text(".alert-success")
    assert page.locator(f"#kesu-visits-reopen tr[data-case='{case['number']}']").count() == 0
    result = as_api("supervisor").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert result["visits"][0]["followup"] == "dismissed"
    assert result["visits"][0]["followup_reason"] == "已电话安抚，客户接受"


def test_a_closed_case_waits_on_the_due_list_and_a_bad_visit_is_refused(screen, as_api):
    case = closed(as_api)
    s = screen.login("agent", locale="en")
    page = s.page
    s.goto("/visits/")
    row = page.locator(f"#kesu-visits-due tr[data-case='{case['number']}']")
    assert row.count() == 1 and row.get_attribute("data-overdue") == "no"
    row.locator("a").click()
    page.wait_for_load_state()
    form = "#kesu-visit-form"
    # A time in the future: refused by the service, naming the rule; nothing recorded.
    later = (dt.datetime.now(SH) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.evaluate(
        "([f, v]) => { const i = document.querySelector(f + ' input[name=visited_at]');"
        " i.removeAttribute('max'); i.value = v; }",
        [form, later],
    )
    page.select_option(f"{form} select[name=satisfaction]", "5")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    assert "future" in page.inner_text(".alert-danger")
    assert page.locator("#visits tr[data-visit]").count() == 0
    page.select_option(f"{form} select[name=satisfaction]", "5")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    assert "Return visit recorded." in page.inner_text(".alert-success")
    assert page.locator("#visits tr[data-score='5'] [data-followup]").count() == 0
    s.goto("/visits/")
    assert page.locator(f"#kesu-visits-due tr[data-case='{case['number']}']").count() == 0
