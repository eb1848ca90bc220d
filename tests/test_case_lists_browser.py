"""The case list in a real headless Chromium, in Chinese: a supervisor filters by a date range,
saves the filter, opens it again with one click, assigns the ticked cases in one go (one is in
a stage that cannot be assigned), downloads the list as a workbook and deletes the filter."""

from __future__ import annotations

import openpyxl
import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.conftest import Api


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def test_supervisor_filters_saves_assigns_and_exports(screen, as_api, live_app, tmp_path):
    from core.models import KesuUser

    cases = [
        as_api("agent").create_case(received_at=f"2026-11-1{n}T10:00:00+08:00") for n in range(3)
    ]
    as_api("agent").create_case(received_at="2026-11-20T10:00:00+08:00")  # outside the range
    for case in cases[:2]:
        assert as_api("agent").action(case["id"], "accept").status_code == 200
    with live_app.app_context():
        qa = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "qa"))
        qa_id, qa_name = qa.id, qa.display_name

    s = screen.login("supervisor")
    page = s.page
    s.goto("/cases/")
    page.fill("input[name=received_from]", "2026-11-10")
    page.fill("input[name=received_to]", "2026-11-12")
    page.click("form.kesu-filters button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("table.kesu-cases tbody tr[data-case]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.case)")) == sorted(
        c["number"] for c in cases
    )
    page.screenshot(path=str(tmp_path / "1-filtered.png"))

    page.fill("#kesu-save-filter input[name=name]", "十一月上旬")
    page.click("#kesu-save-filter button[type=submit]")
    page.wait_for_load_state()
    assert "筛选已保存。" in page.inner_text(".alert-success")
    s.goto("/cases/")  # no filter: four cases
    assert page.locator("table.kesu-cases tbody tr[data-case]").count() == 4
    page.click("#kesu-saved-filters a:has-text('十一月上旬')")
    page.wait_for_load_state()
    assert page.locator("table.kesu-cases tbody tr[data-case]").count() == 3

    for case in cases:
        page.check(f"tr[data-case='{case['number']}'] input[name=case]")
    form = page.locator("#kesu-bulk-form")
    form.locator("select[name=to_handler]").select_option(str(qa_id))
    assert qa_name in form.locator("select[name=to_handler]").inner_text()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=str(tmp_path / "2-assigned.png"))
    assert "已分派 2 件（共 3 件）" in page.inner_text(".alert-warning")
    refused = page.inner_text(".alert-danger")
    assert cases[2]["number"] in refused and "已登记" in refused
    # Back on the same filtered list, the two assigned cases are now under investigation.
    assert page.locator("table.kesu-cases tbody tr[data-case]").count() == 3
    for case in cases[:2]:
        assert "调查中" in page.inner_text(f"tr[data-case='{case['number']}']")

    with page.expect_download() as download:
        page.click("#kesu-export")
    saved = tmp_path / "cases.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "客诉编号"
    assert sorted(r[0] for r in rows[1:]) == sorted(c["number"] for c in cases)
    handler = rows[0].index("处理人")
    assert sorted(str(r[handler]) for r in rows[1:]) == sorted([qa_name, qa_name, "None"])

    page.click("#kesu-saved-filters .kesu-saved-filter button[type=submit]")
    page.wait_for_load_state()
    assert "筛选已删除。" in page.inner_text(".alert-success")
    assert page.locator("#kesu-saved-filters .kesu-saved-filter").count() == 0
    assert all(url.startswith(s.base) or url.startswith("data:") for url in s.requests)
