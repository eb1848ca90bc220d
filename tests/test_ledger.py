"""The ledger (台帐, issue 11 item 1): its rows, filters at their boundaries, record rules,
masking and a constant number of statements per page, through the API and the screen."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import sqlalchemy as sa

from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import (
    Case,
    CaseDeadline,
    CaseVisit,
    CompensationLine,
    Department,
    RootCause,
)
from tests.conftest import keep_next_deadlines, signed_in
from tests.test_sql_counts import add_cases, counting

ROW = re.compile(r'<tr data-case="([^"]+)">')


def register(api, user="agent", **kw) -> dict:
    return api(user).create_case(**kw)


def ledger(api, user: str, query: str = "") -> dict:
    resp = api(user).get("/api/v1/ledger/?page_size=500&" + query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def numbers(api, user: str, query: str = "") -> set[str]:
    return {r["number"] for r in ledger(api, user, query)["result"]}


def enrich(app, case_id: int) -> None:
    """Give a case what the ledger reports on: a catalogue root cause, a department, a closed
    status verified effective, compensation lines (one cancelled), SLA rows in every state,
    two return visits and an archive date. Test setup written straight into the tables."""
    now = utcnow()
    with app.app_context(), write_transaction():
        case = db.session.get(Case, case_id)
        parent = RootCause(business_line_id=case.business_line_id, code="t.material", name="原材料")
        db.session.add(parent)
        db.session.flush()
        child = RootCause(
            business_line_id=case.business_line_id,
            parent_id=parent.id,
            code="t.material.batch",
            name="批次不合格",
        )
        db.session.add(child)
        db.session.flush()
        case.root_cause_id = child.id
        case.root_cause = "供应商树脂批次粘度偏高"
        case.department_id = db.session.scalar(
            sa.select(Department.id).where(Department.code == "QA")
        )
        case.status = "closed"
        case.verified_effective = True
        case.stage_times = {"closed": "2026-11-30T16:30:00+00:00"}  # 12-01 00:30 in Shanghai
        case.archived_at = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
        approved = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)  # 11-21 01:00 local
        for pos, (kind, amount, status) in enumerate(
            (
                ("credit_note", "100.50", "done"),
                ("credit_note", "20.00", "pending"),
                ("credit_note", "999.00", "cancelled"),
                ("freight_to_customer", "15.00", "pending"),
            )
        ):
            db.session.add(
                CompensationLine(
                    case_id=case_id,
                    position=pos,
                    kind=kind,
                    amount=Decimal(amount),
                    exec_status=status,
                    approved_at=approved,
                )
            )
        rows = {
            d.name: d
            for d in db.session.scalars(
                sa.select(CaseDeadline).where(CaseDeadline.case_id == case_id)
            )
        }
        hour = dt.timedelta(hours=1)
        states = {
            "registered": ("met", now - 2 * hour, now - 3 * hour),  # met on time
            "solution": ("met", now - 3 * hour, now - 2 * hour),  # met late
            "compensation_done": ("running", now + hour, None),  # still within
            "closed": ("running", now - hour, None),  # open past due
        }
        for name, (state, due, met) in states.items():
            row = rows[name]
            row.state, row.due_at, row.met_at = state, due, met
        for day, score in ((3, 2), (5, 4)):  # the later visit's score is the one shown
            db.session.add(
                CaseVisit(
                    case_id=case_id,
                    visited_at=dt.datetime(2026, 12, day, 2, 0, tzinfo=dt.UTC),
                    channel="phone",
                    satisfaction=score,
                )
            )
        db.session.flush()
        keep_next_deadlines()


def test_a_row_carries_every_key_field_and_outcome(app, api):
    case = register(api, description="漏液", claim_amount="1234.50", demand="compensation")
    enrich(app, case["id"])
    row = next(r for r in ledger(api, "supervisor")["result"] if r["id"] == case["id"])
    assert row["number"] == case["number"]
    assert row["business_line"] == "L1" and row["business_line_name"] == "华彩涂料"
    assert row["customer"] == "上海经销商" and row["phone"] == "13812345678"
    assert row["product"] == "外墙乳胶漆" and row["batch_no"] == "B20261101"
    assert row["claim_amount"] == "1234.50" and row["demand"] == "compensation"
    assert row["root_cause"] == "原材料 / 批次不合格"
    assert row["root_cause_text"] == "供应商树脂批次粘度偏高"
    assert row["department"] == "品保课"
    assert row["status"] == "closed" and row["outcome"] == "effective"
    # an archived case stays in the ledger
    assert row["archived"] is True and row["archived_on"] == "2026-12-02"
    # compensation by kind: the cancelled line left out; a charge is its own kind
    assert row["compensation"]["credit_note"] == "120.50"
    assert row["compensation"]["freight_to_customer"] == "15.00"
    assert row["compensation"]["reship"] is None
    # dates in the line's local days (Asia/Shanghai)
    assert row["approved_on"] == "2026-11-21" and row["closed_on"] == "2026-12-01"
    assert row["sla"] == {
        "registered": "met",
        "solution": "missed",
        "compensation_done": "pending",
        "closed": "missed",
    }
    assert row["satisfaction"] == 4


def test_period_takes_whole_line_local_days(app, api):
    inside = [
        register(api, received_at="2026-11-01T00:00:00+08:00"),
        register(api, received_at="2026-11-30T23:59:00+08:00"),
    ]
    outside = [
        register(api, received_at="2026-10-31T23:59:00+08:00"),
        register(api, received_at="2026-12-01T00:00:00+08:00"),
    ]
    got = numbers(api, "qa", "from=2026-11-01&to=2026-11-30")
    assert {c["number"] for c in inside} <= got
    assert not {c["number"] for c in outside} & got
    assert numbers(api, "qa", "from=2026-12-01") >= {outside[1]["number"]}
    assert inside[1]["number"] not in numbers(api, "qa", "from=2026-12-01")
    assert numbers(api, "qa", "to=2026-10-31") == {outside[0]["number"]}


def test_each_filter_selects_its_cases(app, api):
    a = register(api, batch_no="LB-1", customer={"name": "杭州新客户", "kind": "dealer"})
    b = register(api, batch_no="LB-2")
    with app.app_context(), write_transaction():
        case = db.session.get(Case, b["id"])
        case.category = "product_quality"
        case.department_id = db.session.scalar(
            sa.select(Department.id).where(Department.code == "WH")
        )
    assert numbers(api, "qa", "batch=LB-1") == {a["number"]}
    assert numbers(api, "qa", "customer=新客") == {a["number"]}
    assert numbers(api, "qa", "category=product_quality") == {b["number"]}
    assert numbers(api, "qa", "department=WH") == {b["number"]}
    assert numbers(api, "qa", "product=P-100") == {a["number"], b["number"]}
    assert numbers(api, "qa", "status=closed") == set()
    assert numbers(api, "qa", "status=new&business_line=L1") == {a["number"], b["number"]}


def test_bad_filter_values_are_400_naming_the_field(app, api):
    for query, field in (
        ("business_line=L2", "business_line"),  # a line the reader does not belong to
        ("business_line=NOPE", "business_line"),
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-02&to=2026-11-01", "to"),
        ("category=nothing", "category"),
        ("status=done", "status"),
        ("product=B-200", "product"),  # another line's product
        ("department=XX", "department"),
        ("customer=" + "x" * 500, "customer"),
        ("page=0", "page"),
        ("page_size=501", "page_size"),
        ("page=abc", "page"),
    ):
        resp = api("qa").get("/api/v1/ledger/?" + query)
        assert resp.status_code == 400, (query, resp.status_code)
        assert field in resp.get_json()["errors"], (query, resp.get_json())
        export = api("qa").get("/api/v1/ledger/xlsx?" + query)
        if field not in ("page", "page_size"):
            assert export.status_code == 400, query
    screen = signed_in(app, "qa").get("/ledger/?from=2026-13-01")
    assert screen.status_code == 400
    assert '<code class="kesu-bad-field">from</code>' in screen.get_data(as_text=True)


def test_record_rules_and_roles(app, api):
    own = register(api)
    foreign = register(
        api, "agent2", business_line="L2", customer={"name": "成都经销商"}, product="B-200"
    )
    assert own["number"] in numbers(api, "qa")
    assert foreign["number"] not in numbers(api, "qa")
    assert numbers(api, "supervisor2") == {foreign["number"]}
    assert {own["number"], foreign["number"]} <= numbers(api, "admin")
    assert api("sales").get("/api/v1/ledger/").status_code == 403  # no ledger permission
    assert api("dept").get("/api/v1/ledger/xlsx").status_code == 403
    page = signed_in(app, "qa").get("/ledger/").get_data(as_text=True)
    assert own["number"] in ROW.findall(page) and foreign["number"] not in page


def test_contact_is_masked_for_roles_without_contact(app, api):
    case = register(api)
    qa_row = ledger(api, "qa")["result"][0]  # QA may not view contact details
    assert qa_row["phone"] == "138****5678"
    assert ledger(api, "agent")["result"][0]["phone"] == "13812345678"
    page = signed_in(app, "manager").get("/ledger/").get_data(as_text=True)
    assert case["number"] in page and "138****5678" in page and "13812345678" not in page


def test_paging_counts_every_case(app, api):
    made = [register(api)["number"] for _ in range(5)]
    seen = []
    for page in (1, 2, 3):
        body = api("qa").get(f"/api/v1/ledger/?page={page}&page_size=2").get_json()
        assert body["count"] == 5 and body["page"] == page
        seen += [r["number"] for r in body["result"]]
    assert sorted(seen) == sorted(made)


def test_a_page_is_read_in_a_fixed_number_of_statements(app, api):
    register(api)
    client = signed_in(app, "qa")
    sizes = []
    for extra in (3, 120):
        add_cases(app, extra)
        with app.app_context():
            case_ids = list(db.session.scalars(sa.select(Case.id)))
            with write_transaction():
                for cid in case_ids:
                    db.session.add(
                        CaseVisit(case_id=cid, visited_at=utcnow(), channel="phone", satisfaction=5)
                    )
        for url in ("/api/v1/ledger/?page_size=500", "/ledger/"):
            headers = api("qa").headers if url.startswith("/api") else {}
            getter = api("qa").client if headers else client
            getter.get(url, headers=headers)  # fill the per-process caches
            with counting(app) as seen:
                resp = getter.get(url, headers=headers)
            assert resp.status_code == 200
            sizes.append(len(seen))
    assert sizes[0] == sizes[2] and sizes[1] == sizes[3], sizes
