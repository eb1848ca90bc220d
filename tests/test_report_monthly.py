"""The monthly report (issue 11 item 4): every figure of a constructed June and its May, the
month boundaries in the line's time zone, the record rules, the workbook and the screen."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.report_helpers import build

URL = "/api/v1/report/monthly?business_line=L1&month=2026-06"


@pytest.fixture
def june(app, api):
    made = build(app, api)
    resp = api("supervisor").get(URL)
    assert resp.status_code == 200, resp.get_json()
    return made, resp.get_json()


def test_every_figure_of_june_and_of_may(june):
    made, report = june
    assert report["business_line"] == "L1" and report["month"] == "2026-06"
    # A, B, C, D: 06-01 00:00 and 06-30 23:59 local count; 07-01 00:00 (E), May and L2 do not.
    assert report["total"] == report["opened"] == 4
    assert report["counts"] == {
        "category": {"logistics": 3, "product_quality": 1},
        "channel": {"phone": 3, "email": 1},
        "product": {"P-100": 3, "": 1},
        "batch": {"B1": 2, "": 1, "B2": 1},
        "root_cause": {"": 2, "包装 / 外箱破损": 1, "原材料": 1},
        "department": {"": 2, "仓储部": 1, "品保课": 1},
        "priority": {"P3": 2, "P1": 1, "P2": 1},
    }
    # Closed in June: A (received in June) and F (received 05-31 23:59); B closed 07-02.
    assert report["closed"] == 2
    # Open at the end of June: B (closed later) and C; D was not accepted.
    assert report["open_at_end"] == 2
    assert report["sla"] == {
        "registered": _sla(0.75, 3, 1, 0, 0.99, False),
        "solution": _sla(0.3333, 1, 2, 0, 0.9, False),
        "compensation_done": _sla(0.5, 1, 1, 1, 0.9, False),
        "closed": _sla(0.5, 1, 1, 1, 1.0, False),  # A met at the very minute: on time
    }
    numbers = {k: v["number"] for k, v in made.items()}
    missed = {name: [c["number"] for c in cases] for name, cases in report["missed_cases"].items()}
    assert missed == {
        "registered": [numbers["B"]],
        "solution": [numbers["B"], numbers["C"]],
        "compensation_done": [numbers["C"]],
        "closed": [numbers["B"]],
    }
    assert report["missed_cases"]["registered"][0]["late_minutes"] == 15 * 60
    assert report["missed_cases"]["registered"][0]["case_id"] == made["B"]["id"]
    # The cancelled refund of A and everything of E (July) are left out.
    assert report["compensation"] == {
        "reship": 50.0,
        "credit_note": 100.0,
        "account_adjustment": 0.0,
        "free_goods": 0.0,
        "refund": 300.0,
        "freight_to_customer": 20.0,
        "charge_responsible_person": 80.0,
    }
    assert report["satisfaction"] == {
        "average": 3.67,
        "count": 3,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    }
    # Cost: what customers were given (charges and cancelled lines left out); B has no product.
    assert report["top"]["product_by_count"] == [
        {"key": "P-100", "name": "外墙乳胶漆", "count": 3, "cost": 150.0}
    ]
    assert report["top"]["product_by_cost"] == report["top"]["product_by_count"]
    assert report["top"]["batch_by_count"] == [
        {"key": "B1", "count": 2, "cost": 150.0},
        {"key": "B2", "count": 1, "cost": 0.0},
    ]
    assert report["top"]["batch_by_cost"] == [{"key": "B1", "count": 2, "cost": 150.0}]

    may = report["previous"]
    assert may["month"] == "2026-05"
    assert (may["total"], may["opened"], may["closed"], may["open_at_end"]) == (2, 2, 1, 1)
    assert may["counts"]["category"] == {"logistics": 2}
    assert may["counts"]["root_cause"] == {"": 2} and may["counts"]["department"] == {"": 2}
    assert may["counts"]["product"] == {"P-100": 2}
    assert may["sla"]["registered"] == _sla(1.0, 2, 0, 0, 0.99, True)
    assert may["sla"]["closed"] == _sla(0.5, 1, 1, 0, 1.0, False)
    assert [c["number"] for c in may["missed_cases"]["closed"]] == [numbers["F"]]
    assert may["compensation"]["credit_note"] == 40.0
    assert sum(may["compensation"].values()) == 40.0
    assert may["satisfaction"] == {
        "average": 4.0,
        "count": 1,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    change = report["change"]
    assert (change["total"], change["closed"], change["open_at_end"]) == (2, 1, 1)
    assert change["compensation"]["credit_note"] == 60.0
    assert change["sla"] == {
        "registered": -0.25,
        "solution": -0.6667,
        "compensation_done": -0.5,
        "closed": 0.0,
    }
    assert change["satisfaction"] == -0.33


def _sla(rate, met, missed, pending, target, attained):
    return {
        "rate": rate,
        "met": met,
        "missed": missed,
        "pending": pending,
        "target": target,
        "attained": attained,
    }


def test_july_starts_at_midnight_line_local(june, api):
    july = api("supervisor").get("/api/v1/report/monthly?business_line=L1&month=2026-07")
    body = july.get_json()
    assert body["total"] == 1 and body["counts"]["category"] == {"logistics": 1}
    assert body["compensation"]["credit_note"] == 7000.0
    assert body["satisfaction"]["count"] == 1
    # B was closed on 07-02; C is still open; E is open.
    assert (body["closed"], body["open_at_end"]) == (1, 2)
    assert body["previous"]["total"] == 4


def test_record_rules_and_bad_input(june, api):
    assert api("admin").get(URL).get_json()["total"] == 4
    for role in ("qa", "manager", "finance", "auditor"):
        assert api(role).get(URL).status_code == 200, role
    for role in ("agent", "sales", "dept"):
        assert api(role).get(URL).status_code == 403, role
        assert api(role).get(URL.replace("monthly?", "monthly.xlsx?")).status_code == 403
    foreign = api("supervisor2").get(URL)
    assert foreign.status_code == 404 and "business_line" in foreign.get_json()["errors"]
    unknown = api("supervisor").get("/api/v1/report/monthly?business_line=ZZ&month=2026-06")
    assert unknown.status_code == 404 and "business_line" in unknown.get_json()["errors"]
    own_l2 = api("supervisor2").get("/api/v1/report/monthly?business_line=L2&month=2026-06")
    assert own_l2.status_code == 200 and own_l2.get_json()["total"] == 1
    for month in ("2026-13", "2026-6", "June", "", "1999-12", "2026-06-01"):
        bad = api("supervisor").get(f"/api/v1/report/monthly?business_line=L1&month={month}")
        assert bad.status_code == 400 and "month" in bad.get_json()["errors"], month
    missing = api("supervisor").get("/api/v1/report/monthly?month=2026-06")
    assert missing.status_code == 400 and "business_line" in missing.get_json()["errors"]
    bad = api("supervisor").get("/api/v1/report/monthly.xlsx?business_line=L1&month=x")
    assert bad.status_code == 400 and "month" in bad.get_json()["errors"]


def _book(api, lang: str):
    resp = api("supervisor").get(
        f"/api/v1/report/monthly.xlsx?business_line=L1&month=2026-06&_l_={lang}"
    )
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(resp.data))


def _cells(book):
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


@pytest.mark.parametrize(
    ("lang", "sheet", "headers", "flow"),
    [
        ("zh_CN", "时效达成", ["指标", "目标", "达成率", "按时", "未达标", "未到期"], "受理客诉数"),
        (
            "en",
            "SLA attainment",
            ["Target", "Required", "Attained", "On time", "Missed", "Still open"],
            "Cases received",
        ),
    ],
)
def test_workbook_in_both_languages_with_charts_and_no_formula(
    june, api, lang, sheet, headers, flow
):
    book = _book(api, lang)
    assert len(book.worksheets) == 7
    sla = book[sheet]
    assert [c.value for c in sla[1][:6]] == headers
    rates = {row[0].value: row for row in sla.iter_rows(min_row=2, max_row=5)}
    assert sorted(r[2].value for r in rates.values()) == [0.3333, 0.5, 0.5, 0.75]
    assert all(
        r[2].number_format == "0.0%" and r[1].number_format == "0.0%" for r in rates.values()
    )
    summary = book.worksheets[0]
    values = {row[0].value: row for row in summary.iter_rows(min_row=6)}
    assert (values[flow][1].value, values[flow][2].value) == (4, 2)
    compensation = book.worksheets[3]
    amounts = [row[1] for row in compensation.iter_rows(min_row=2, max_row=8)]
    assert sorted(c.value for c in amounts) == [0, 0, 20, 50, 80, 100, 300]
    assert all(c.number_format == "#,##0.00" for c in amounts)
    # Native charts: month vs previous, SLA against target, one per dimension, compensation,
    # satisfaction.
    assert sum(len(ws._charts) for ws in book.worksheets) >= 5
    assert len(sla._charts) == 1 and len(compensation._charts) == 1
    texts = [c.value for c in _cells(book) if isinstance(c.value, str)]
    assert "包装 / 外箱破损" in texts and "B1" in texts
    assert not any(c.data_type == "f" for c in _cells(book))
    assert not any(t.startswith("=") for t in texts)


def test_text_that_looks_like_a_formula_stays_text(app, api):
    made = build(app, api)
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import Case

    with app.app_context():
        db.session.execute(
            sa.update(Case).where(Case.id == made["A"]["id"]).values(batch_no="=1+1")
        )
        db.session.commit()
    book = _book(api, "en")
    cells = _cells(book)
    assert any(c.value == "=1+1" and c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for c in cells)


def test_cli_writes_the_workbook(june, runner, tmp_path):
    out = tmp_path / "june.xlsx"
    args = ["report", "monthly", "--line", "L1", "--month", "2026-06", "-o", str(out)]
    result = runner.invoke(args=[*args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "4 cases" in result.output
    book = openpyxl.load_workbook(out)
    assert book.worksheets[1].title == "SLA attainment"
    bad = runner.invoke(args=[*args, "--lang", "fr"])
    assert bad.exit_code != 0 and "--lang" in bad.output
    bad = runner.invoke(args=["report", "monthly", "--line", "L1", "--month", "13", "-o", str(out)])
    assert bad.exit_code != 0 and "month" in bad.output
    bad = runner.invoke(
        args=["report", "monthly", "--line", "ZZ", "--month", "2026-06", "-o", str(out)]
    )
    assert bad.exit_code != 0 and "business_line" in bad.output


def test_screen_shows_the_figures_links_and_download(june, client):
    from tests.conftest import login

    made, _report = june
    login(client, "supervisor")
    page = client.get("/report/monthly?business_line=L1&month=2026-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") >= 5
    assert f'href="/cases/{made["B"]["id"]}"' in html or f"/{made['B']['id']}" in html
    assert "/report/monthly.xlsx?business_line=L1&amp;month=2026-06" in html
    assert "包装 / 外箱破损" in html and "未分类" in html
    xlsx = client.get("/report/monthly.xlsx?business_line=L1&month=2026-06")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/report/monthly?business_line=L2&month=2026-06").status_code == 404
    bad = client.get("/report/monthly?business_line=L1&month=2026-13")
    assert bad.status_code == 200 and 'data-error="month"' in bad.get_data(as_text=True)
    login(client, "agent")
    assert client.get("/report/monthly").status_code in (302, 403)  # refused
