"""The SLA screens in a real headless Chromium: deadlines and priority on the case page, the
list's overdue filter and deadline order, the supervisors' dashboard, the working calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def test_case_page_shows_deadlines_and_a_supervisor_changes_the_priority(screen, as_api):
    late = as_api("agent").create_case(received_at="2026-11-02T10:00:00")
    s = screen.login("supervisor")
    s.goto(f"/cases/{late['id']}")
    page = s.page
    reply = page.inner_text("#deadlines tr[data-deadline=reply]")
    assert "答复客户" in reply and "2026-11-05 18:00" in reply and "已超期" in reply
    assert page.get_attribute("#deadlines tr[data-deadline=registered]", "data-state") == "met"
    assert "超时" in page.inner_text("#deadlines tr[data-deadline=registered]")
    page.select_option("#kesu-priority-select", "P1")
    page.click("#kesu-priority-form button")  # no reason
    page.wait_for_load_state()
    assert "请填写调整优先级的原因" in page.inner_text(".alert-danger")
    page.select_option("#kesu-priority-select", "P1")
    page.fill("#kesu-priority-form input[name=reason]", "客户扬言向工商投诉")
    page.click("#kesu-priority-form button")
    page.wait_for_load_state()
    reasons = page.inner_text("#kesu-priority-reasons")
    assert "P1" in reasons and "人工设定" in reasons and "客户扬言向工商投诉" in reasons
    assert "将优先级人工调整为 P1 紧急" in page.inner_text("#timeline")


def test_agents_do_not_get_the_priority_form(screen, as_api):
    case = as_api("agent").create_case()
    s = screen.login("agent")
    s.goto(f"/cases/{case['id']}")
    assert s.page.query_selector("#kesu-priority-form") is None
    assert "剩余" in s.page.inner_text("#deadlines tr[data-deadline=closed]")


def test_list_filters_overdue_and_sorts_by_next_deadline(screen, as_api):
    late = as_api("agent").create_case(received_at="2026-11-02T10:00:00")
    fresh = as_api("agent").create_case(customer={"name": "新客户", "kind": "dealer"})
    s = screen.login("agent")
    s.goto("/cases/")
    s.page.check("input[name=overdue]")
    s.page.select_option("select[name=sort]", "deadline")
    s.page.click(".kesu-filters button[type=submit]")
    s.page.wait_for_load_state()
    rows = s.page.eval_on_selector_all("tr[data-case]", "els => els.map(e => e.dataset.case)")
    assert late["number"] in rows and fresh["number"] not in rows
    cell = s.page.inner_text(f"tr[data-case='{late['number']}'] .kesu-next-deadline")
    assert "超期" in cell
    s.goto("/")
    assert s.page.inner_text("#kesu-home-overdue") == "超期 1"


def test_supervisor_dashboard_and_admin_sweep(screen, as_api):
    case = as_api("agent").create_case(received_at="2026-11-02T10:00:00")
    as_api("agent").action(case["id"], "accept")
    as_api("supervisor").action(case["id"], "assign", department="QA")
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    for days in (1, 2, 3):  # three in the last 90 days: at risk
        as_api("agent").create_case(
            received_at=(now - dt.timedelta(days=days)).isoformat(),
            customer={"name": "常客", "kind": "dealer"},
        )
    s = screen.login("supervisor")
    s.goto("/sla/?business_line=L1&from=2026-11-01&to=2026-11-30")
    page = s.page
    assert page.inner_text("#kesu-overdue-stage tr[data-stage=investigating]").endswith("1")
    assert "品保课" in page.inner_text("#kesu-overdue-department")
    assert "常客" in page.inner_text("#kesu-at-risk-list")
    closed = "#kesu-attainment tr[data-target=closed]"
    assert "结案" in page.inner_text(closed)
    assert page.inner_text(f"{closed} .kesu-rate") == "0.0 %"  # received Nov 2: missed
    assert page.query_selector(f"{closed} a[data-missed='{case['number']}']") is not None
    assert page.query_selector("#kesu-sweep") is None  # the sweep is the admin's
    s.goto("/sla/?business_line=L1&from=2026-11-30&to=2026-11-01")
    assert "结束日期不得早于开始日期" in page.inner_text("#kesu-attainment")
    s.goto("/logout/")
    admin = screen.login("admin")
    admin.goto("/sla/")
    admin.page.click("#kesu-sweep button")
    admin.page.wait_for_load_state()
    assert "超期检查完成" in admin.page.inner_text(".alert")


def test_admin_enters_a_years_calendar_by_hand(screen):
    s = screen.login("admin")
    s.goto("/calendars/?business_line=L1&year=2099")
    page = s.page
    assert page.query_selector("#kesu-no-days") is not None
    assert "261" in page.inner_text("#kesu-working-days")  # weekdays only, for now
    page.fill(
        "#kesu-days",
        "2099-01-01 holiday 元旦\n2099-02-02..2099-02-06 假 春节\n2099-01-31 班 春节调休",
    )
    page.check("#kesu-calendar-import input[name=replace]")
    page.click("#kesu-calendar-import button")
    page.wait_for_load_state()
    assert "已保存 7 个日期" in page.inner_text(".alert")
    assert page.get_attribute("tr[data-day='2099-01-31']", "data-kind") == "workday"
    assert "256" in page.inner_text("#kesu-working-days")  # 261 - 6 holidays + 1 make-up day
    page.fill("#kesu-days", "2099-02-30 holiday")
    page.click("#kesu-calendar-import button")
    page.wait_for_load_state()
    assert "第 1 行" in page.inner_text(".alert-danger")
    page.click("tr[data-day='2099-01-01'] button")
    page.wait_for_load_state()
    assert page.query_selector("tr[data-day='2099-01-01']") is None
