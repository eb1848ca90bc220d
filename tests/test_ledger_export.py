"""The ledger's Excel export (issue 11 item 1), read back with openpyxl: headers in both
languages, real dates and money formats, user text that looks like a formula stays text,
contact masked per role, archived cases listed, each export audited; ``kesu ledger`` on the
shell; the screen in a real Chromium."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.models import AuditEvent, Case, CompensationLine
from tests.conftest import Api, signed_in

FORMULAS = ('=HYPERLINK("http://evil.example","点我")', "=1+1")


def register(api, user="agent", **kw) -> dict:
    return api(user).create_case(**kw)


def book(resp) -> openpyxl.Workbook:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    return openpyxl.load_workbook(io.BytesIO(resp.data))


def rows_by_number(sheet) -> tuple[list, dict]:
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return header, {r[0].value: r for r in rows[1:]}


def no_formula(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def make_cases(app, api) -> dict[str, dict]:
    cases = {
        "hyperlink": register(
            api,
            customer={"name": FORMULAS[0], "kind": "dealer", "phone": "13955556666"},
            description=FORMULAS[1],
            received_at="2026-11-30T23:59:00+08:00",
            claim_amount="1234.56",
        ),
        "archived": register(api, received_at="2026-11-02T09:30:00+08:00"),
        "next_month": register(api, received_at="2026-12-01T00:00:00+08:00"),
    }
    with app.app_context(), write_transaction():
        case = db.session.get(Case, cases["archived"]["id"])
        case.status = "closed"
        case.archived_at = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
        db.session.add(
            CompensationLine(
                case_id=case.id,
                position=0,
                kind="refund",
                amount=Decimal("88.80"),
                exec_status="done",
            )
        )
    return cases


def test_workbook_headers_formats_text_and_masking(app, api):
    cases = make_cases(app, api)
    query = "from=2026-11-01&to=2026-11-30"
    qa = signed_in(app, "qa")  # may not view contact details; reads Chinese
    resp = qa.get("/ledger/export?" + query)
    no_formula(resp.data)
    sheet = book(resp).active
    header, rows = rows_by_number(sheet)
    assert header[:3] == ["客诉编号", "接收时间", "业务线"]
    assert "电话" in header and "处理结果" in header and "结案日期" in header
    assert "退款（元）" in header and "满意度（最近一次回访）" in header
    assert set(rows) == {cases["hyperlink"]["number"], cases["archived"]["number"]}
    row = rows[cases["hyperlink"]["number"]]
    col = {name: i for i, name in enumerate(header)}
    # user text that looks like a formula stays that text
    assert row[col["客户"]].value == FORMULAS[0] and row[col["客户"]].data_type == "s"
    assert row[col["问题描述"]].value == FORMULAS[1] and row[col["问题描述"]].data_type == "s"
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    # a real date-time in the line's local time, money as a number with #,##0.00
    received = row[col["接收时间"]]
    assert received.is_date and received.value == dt.datetime(2026, 11, 30, 23, 59)
    claim = row[col["索赔金额（元）"]]
    assert claim.value == pytest.approx(1234.56) and claim.number_format == "#,##0.00"
    assert row[col["电话"]].value == "139****6666"
    archived = rows[cases["archived"]["number"]]
    assert archived[col["归档日期"]].is_date
    assert archived[col["归档日期"]].value.date() == dt.date(2026, 11, 28)
    assert archived[col["退款（元）"]].value == pytest.approx(88.8)
    assert archived[col["退款（元）"]].number_format == "#,##0.00"
    assert archived[col["处理结果"]].value == "已结案"

    agent = signed_in(app, "agent")  # may view contact details; reads English
    agent.get("/lang/en")
    header, rows = rows_by_number(book(agent.get("/ledger/export?" + query)).active)
    assert header[:3] == ["Case number", "Received at", "Business line"]
    assert "Refund (CNY)" in header and "Outcome" in header
    assert rows[cases["hyperlink"]["number"]][header.index("Phone")].value == "13955556666"

    # the API's export masks the same way
    api_book = book(api("finance").get("/api/v1/ledger/xlsx?" + query)).active
    header, rows = rows_by_number(api_book)
    phone = header.index("电话")
    assert {r[phone].value for r in rows.values()} == {"139****6666", "138****5678"}


def test_each_export_is_audited_and_limited(app, api):
    make_cases(app, api)
    client = signed_in(app, "manager")
    book(client.get("/ledger/export?business_line=L1"))
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.entity == "ledger").order_by(AuditEvent.id)
        )
        assert event.action == "export" and event.changes["rows"] == 3
        assert event.changes["filters"] == {"business_line": "L1"}
    app.config["KESU_LEDGER_EXPORT_LIMIT"] = 2
    assert api("manager").get("/api/v1/ledger/xlsx").status_code == 422
    page = client.get("/ledger/export", follow_redirects=True).get_data(as_text=True)
    assert "一次最多导出 2 件" in page


def test_cli_writes_a_readable_workbook(app, api, tmp_path):
    cases = make_cases(app, api)
    out = tmp_path / "ledger.xlsx"
    runner = app.test_cli_runner()
    args = ["ledger", "--line", "L1", "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(out)]
    result = runner.invoke(args=[*args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2 cases" in result.output
    header, rows = rows_by_number(openpyxl.load_workbook(out).active)
    assert header[0] == "Case number"
    assert set(rows) == {cases["hyperlink"]["number"], cases["archived"]["number"]}
    assert rows[cases["hyperlink"]["number"]][header.index("Phone")].value == "13955556666"
    bad = runner.invoke(args=["ledger", "--line", "NOPE", "-o", str(out)])
    assert bad.exit_code != 0 and "business_line" in bad.output
    bad = runner.invoke(args=["ledger", "--line", "L1", "--from", "2026-02-30", "-o", str(out)])
    assert bad.exit_code != 0 and "from" in bad.output


def test_screen_renders_filters_and_exports(screen, live_app, tmp_path):
    client = live_app.test_client()
    agent = Api(client, "agent")
    first = agent.create_case(batch_no="SCR-1", received_at="2026-11-10T10:00:00+08:00")
    second = agent.create_case(batch_no="SCR-2", received_at="2026-11-11T10:00:00+08:00")
    s = screen.login("qa")
    page = s.page
    s.goto("/")
    assert page.locator("a[href='/ledger/']").count() >= 1  # in the menu
    s.goto("/ledger/")
    rows = page.locator("#kesu-ledger tbody tr[data-case]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.case)")) == sorted(
        [first["number"], second["number"]]
    )
    assert "138****5678" in page.inner_text("#kesu-ledger")
    page.fill("#kesu-ledger-filters input[name=batch]", "SCR-2")
    page.click("#kesu-ledger-filter")
    page.wait_for_load_state()
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.case)") == [second["number"]]
    page.screenshot(path=str(tmp_path / "ledger.png"))
    with page.expect_download() as download:
        page.click("#kesu-ledger-export")
    saved = tmp_path / "ledger.xlsx"
    download.value.save_as(saved)
    header, found = rows_by_number(openpyxl.load_workbook(saved).active)
    assert header[0] == "客诉编号" and set(found) == {second["number"]}
