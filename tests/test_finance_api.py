"""Finance export batches over REST: the files' columns in both languages, no formula anywhere,
re-download, void and re-export, record rules, and bad input (issue 9, section 2)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.contracts import ProposalLine
from core.extensions import db
from core.models import AuditEvent, CompensationLine, ExportBatch, ExportBatchLine
from core.services.access import SYSTEM
from core.services.setup import create_user
from tests.conftest import PASSWORD
from tests.finance_helpers import (
    EN_CREDIT,
    EN_RESHIP,
    ZH_CREDIT,
    ZH_RESHIP,
    approved_case,
    csv_rows,
    direct_lines,
    install_category,
    no_formula,
    rows,
    sheet,
)

EVIL = '=HYPERLINK("http://x","y")'
CUSTOMER = {
    "name": EVIL,
    "kind": "dealer",
    "contact": "+1 王五",
    "phone": "13812345678",
    "address": "@上海市浦东新区张江路 1 号",
}
LINES = [
    ProposalLine(kind="credit_note", amount=Decimal("1234.50"), sku="P-100", note="=1+1"),
    ProposalLine(kind="account_adjustment", amount=Decimal("20.00"), note="-2"),
    ProposalLine(kind="refund", amount=Decimal("5.00"), note="@sum"),
    ProposalLine(kind="freight_to_customer", amount=Decimal("8.00")),
    ProposalLine(kind="charge_responsible_person", amount=Decimal("3.00")),
    ProposalLine.goods("reship", 2, Decimal("5.00"), sku="P-100", batch_no="B1", note="+x"),
    ProposalLine.goods("free_goods", 3, Decimal("0"), sku="P-100"),
]
EXPORT = "/api/v1/finance/export"


@pytest.fixture
def fin(temp_plugin):
    return install_category(temp_plugin)


def export(api, kind, user="finance", lang=None, **extra):
    url = EXPORT + (f"?_l_={lang}" if lang else "")
    return api(user).post(url, json={"kind": kind, "business_line": "L1", **extra})


def created(resp) -> dict:
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["result"]


def download(api, batch, fmt, user="finance"):
    resp = api(user).get(batch["urls"][fmt])
    assert resp.status_code == 200, resp.get_data()[:200]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert batch["number"] in resp.headers["Content-Disposition"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    return resp.get_data()


def test_credit_note_list_in_chinese_then_void_and_reexport_in_english(app, api, fin):
    case = approved_case(api, LINES, CUSTOMER)
    ids = {c["kind"]: c["id"] for c in case["compensation"]}
    approved_on = dt.date.fromisoformat(case["compensation"][0]["approved_at"][:10])

    pending = api("finance").get(
        "/api/v1/finance/pending", query_string={"kind": "credit_notes", "business_line": "L1"}
    )
    assert pending.status_code == 200
    body = pending.get_json()
    assert body["count"] == 4 and body["total"] == "1251.50"  # 1234.50 + 20 + 5 - 8
    assert [c["kind"] for c in body["result"]] == [
        "credit_note",
        "account_adjustment",
        "refund",
        "freight_to_customer",
    ]

    zh = created(export(api, "credit_notes"))
    assert zh["number"].startswith("FX-") and zh["number"].endswith("-0001")
    assert (zh["kind"], zh["business_line"], zh["line_count"], zh["total"]) == (
        "credit_notes",
        "L1",
        4,
        "1251.50",
    )
    assert zh["created_by"] == "finance" and zh["created_at"].endswith("+08:00")
    content = download(api, zh, "xlsx")
    assert hashlib.sha256(content).hexdigest() == zh["xlsx_sha256"]
    assert download(api, zh, "xlsx") == content  # byte-identical on every download

    ws = sheet(content)
    table = rows(ws)
    assert table[0] == ZH_CREDIT
    expected = [
        ["冲销", "P-100", None, None, 1234.5, "=1+1", ids["credit_note"]],
        ["调账", None, None, None, 20.0, "-2", ids["account_adjustment"]],
        ["退款", None, None, None, 5.0, "@sum", ids["refund"]],
        ["运费由客户承担", None, None, None, -8.0, None, ids["freight_to_customer"]],
    ]
    for row, (kind, sku, batch, qty, amount, note, line_id) in zip(
        table[1:5], expected, strict=True
    ):
        assert row[0] == case["number"]
        assert row[1] == EVIL  # text, not a formula
        assert row[2] == "华彩涂料"
        assert row[3] == "fin_claims"
        assert row[4:10] == [kind, sku, batch, qty, None, amount]
        assert row[10] == note
        assert row[11].date() == approved_on
        assert row[12] == "supervisor, rsm"
        assert row[13] == line_id
    assert table[5] == [None] * 14  # a blank row, then the totals as values
    assert table[6][0] == "合计" and table[6][9] == 1251.5
    assert len(table) == 7
    no_formula(ws)
    assert ws["B2"].data_type == "s" and ws["K2"].data_type == "s"
    assert ws["J2"].number_format == "#,##0.00" and ws["J7"].number_format == "#,##0.00"
    assert ws["L2"].is_date and "yy" in ws["L2"].number_format
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:N5"

    text = csv_rows(download(api, zh, "csv"))
    assert text[0] == ZH_CREDIT
    assert text[1][:2] == [case["number"], "'" + EVIL]
    assert text[1][9:11] == ["1234.50", "'=1+1"]
    assert text[2][10] == "'-2" and text[3][10] == "'@sum"
    assert text[4][9] == "-8.00"  # a number keeps its sign
    assert text[1][11] == approved_on.isoformat()
    assert len(text) == 5

    # Everything was taken: a second export finds nothing, and writes nothing.
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    again = export(api, "credit_notes")
    assert again.status_code == 422
    assert again.get_json()["problems"][0]["code"] == "nothing_to_export"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before

    # The case shows the batch on each exported line.
    lines = {
        c["id"]: c
        for c in api("finance")
        .get(f"/api/v1/case/{case['id']}")
        .get_json()["result"]["compensation"]
    }
    assert lines[ids["credit_note"]]["export"]["batch"] == zh["number"]
    assert lines[ids["charge_responsible_person"]]["export"] is None

    voided = api("finance").post(f"{EXPORT}/{zh['id']}/void", json={"reason": "金额有误"})
    assert voided.status_code == 200
    assert voided.get_json()["result"]["void_reason"] == "金额有误"
    assert voided.get_json()["result"]["voided_by"] == "finance"
    twice = api("finance").post(f"{EXPORT}/{zh['id']}/void", json={"reason": "again"})
    assert twice.status_code == 409
    assert download(api, zh, "xlsx") == content  # a void batch keeps its file

    en = created(export(api, "credit_notes", lang="en"))
    assert en["number"].endswith("-0002") and en["line_count"] == 4
    ws = sheet(download(api, en, "xlsx"))
    table = rows(ws)
    assert table[0] == EN_CREDIT
    assert [r[4] for r in table[1:5]] == [
        "Credit note",
        "Account adjustment",
        "Refund",
        "Freight charged to the customer",
    ]
    assert table[1][2] == "华彩涂料" and table[6][0] == "Total"
    assert csv_rows(download(api, en, "csv"))[0] == EN_CREDIT
    no_formula(ws)
    with app.app_context():
        history = db.session.scalars(
            sa.select(ExportBatchLine.batch_id).where(ExportBatchLine.line_id == ids["credit_note"])
        ).all()
        assert sorted(history) == [zh["id"], en["id"]]  # the void batch keeps its history
        events = {
            e.action: e.changes
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.entity == "export_batch")
            )
        }
    assert events["export_voided"]["number"] == zh["number"]
    assert sorted(events["export_voided"]["released"]) == sorted(
        ids[k] for k in ("credit_note", "account_adjustment", "refund", "freight_to_customer")
    )
    assert events["export_created"]["count"] == 4


def test_reshipment_list_shows_the_unmasked_contact_and_is_audited(app, api, fin):
    case = approved_case(api, LINES, CUSTOMER)
    ids = {c["kind"]: c["id"] for c in case["compensation"]}
    # Finance reads a masked phone on the case, and the full one in the reshipment list.
    seen = api("finance").get(f"/api/v1/case/{case['id']}").get_json()["result"]["customer"]
    assert seen["phone"] != "13812345678"

    batch = created(export(api, "reshipments", lang="en"))
    assert batch["line_count"] == 2 and batch["total"] == "10.00"
    ws = sheet(download(api, batch, "xlsx"))
    table = rows(ws)
    assert table[0] == EN_RESHIP
    assert table[1][:10] == [
        case["number"],
        EVIL,
        "+1 王五",
        "13812345678",
        "@上海市浦东新区张江路 1 号",
        "P-100",
        "外墙乳胶漆",
        "B1",
        2,
        "Reshipment",
    ]
    assert table[1][10] == "+x" and table[1][12] == ids["reship"]
    assert table[2][8:10] == [3, "Zero-price free-goods order"]
    assert table[4][0] == "Total" and table[4][8] == 5  # the quantities, as a value
    no_formula(ws)
    for ref in ("B2", "C2", "D2", "E2", "K2"):
        assert ws[ref].data_type == "s", ref
    text = csv_rows(download(api, batch, "csv"))
    assert text[1][1:5] == ["'" + EVIL, "'+1 王五", "13812345678", "'@上海市浦东新区张江路 1 号"]

    with app.app_context():
        events = list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.entity == "export_batch")
                .order_by(AuditEvent.id)
            )
        )
    assert [e.action for e in events] == [
        "export_created",
        "export_downloaded",
        "export_downloaded",
    ]
    assert events[0].changes["contact_data"] is True
    assert sorted(events[0].changes["lines"]) == sorted([ids["reship"], ids["free_goods"]])
    assert events[1].changes["contact_data"] is True and events[1].actor == "finance"

    # The Chinese reshipment list has the Chinese headers and kind labels.
    api("finance").post(f"{EXPORT}/{batch['id']}/void", json={"reason": "重新导出"})
    zh = created(export(api, "reshipments"))
    table = rows(sheet(download(api, zh, "xlsx")))
    assert table[0] == ZH_RESHIP
    assert [r[9] for r in table[1:3]] == ["补发", "免费订货单（单价为零）"]
    assert table[4][0] == "合计"


def test_done_cancelled_and_unapproved_lines_are_not_exported(app, api, fin):
    case = approved_case(api, LINES[:2])
    done, waiting = (c["id"] for c in case["compensation"])
    resp = api("finance").post(
        f"/api/v1/case/{case['id']}/compensation/{done}/done", json={"reference": "CN-1"}
    )
    assert resp.status_code == 200
    api("agent").create_case(category="fin_claims", batch_no="F-NOT-APPROVED")
    batch = created(export(api, "credit_notes"))
    assert batch["line_count"] == 1 and batch["total"] == "20.00"
    assert rows(sheet(download(api, batch, "xlsx")))[1][13] == waiting
    # A line in a batch cannot be cancelled; after the void it can.
    url = f"/api/v1/case/{case['id']}/compensation/{waiting}/cancel"
    assert api("supervisor").post(url, json={"reason": "客户放弃"}).status_code == 409
    api("finance").post(f"{EXPORT}/{batch['id']}/void", json={"reason": "撤回"})
    assert api("supervisor").post(url, json={"reason": "客户放弃"}).status_code == 200
    assert export(api, "credit_notes").status_code == 422


def test_approved_period_is_inclusive_in_the_line_time_zone(app, api):
    # 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Shanghai.
    late = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
    early = dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.UTC)  # 23:59 on 30 Nov
    (dec,) = direct_lines(app, 1, approved_at=late)
    (nov,) = direct_lines(app, 1, approved_at=early, amount="7.00")

    def pending(**period):
        query = {"kind": "credit_notes", "business_line": "L1", **period}
        resp = api("finance").get("/api/v1/finance/pending", query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return [line["id"] for line in resp.get_json()["result"]]

    assert pending(approved_from="2026-12-01") == [dec]
    assert pending(approved_to="2026-11-30") == [nov]
    assert sorted(pending(approved_from="2026-11-30", approved_to="2026-12-01")) == sorted(
        [dec, nov]
    )
    assert pending(approved_from="2026-12-02") == []
    batch = created(export(api, "credit_notes", approved_to="2026-11-30"))
    assert (batch["line_count"], batch["approved_to"], batch["approved_from"]) == (
        1,
        "2026-11-30",
        None,
    )
    assert pending() == [dec]


def test_bad_input_is_a_400_naming_the_field(app, api):
    direct_lines(app, 1)
    cases = [
        ({"kind": "invoices", "business_line": "L1"}, "kind"),
        ({"business_line": "L1"}, "kind"),
        ({"kind": "credit_notes"}, "business_line"),
        ({"kind": "credit_notes", "business_line": "NOPE"}, "business_line"),
        ({"kind": "credit_notes", "business_line": 7}, "business_line"),
        ({"kind": "credit_notes", "business_line": "L1", "approved_from": "2026-13-01"}, None),
        ({"kind": "credit_notes", "business_line": "L1", "approved_to": "1.12.2026"}, None),
        ({"kind": "credit_notes", "business_line": "L1", "approved_from": 20261201}, None),
        (
            {
                "kind": "credit_notes",
                "business_line": "L1",
                "approved_from": "2026-12-02",
                "approved_to": "2026-12-01",
            },
            "approved_to",
        ),
        ({"kind": "credit_notes", "business_line": "L1", "total": "1"}, "total"),
    ]
    for body, field in cases:
        resp = api("finance").post(EXPORT, json=body)
        assert resp.status_code == 400, (body, resp.get_json())
        errors = resp.get_json()["errors"]
        expected = field or next(k for k in ("approved_from", "approved_to") if k in body)
        assert expected in errors, (body, errors)
    assert api("finance").post(EXPORT, data="x").status_code == 400
    resp = api("finance").get("/api/v1/finance/pending", query_string={"kind": "x"})
    assert resp.status_code == 400 and "kind" in resp.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch)) == 0
    batch = created(export(api, "credit_notes"))
    void = f"{EXPORT}/{batch['id']}/void"
    for body in ({}, {"reason": "  "}, {"reason": 5}, {"reason": "x" * 5001}, {"why": "x"}):
        resp = api("finance").post(void, json=body)
        assert resp.status_code == 400, body
        assert set(resp.get_json()["errors"]) & {"reason", "why"}, body
    assert api("finance").get(f"{EXPORT}/{batch['id']}/pdf").status_code == 404
    assert api("finance").post(void, json={"reason": "x" * 5000}).status_code == 200


def test_finance_of_one_line_never_sees_another_lines_lines_or_batches(app, api):
    with app.app_context():
        create_user(SYSTEM, username="finance2", password=PASSWORD, roles=["Finance"], lines=["L2"])
    mine = direct_lines(app, 2)
    theirs = direct_lines(app, 3, code="L2")
    query = {"kind": "credit_notes", "business_line": "L1"}
    resp = api("finance").get("/api/v1/finance/pending", query_string=query)
    assert [line["id"] for line in resp.get_json()["result"]] == mine
    for user, code in (("finance", "L2"), ("finance2", "L1")):
        resp = api(user).get(
            "/api/v1/finance/pending", query_string={**query, "business_line": code}
        )
        assert resp.status_code == 403 and "business_line" in resp.get_json()["errors"]
        resp = api(user).post(EXPORT, json={"kind": "credit_notes", "business_line": code})
        assert resp.status_code == 403 and "business_line" in resp.get_json()["errors"]
        resp = api(user).get(EXPORT + "/", query_string={"business_line": code})
        assert resp.status_code == 403
    b1 = created(export(api, "credit_notes"))
    b2 = created(api("finance2").post(EXPORT, json={"kind": "credit_notes", "business_line": "L2"}))
    assert (b1["line_count"], b2["line_count"]) == (2, 3)
    assert [b["number"] for b in api("finance").get(EXPORT + "/").get_json()["result"]] == [
        b1["number"]
    ]
    assert [b["number"] for b in api("finance2").get(EXPORT + "/").get_json()["result"]] == [
        b2["number"]
    ]
    admin = api("admin").get(EXPORT + "/").get_json()["result"]
    assert {b["number"] for b in admin} == {b1["number"], b2["number"]}
    for user, other in (("finance", b2), ("finance2", b1)):
        for url in (f"{EXPORT}/{other['id']}", other["urls"]["xlsx"], other["urls"]["csv"]):
            assert api(user).get(url).status_code == 404, (user, url)
        resp = api(user).post(f"{EXPORT}/{other['id']}/void", json={"reason": "x"})
        assert resp.status_code == 404
    with app.app_context():
        taken = dict(
            db.session.execute(
                sa.select(CompensationLine.id, CompensationLine.batch_id).where(
                    CompensationLine.id.in_(mine + theirs)
                )
            ).all()
        )
    assert {taken[i] for i in mine} == {b1["id"]} and {taken[i] for i in theirs} == {b2["id"]}


def test_other_roles_get_403_on_every_route(app, api):
    direct_lines(app, 1)
    batch = created(export(api, "credit_notes", user="admin"))
    calls = [
        ("get", "/api/v1/finance/pending?kind=credit_notes&business_line=L1", None),
        ("post", EXPORT, {"kind": "credit_notes", "business_line": "L1"}),
        ("get", EXPORT + "/", None),
        ("get", f"{EXPORT}/{batch['id']}", None),
        ("get", batch["urls"]["xlsx"], None),
        ("get", batch["urls"]["csv"], None),
        ("post", f"{EXPORT}/{batch['id']}/void", {"reason": "x"}),
    ]
    for user in ("agent", "supervisor", "qa", "sales", "manager", "auditor"):
        for method, url, body in calls:
            kw = {"json": body} if body is not None else {}
            resp = getattr(api(user), method)(url, **kw)
            assert resp.status_code == 403, (user, url, resp.status_code)
    assert api("finance").get(f"{EXPORT}/{batch['id']}").status_code == 200
