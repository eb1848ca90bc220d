"""The monthly report screen in a real headless Chromium: reached from the Reports menu, its
charts drawn as inline SVG (nothing fetched from elsewhere), a missed case linked to its page."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.report_helpers import build


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def test_supervisor_reads_the_month_with_its_charts(screen, live_app, as_api):
    made = build(live_app, as_api)
    s = screen.login("supervisor")
    s.goto("/")
    s.page.click("text=报表")
    s.page.click("text=月度报告")
    s.page.wait_for_load_state()
    s.page.fill("#kesu-report-month", "2026-06")
    s.page.click("#kesu-report-form button[type=submit]")
    s.page.wait_for_load_state()
    summary = s.page.locator("#kesu-report-summary tr[data-figure=total] .kesu-now")
    assert summary.inner_text() == "4"
    charts = s.page.locator("figure.kesu-chart svg")
    assert charts.count() == 5
    assert s.page.locator("#kesu-chart-sla .kesu-marker").count() == 4
    assert s.page.locator("#kesu-chart-flow rect.kesu-bar").count() == 8
    box = s.page.locator("#kesu-chart-sla").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    # Only this server was asked for anything: no chart library from elsewhere.
    assert all(url.startswith(s.base) for url in s.requests)
    s.page.click(f"#kesu-report-sla tr[data-target=closed] a[data-missed='{made['B']['number']}']")
    s.page.wait_for_load_state()
    assert made["B"]["number"] in s.page.content()
    s.page.go_back()
    with s.page.expect_download() as download:
        s.page.click("#kesu-report-xlsx")
    assert download.value.suggested_filename == "monthly-report-L1-2026-06.xlsx"
