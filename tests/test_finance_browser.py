"""The money side in a real headless Chromium, in Chinese (the default): Finance walks from the
pending lines to a downloaded workbook, a line is marked done on the case page, and `execute`
is refused with a readable message while a line is pending."""

from __future__ import annotations

import re

import openpyxl
import pytest

from tests.conftest import Api
from tests.finance_screen_helpers import approved_case, line_of
from tests.test_screens import ALLOWED_LATIN


@pytest.fixture
def as_api(live_app):
    client = live_app.test_client()
    return lambda username: Api(client, username)


def untranslated(page) -> set[str]:
    text = page.inner_text("div.container")
    words = set(re.findall(r"[A-Za-z][A-Za-z]{2,}", text)) - ALLOWED_LATIN - {"XLSX", "CSV", "ERP"}
    return {w for w in words if not re.fullmatch(r"[A-Z]\d+|KS|FX|[a-z_]+", w)}


def test_finance_walks_from_the_pending_lines_to_a_downloaded_workbook(screen, as_api, tmp_path):
    case = approved_case(as_api)
    s = screen.login("finance")
    page = s.page
    page.click("a.dropdown-toggle:has-text('客诉')")
    page.click("a:has-text('财务导出')")
    page.wait_for_load_state()
    assert page.url.endswith("/finance/")
    assert untranslated(page) == set()
    credits = page.locator("#kesu-pending-credit_notes")
    assert "冲销/调账清单" in credits.inner_text()
    assert case["number"] in credits.inner_text()
    assert credits.locator(".kesu-pending-count").inner_text() == "1 条"
    assert credits.locator(".kesu-pending-total").inner_text() == "120.00"
    assert "补发清单" in page.inner_text("#kesu-pending-reshipments")

    credits.locator(".kesu-export-form button").click()
    page.wait_for_load_state()
    message = page.inner_text(".alert-success")
    number = re.search(r"FX-\d{6}-\d{4}", message).group(0)
    assert f"批次 {number} 已导出：1 条" in message
    assert "没有可导出的明细。" in page.inner_text("#kesu-pending-credit_notes")
    batch = page.locator(f"#kesu-batches tr[data-batch='{number}']")
    assert "冲销/调账清单" in batch.inner_text()
    assert number in page.inner_text("#kesu-new-batch")
    with page.expect_download() as download:
        page.locator("#kesu-new-batch .kesu-download-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    cells = [c.value for r in book.active.iter_rows() for c in r]
    assert case["number"] in cells and "客诉编号" in cells
    assert untranslated(page) == set()


def test_a_line_is_marked_done_on_the_case_page_and_execute_waits_for_every_line(screen, as_api):
    case = approved_case(as_api)
    credit, reship = line_of(case, "credit_note"), line_of(case, "reship")
    s = screen.login("finance")
    page = s.page
    s.goto(f"/cases/{case['id']}")
    assert untranslated(page) == set()
    row = page.locator(f"#kesu-execution tr[data-line='{credit['id']}']")
    assert row.locator(".kesu-exec-status").inner_text() == "待执行"
    assert page.locator(f"#kesu-execution tr[data-line='{reship['id']}'] form").count() == 0
    row.locator("input[name=reference]").fill("CN-2026-0042")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "明细已标记为已执行" in page.inner_text(".alert-success")
    row = page.locator(f"#kesu-execution tr[data-line='{credit['id']}']")
    assert row.locator(".kesu-exec-status").inner_text() == "已执行"
    assert row.locator(".kesu-exec-reference").inner_text() == "CN-2026-0042"
    assert "finance" in row.locator(".kesu-exec-by").inner_text()

    s.goto("/logout/")
    s.login("sales")
    s.goto(f"/cases/{case['id']}")
    page.click("form[data-action=execute] button")
    page.wait_for_load_state()
    assert (
        page.inner_text(".alert-danger")
        .strip()
        .endswith("每条理赔明细都须先标记为已执行或已取消。")
    )
    row = page.locator(f"#kesu-execution tr[data-line='{reship['id']}']")
    row.locator("input[name=reference]").fill("SO-2026-0007")
    row.locator("button").click()
    page.wait_for_load_state()
    page.click("form[data-action=execute] button")
    page.wait_for_load_state()
    assert "“执行完成”已完成" in page.inner_text(".alert-success")
