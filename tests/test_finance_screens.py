"""The money side's screens through the Flask test client: carrying out compensation on the
case page, and the Finance workspace (pending lists, export, batches, void, references, credits
due), with their permissions, record rules, masking and error messages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Case, CompensationLine
from tests.conftest import signed_in
from tests.finance_screen_helpers import CREDIT, approved_case, line_of
from tests.plugin_helpers import read


def page(client, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def row(html: str, line_id: int) -> str:
    """The HTML of the table row of one compensation line."""
    match = re.search(rf'<tr data-line="{line_id}".*?</tr>', html, re.S)
    assert match, line_id
    return match.group(0)


def flashed(client) -> str:
    """The flash messages the next page would show (their text), taken off the session."""
    with client.session_transaction() as session:
        return " ".join(text for _cat, text in session.pop("_flashes", []))


# -- the case page: carrying out compensation ----------------------------------------------------


def test_case_page_shows_each_lines_execution_and_only_the_forms_a_role_may_use(app, api):
    case = approved_case(api)
    credit, reship = line_of(case, "credit_note"), line_of(case, "reship")
    url = f"/cases/{case['id']}"
    html = page(signed_in(app, "finance"), url)
    assert "待执行" in row(html, credit["id"]) and "待执行" in row(html, reship["id"])
    assert case["compensation"][0]["approved_at"][:10] in row(html, credit["id"])
    # Finance marks money lines, not goods lines, and cancels nothing.
    assert "/done" in row(html, credit["id"]) and "/done" not in row(html, reship["id"])
    assert "/cancel" not in html
    html = page(signed_in(app, "sales"), url)
    assert "/done" not in row(html, credit["id"]) and "/done" in row(html, reship["id"])
    assert "/cancel" not in html
    html = page(signed_in(app, "supervisor"), url)
    assert "/cancel" in row(html, credit["id"]) and "/cancel" in row(html, reship["id"])
    assert "/done" not in row(html, credit["id"]) and "/done" in row(html, reship["id"])
    html = page(signed_in(app, "qa"), url)
    assert 'id="kesu-execution"' in html and "/done" not in html and "/cancel" not in html


def test_marking_a_line_done_records_the_reference_who_and_when(app, api):
    case = approved_case(api)
    credit = line_of(case, "credit_note")
    finance = signed_in(app, "finance")
    url = f"/cases/{case['id']}/compensation/{credit['id']}/done"
    resp = finance.post(url, data={"reference": "  "})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/cases/{case['id']}#compensation"
    )
    assert flashed(finance) == "ERP 单据号：此项必填。"
    assert read(api, case["id"])["compensation"][0]["execution"]["status"] == "pending"
    resp = finance.post(url, data={"reference": "CN-2026-0042"})
    assert resp.status_code == 302
    assert flashed(finance) == f"{case['number']}：明细已标记为已执行。"
    html = page(finance, f"/cases/{case['id']}")
    done = row(html, credit["id"])
    assert "已执行" in done and "CN-2026-0042" in done and "finance" in done
    assert "/done" not in done
    # Done once: a second post is refused and changes nothing.
    finance.post(url, data={"reference": "CN-OTHER"})
    assert "已执行或已取消" in flashed(finance)
    assert read(api, case["id"])["compensation"][0]["execution"]["reference"] == "CN-2026-0042"


def test_a_role_that_may_not_mark_the_kind_gets_a_message_and_nothing_changes(app, api):
    case = approved_case(api)
    credit = line_of(case, "credit_note")
    sales = signed_in(app, "sales")
    resp = sales.post(
        f"/cases/{case['id']}/compensation/{credit['id']}/done", data={"reference": "X-1"}
    )
    assert resp.status_code == 302
    assert "财务" in flashed(sales)
    assert read(api, case["id"])["compensation"][0]["execution"]["status"] == "pending"


def test_supervisor_cancels_a_line_with_a_reason(app, api):
    case = approved_case(api)
    reship = line_of(case, "reship")
    supervisor = signed_in(app, "supervisor")
    url = f"/cases/{case['id']}/compensation/{reship['id']}/cancel"
    supervisor.post(url, data={"reason": ""})
    assert flashed(supervisor) == "原因：此项必填。"
    supervisor.post(url, data={"reason": "客户改为退款"})
    assert flashed(supervisor) == f"{case['number']}：明细已取消。"
    cancelled = row(page(supervisor, f"/cases/{case['id']}"), reship["id"])
    assert "已取消" in cancelled and "客户改为退款" in cancelled and "/cancel" not in cancelled


def test_execute_is_refused_with_a_readable_message_while_a_line_is_pending(app, api):
    case = approved_case(api)
    sales = signed_in(app, "sales")
    resp = sales.post(f"/cases/{case['id']}/action/execute", data={"comment": "已补发"})
    assert resp.status_code == 302
    html = page(sales, f"/cases/{case['id']}")
    assert "每条理赔明细都须先标记为已执行或已取消。" in html
    assert read(api, case["id"])["status"] == "executing"


def test_reshipping_before_the_recall_makes_the_credit_due_and_overdue_after_month_end(app, api):
    case = approved_case(api)
    credit, reship = line_of(case, "credit_note"), line_of(case, "reship")
    sales = signed_in(app, "sales")
    sales.post(f"/cases/{case['id']}/compensation/{reship['id']}/done", data={"reference": "SO-1"})
    finance = signed_in(app, "finance")
    due = read(api, case["id"])["compensation"][0]["credit_due_on"]
    assert due is not None
    html = page(finance, f"/cases/{case['id']}")
    assert due in row(html, credit["id"]) and "超期" not in row(html, credit["id"])
    workspace = page(finance, "/finance/")
    assert 'data-overdue="no"' in row(workspace.split('id="kesu-credits-due"')[1], credit["id"])
    with app.app_context():  # the month ended yesterday: the credit is overdue today
        line = db.session.get(CompensationLine, credit["id"])
        line.credit_due_on = dt.date.today() - dt.timedelta(days=2)
        db.session.commit()
    html = page(finance, f"/cases/{case['id']}")
    assert "超期" in row(html, credit["id"])
    workspace = page(finance, "/finance/")
    assert 'data-overdue="yes"' in row(workspace.split('id="kesu-credits-due"')[1], credit["id"])


# -- the Finance workspace ------------------------------------------------------------------------


def test_workspace_is_finances_and_admins_only(app, api):
    assert "财务导出" in page(signed_in(app, "finance"), "/")
    for username in ("agent", "supervisor", "sales", "manager", "auditor"):
        client = signed_in(app, username)
        assert "/finance/" not in page(client, "/"), username
        resp = client.get("/finance/")
        denied = resp.status_code == 403 or "/login/" in resp.headers.get("Location", "")
        assert denied, username
    assert page(signed_in(app, "admin"), "/finance/?business_line=L2")


def test_workspace_shows_pending_lines_totals_and_exports_a_list(app, api):
    first = approved_case(api)
    second = approved_case(
        api, lines=({**CREDIT, "amount": "80.50"}, {"kind": "freight_to_customer", "amount": "5"})
    )
    finance = signed_in(app, "finance")
    html = page(finance, "/finance/")
    credits = html.split('id="kesu-pending-credit_notes"')[1].split('id="kesu-pending-')[0]
    assert first["number"] in credits and second["number"] in credits
    assert "3 条" in credits and ">195.50<" in credits  # 120.00 + 80.50 - 5.00
    reships = html.split('id="kesu-pending-reshipments"')[1].split('id="kesu-batches"')[0]
    assert "1 条" in reships and ">120.00<" in reships and second["number"] not in reships

    resp = finance.post("/finance/export", data={"kind": "credit_notes", "business_line": "L1"})
    assert resp.status_code == 302 and "created=" in resp.headers["Location"]
    message = flashed(finance)
    number = re.search(r"FX-\d{6}-\d{4}", message).group(0)
    assert message == f"批次 {number} 已导出：3 条，合计 195.50。"
    html = page(finance, resp.headers["Location"])
    batch = re.search(rf'<tr data-batch="{number}" class="success">.*?</tr>', html, re.S).group(0)
    assert "冲销/调账清单" in batch and "195.50" in batch and ">3<" in batch
    xlsx = re.search(r'href="(/finance/export/\d+/download/xlsx)"', batch).group(1)
    new = re.search(r'id="kesu-new-batch">(.*?)</div>', html, re.S).group(1)
    assert f"批次 {number} 已生成" in new and xlsx in new
    book = openpyxl.load_workbook(io.BytesIO(finance.get(xlsx).data))
    cells = {c.value for r in book.active.iter_rows() for c in r}
    assert {first["number"], second["number"], "客诉编号"} <= cells
    again = finance.get(xlsx)
    assert again.data == finance.get(xlsx).data
    assert again.headers["Content-Disposition"].startswith("attachment;")
    raw = finance.get(xlsx.replace("xlsx", "csv")).data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "客诉编号" and {r[0] for r in rows[1:]} >= {first["number"]}
    # Taken once: the list is empty and a second export says there is nothing.
    credits = html.split('id="kesu-pending-credit_notes"')[1].split('id="kesu-pending-')[0]
    assert "没有可导出的明细。" in credits and "kesu-export-form" not in credits
    finance.post("/finance/export", data={"kind": "credit_notes", "business_line": "L1"})
    assert "没有" in flashed(finance)
    assert finance.get(xlsx.replace("xlsx", "pdf")).status_code == 404


def test_date_filter_and_its_errors_name_the_field(app, api):
    approved_case(api)
    finance = signed_in(app, "finance")
    today = dt.date.today()
    later = (today + dt.timedelta(days=3)).isoformat()
    html = page(finance, f"/finance/?approved_from={later}")
    assert html.count("没有可导出的明细。") == 2
    assert f'value="{later}"' in html
    html = page(finance, "/finance/?approved_from=2026-13-01")
    errors = re.search(r'id="kesu-finance-errors">(.*?)</div></div>', html, re.S).group(1)
    assert "批准日期自" in errors and "kesu-export-form" not in html
    # The export takes the filter along: nothing approved in a past period.
    past = (today - dt.timedelta(days=40)).isoformat()
    finance.post(
        "/finance/export",
        data={"kind": "reshipments", "business_line": "L1", "approved_to": past},
    )
    assert "没有" in flashed(finance)
    finance.post("/finance/export", data={"kind": "refunds", "business_line": "L1"})
    assert flashed(finance).startswith("清单：")


def test_void_needs_a_reason_and_makes_the_lines_eligible_again(app, api):
    case = approved_case(api)
    finance = signed_in(app, "finance")
    resp = finance.post("/finance/export", data={"kind": "reshipments", "business_line": "L1"})
    batch_id = int(re.search(r"created=(\d+)", resp.headers["Location"]).group(1))
    flashed(finance)
    finance.post(f"/finance/export/{batch_id}/void", data={"reason": "", "business_line": "L1"})
    assert flashed(finance) == "原因：此项必填。"
    resp = finance.post(
        f"/finance/export/{batch_id}/void", data={"reason": "数量有误", "business_line": "L1"}
    )
    assert resp.headers["Location"].endswith("/finance/?business_line=L1#kesu-batches")
    assert "已作废" in flashed(finance)
    html = page(finance, "/finance/")
    batch = re.search(r'<tr data-batch="FX-[^"]+" class="text-muted">.*?</tr>', html, re.S).group(0)
    assert "已作废" in batch and "数量有误" in batch and "kesu-void-form" not in batch
    reships = html.split('id="kesu-pending-reshipments"')[1].split('id="kesu-batches"')[0]
    assert case["number"] in reships and "kesu-export-form" in reships
    refused = signed_in(app, "agent").post(f"/finance/export/{batch_id}/void", data={"reason": "x"})
    assert refused.status_code == 403


def test_money_lines_awaiting_a_reference_are_marked_done_from_the_workspace(app, api):
    case = approved_case(api)
    credit, reship = line_of(case, "credit_note"), line_of(case, "reship")
    finance = signed_in(app, "finance")
    awaiting = (
        page(finance, "/finance/").split('id="kesu-awaiting"')[1].split('id="kesu-credits')[0]
    )
    assert (
        f'data-line="{credit["id"]}"' in awaiting and f'data-line="{reship["id"]}"' not in awaiting
    )
    resp = finance.post(
        f"/cases/{case['id']}/compensation/{credit['id']}/done",
        data={"reference": "CN-77", "next": "finance", "business_line": "L1"},
    )
    assert resp.headers["Location"].endswith("/finance/?business_line=L1")
    awaiting = (
        page(finance, "/finance/").split('id="kesu-awaiting"')[1].split('id="kesu-credits')[0]
    )
    assert f'data-line="{credit["id"]}"' not in awaiting
    # Only the known return target: anything else goes back to the case.
    resp = finance.post(
        f"/cases/{case['id']}/compensation/{credit['id']}/done",
        data={"reference": "CN-78", "next": "https://evil.example/"},
    )
    assert resp.headers["Location"].endswith(f"/cases/{case['id']}#compensation")


def test_workspace_keeps_to_the_users_lines_and_masks_phones(app, api):
    case = approved_case(
        api, customer={"name": "杭州经销商", "kind": "dealer", "phone": "13812345678"}
    )
    finance = signed_in(app, "finance")
    html = page(finance, "/finance/")
    assert case["number"] in html and "13812345678" not in html and "1381234" not in html
    assert finance.get("/finance/?business_line=L2").status_code == 404
    finance.post("/finance/export", data={"kind": "credit_notes", "business_line": "L2"})
    assert page(finance, "/finance/").count("data-batch=") == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompensationLine)) == 2


@pytest.mark.parametrize("locale", ["en"])
def test_workspace_in_english(app, api, locale):
    approved_case(api)
    finance = signed_in(app, "finance")
    finance.get(f"/lang/{locale}")
    html = page(finance, "/finance/")
    for text in (
        "Finance exports",
        "Credit-note and adjustment list",
        "Reshipment and free-goods list",
        "Export: 1 line(s)",
        "Money lines awaiting their document reference",
    ):
        assert text in html, text
    html = page(finance, "/cases/1")
    assert "Pending" in html and "Mark done" in html


def test_a_line_not_yet_approved_is_shown_as_such_without_forms(app, api):
    case = approved_case(api)
    with app.app_context():  # a correction proposed after the approval: a new, unapproved line
        row_case = db.session.get(Case, case["id"])
        extra = CompensationLine(position=3, kind="credit_note", amount="10.00")
        row_case.compensation.append(extra)
        db.session.commit()
        extra_id = extra.id
    html = page(signed_in(app, "finance"), f"/cases/{case['id']}")
    extra_row = row(html, extra_id)
    assert "未批准" in extra_row and "待执行" not in extra_row and "/done" not in extra_row
