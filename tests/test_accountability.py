"""Accountability (考核, issue 11 item 5): every figure per department and per person on a
constructed June of line L1, the deadline boundary, corrective actions from the QA loop, the
record rules, the workbook, the CLI and the screen.

Cases (line L1, Asia/Shanghai), registered through the API then given their history directly:

====  ===============  ==========  =======  ===============================  ====================
case  received         department  handler  root cause                        liable
====  ===============  ==========  =======  ===============================  ====================
A     06-01 00:00      QA 品保课    qa       原材料 / 批次不合格               yes
B     06-30 23:59      QA          qa       原材料 / 批次不合格 (a repeat)    yes
C     06-10 09:00      WH 仓储部    dept     客户原因 / 使用不当 (customer)    no
D     06-11 09:00      WH          dept     text only, no entry              yes
E     06-12 09:00      —           —        —                                (nobody's)
F     07-01 00:00      QA          qa       (July: outside the period)
====  ===============  ==========  =======  ===============================  ====================
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import (
    BusinessLine,
    Case,
    CaseDeadline,
    CompensationLine,
    Department,
    KesuUser,
    RootCause,
)
from tests.conftest import keep_next_deadlines, login
from tests.plugin_helpers import act, to_investigating
from tests.report_helpers import FUTURE, local

URL = "/api/v1/report/accountability?business_line=L1&from=2026-06-01&to=2026-06-30"
RECEIVED = {
    "A": "2026-06-01T00:00:00",
    "B": "2026-06-30T23:59:00",
    "C": "2026-06-10T09:00:00",
    "D": "2026-06-11T09:00:00",
    "E": "2026-06-12T09:00:00",
    "F": "2026-07-01T00:00:00",
}
# (case, name, state, due, met): A's investigation met a minute late, its solution at the very
# minute (on time); B's proposal still open past due; D's solution met late; C's reply missed
# (not a deadline of the department's stages); the rest pending far ahead.
DEADLINES = [
    ("A", "investigation", "met", "2026-06-05T18:00", "2026-06-05T18:01"),
    ("A", "solution", "met", "2026-06-08T18:00", "2026-06-08T18:00"),
    ("B", "proposal", "running", "2026-07-03T18:00", None),
    ("B", "solution", "running", None, None),
    ("C", "reply", "met", "2026-06-11T18:00", "2026-06-12T09:00"),
    ("C", "investigation", "met", "2026-06-15T18:00", "2026-06-12T09:00"),
    ("D", "solution", "met", "2026-06-16T18:00", "2026-06-17T09:00"),
    ("E", "investigation", "running", "2026-06-15T18:00", None),
    ("F", "investigation", "met", "2026-07-05T18:00", "2026-07-09T09:00"),
]
# (case, kind, amount, approved, execution status, note)
LINES = [
    ("A", "credit_note", "100.00", True, "done", None),
    ("A", "reship", "50.00", True, "pending", None),
    ("A", "refund", "999.00", True, "cancelled", None),  # cancelled: left out
    ("A", "credit_note", "30.00", False, "pending", None),  # not approved: left out
    ("A", "freight_to_customer", "20.00", True, "pending", None),  # a charge, not a loss
    ("B", "charge_responsible_person", "80.00", True, "pending", " dept "),  # a user
    ("B", "charge_responsible_person", "25.50", True, "pending", "王五"),  # a name only
    ("B", "charge_responsible_person", "9.00", True, "cancelled", "王五"),
    ("C", "credit_note", "60.00", True, "done", None),  # not liable: left out
    ("D", "refund", "40.00", True, "pending", None),
    ("F", "credit_note", "7000.00", True, "pending", None),  # July
]
NOW = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)


def _user_id(username: str) -> int:
    return db.session.scalar(sa.select(KesuUser.id).where(KesuUser.username == username))


def _build(app, api) -> dict[str, int]:
    ids = {
        letter: api("agent").create_case(
            received_at=received, customer={"name": f"考核客户{letter}", "kind": "dealer"}
        )["id"]
        for letter, received in RECEIVED.items()
    }
    with app.app_context():
        l1 = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        entries = {}
        for key, code, name, parent in (
            ("material", "t.material", "原材料", None),
            ("batch", "t.material.batch", "批次不合格", "material"),
            ("customer", "customer", "客户原因", None),
            ("misuse", "customer.misuse", "使用不当", "customer"),
        ):
            if code.startswith("customer"):  # the seeded catalogue may hold it already
                found = db.session.scalar(
                    sa.select(RootCause).where(
                        RootCause.business_line_id == l1.id, RootCause.code == code
                    )
                )
                if found is not None:
                    entries[key] = found
                    continue
            entry = RootCause(
                business_line_id=l1.id,
                code=code,
                name=name,
                parent_id=entries[parent].id if parent else None,
            )
            db.session.add(entry)
            db.session.flush()
            entries[key] = entry
        qa = db.session.scalar(sa.select(Department.id).where(Department.code == "QA"))
        wh = db.session.scalar(sa.select(Department.id).where(Department.code == "WH"))
        handler = {"qa": _user_id("qa"), "dept": _user_id("dept")}
        batch = entries["batch"].id
        changes = {
            "A": dict(department_id=qa, handler_id=handler["qa"], root_cause_id=batch),
            "B": dict(department_id=qa, handler_id=handler["qa"], root_cause_id=batch),
            "C": dict(
                department_id=wh, handler_id=handler["dept"], root_cause_id=entries["misuse"].id
            ),
            "D": dict(department_id=wh, handler_id=handler["dept"], root_cause="漏装"),
            "F": dict(department_id=qa, handler_id=handler["qa"], root_cause_id=batch),
        }
        for letter, values in changes.items():
            db.session.execute(sa.update(Case).where(Case.id == ids[letter]).values(**values))
        db.session.execute(sa.delete(CaseDeadline).where(CaseDeadline.case_id.in_(ids.values())))
        for letter, name, state, due, met in DEADLINES:
            db.session.add(
                CaseDeadline(
                    case_id=ids[letter],
                    business_line_id=l1.id,
                    name=name,
                    state=state,
                    due_at=local(due) if due else FUTURE,
                    met_at=local(met) if met else None,
                )
            )
        for position, (letter, kind, amount, approved, status, note) in enumerate(LINES):
            db.session.add(
                CompensationLine(
                    case_id=ids[letter],
                    position=position,
                    kind=kind,
                    amount=Decimal(amount),
                    approved_at=local("2026-06-20T10:00") if approved else None,
                    exec_status=status,
                    note=note,
                )
            )
        keep_next_deadlines()
        db.session.commit()
    return ids


def _report(app, username="supervisor", now=NOW, line="L1", first="2026-06-01", last="2026-06-30"):
    from core.services import accountability

    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        return accountability.report(user, line, first, last, now=now)


def _money(**amounts) -> dict[str, float]:
    from core.services.accountability import KINDS

    return {kind: amounts.get(kind, 0.0) for kind in KINDS}


@pytest.fixture
def june(app, api):
    return _build(app, api)


def test_every_figure_per_department_and_person(app, api, june):
    report = _report(app)
    assert report["deadlines"] == ["investigation", "solution", "proposal"]
    departments = {row["code"]: row for row in report["departments"]}
    assert set(departments) == {"QA", "WH"}  # E has no department: nobody's
    qa, wh = departments["QA"], departments["WH"]
    assert (qa["name"], qa["cases"], qa["liable"]) == ("品保课", 2, 2)
    # C's root cause is the customer's own fault; D's is recorded as text only: liable.
    assert (wh["name"], wh["cases"], wh["liable"]) == ("仓储部", 2, 1)
    assert qa["compensation"] == _money(credit_note=100.0, reship=50.0)
    assert qa["compensation_total"] == 150.0
    assert wh["compensation"] == _money(refund=40.0) and wh["compensation_total"] == 40.0
    # A's investigation (a minute late) and B's proposal (open past due); A's solution met at
    # the due minute is on time. D's solution met late; C's missed reply does not count.
    assert (qa["deadlines_missed"], wh["deadlines_missed"]) == (2, 1)
    assert qa["repeats"] == 1
    assert qa["repeat_root_causes"] == [
        {"id": qa["repeat_root_causes"][0]["id"], "label": "原材料 / 批次不合格", "cases": 2}
    ]
    assert (wh["repeats"], wh["repeat_root_causes"]) == (0, [])
    assert (qa["capa_overdue"], qa["capa_ineffective"]) == (0, 0)

    people = {row["name"]: row for row in report["people"]}
    assert set(people) == {"qa", "dept", "王五"}
    qa_p, dept_p, wang = people["qa"], people["dept"], people["王五"]
    with app.app_context():
        assert (qa_p["user_id"], dept_p["user_id"]) == (_user_id("qa"), _user_id("dept"))
    assert (qa_p["department"], qa_p["cases"], qa_p["liable"]) == ("品保课", 2, 2)
    assert qa_p["compensation"] == _money(credit_note=100.0, reship=50.0)
    assert (qa_p["charged"], qa_p["deadlines_missed"], qa_p["repeats"]) == (0.0, 2, 1)
    assert (dept_p["cases"], dept_p["liable"], dept_p["compensation_total"]) == (2, 1, 40.0)
    # The cost charged on B names "dept" (a username): it lands on that person's row.
    assert (dept_p["charged"], dept_p["charged_cases"], dept_p["deadlines_missed"]) == (80.0, 1, 1)
    # An unmatched name is a row of its own; its cancelled charge is left out.
    assert (wang["user_id"], wang["cases"], wang["charged"], wang["charged_cases"]) == (
        None,
        0,
        25.5,
        1,
    )


def test_the_rest_api_gives_the_same_figures(app, api, june):
    resp = api("finance").get(URL)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["business_line"], body["from"], body["to"]) == ("L1", "2026-06-01", "2026-06-30")
    assert [(r["code"], r["cases"], r["liable"]) for r in body["departments"]] == [
        ("QA", 2, 2),
        ("WH", 2, 1),
    ]
    # Every line the reader sees when none is given (L1 only for finance).
    every = api("finance").get("/api/v1/report/accountability?from=2026-06-01&to=2026-06-30")
    assert every.status_code == 200
    assert every.get_json()["lines"] == ["L1"] and every.get_json()["business_line"] is None
    assert every.get_json()["departments"] == body["departments"]


@pytest.mark.parametrize(
    ("now", "missed"),
    [("2026-07-03T18:00", 1), ("2026-07-03T18:01", 2)],  # B's proposal falls due 07-03 18:00
)
def test_an_open_deadline_is_missed_only_once_past_its_due_minute(app, api, june, now, missed):
    [qa] = [r for r in _report(app, now=local(now))["departments"] if r["code"] == "QA"]
    assert qa["deadlines_missed"] == missed


def test_the_period_is_the_lines_local_days(app, api, june):
    # B (06-30 23:59) is June; F (07-01 00:00 local) is July.
    july = {
        r["code"]: r for r in _report(app, first="2026-07-01", last="2026-07-31")["departments"]
    }
    assert (july["QA"]["cases"], july["QA"]["compensation"]["credit_note"]) == (1, 7000.0)
    assert july["QA"]["deadlines_missed"] == 1 and "WH" not in july
    first_day = _report(app, first="2026-06-01", last="2026-06-01")["departments"]
    assert [(r["code"], r["cases"]) for r in first_day] == [("QA", 1)]


def test_record_rules_and_bad_input(app, api, june):
    # A reader of L2 sees nothing of L1: naming it is a 400, and its own lines have no case.
    foreign = api("supervisor2").get(URL)
    assert foreign.status_code == 400 and "business_line" in foreign.get_json()["errors"]
    own = api("supervisor2").get("/api/v1/report/accountability?from=2026-06-01&to=2026-06-30")
    assert own.status_code == 200
    assert own.get_json()["lines"] == ["L2"]
    assert own.get_json()["departments"] == own.get_json()["people"] == []
    unknown = api("supervisor").get(URL.replace("L1", "NOPE"))
    assert unknown.status_code == 400 and "business_line" in unknown.get_json()["errors"]
    for username in ("agent", "dept", "sales"):  # roles without the Report permission
        assert api(username).get(URL).status_code == 403
        assert (
            api(username).get(URL.replace("accountability", "accountability.xlsx")).status_code
            == 403
        )
    for query, field in (
        ("from=2026-13-01&to=2026-06-30", "from"),
        ("from=2026-06-01", "to"),
        ("from=2026-06-30&to=2026-06-01", "to"),
        ("from=1999-01-01&to=2026-06-01", "from"),
    ):
        for path in ("accountability", "accountability.xlsx"):
            resp = api("supervisor").get(f"/api/v1/report/{path}?business_line=L1&{query}")
            assert resp.status_code == 400 and field in resp.get_json()["errors"], query


def _book(api, lang):
    resp = api("supervisor").get(
        URL.replace("accountability", "accountability.xlsx") + f"&_l_={lang}"
    )
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(resp.data))


@pytest.mark.parametrize(
    ("lang", "sheets", "first", "person"),
    [
        ("zh_CN", ["部门", "人员"], ["责任部门", "分派案件数", "判定有责"], "向责任人追偿（元）"),
        (
            "en",
            ["Departments", "People"],
            ["Responsible department", "Cases assigned", "Found liable"],
            "Cost charged to the person (CNY)",
        ),
    ],
)
def test_workbook_two_sheets_in_both_languages_no_formula(api, june, lang, sheets, first, person):
    book = _book(api, lang)
    assert book.sheetnames == sheets
    departments, people = book.worksheets
    headers = [c.value for c in departments[1]]
    assert headers[:3] == first
    rows = {row[0].value: row for row in departments.iter_rows(min_row=2)}
    assert set(rows) == {"品保课", "仓储部"}
    qa = rows["品保课"]
    assert (qa[1].value, qa[2].value) == (2, 2)
    total = qa[3 + len(_money())]
    assert total.value == 150 and total.number_format == "#,##0.00"
    assert "原材料 / 批次不合格 ×2" in [c.value for c in qa]
    person_headers = [c.value for c in people[1]]
    charged = person_headers.index(person)
    values = {row[0].value: row[charged] for row in people.iter_rows(min_row=2)}
    assert values["dept"].value == 80 and values["王五"].value == 25.5
    assert values["dept"].number_format == "#,##0.00"
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)


def test_a_name_that_looks_like_a_formula_stays_text(app, api, june):
    with app.app_context():
        db.session.execute(
            sa.update(CompensationLine)
            .where(CompensationLine.note == "王五")
            .values(note="=HYPERLINK(1)")
        )
        db.session.commit()
    cells = [c for ws in _book(api, "en").worksheets for row in ws.iter_rows() for c in row]
    assert any(c.value == "=HYPERLINK(1)" and c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for c in cells)


def test_cli_writes_the_workbook(june, runner, tmp_path):
    out = tmp_path / "june.xlsx"
    args = ["report", "accountability", "--line", "L1", "--from", "2026-06-01"]
    result = runner.invoke(args=[*args, "--to", "2026-06-30", "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2 departments, 3 people" in result.output
    assert openpyxl.load_workbook(out).sheetnames == ["Departments", "People"]
    bad = runner.invoke(args=[*args, "--to", "2026-05-01", "-o", str(out)])
    assert bad.exit_code != 0 and "to" in bad.output
    bad = runner.invoke(
        args=["report", "accountability", "--line", "ZZ", "--from", "2026-06-01"]
        + ["--to", "2026-06-30", "-o", str(out)]
    )
    assert bad.exit_code != 0 and "business_line" in bad.output


def test_screen_shows_both_tables_links_and_download(app, api, june, client):
    login(client, "supervisor")
    page = client.get("/report/accountability?business_line=L1&from=2026-06-01&to=2026-06-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="kesu-accountability-departments"' in html
    assert 'id="kesu-accountability-people"' in html
    assert "品保课" in html and "王五" in html and "原材料 / 批次不合格 ×2" in html
    assert "调查完成、" in html  # the deadlines counted, in Chinese
    assert "/ledger/?business_line=L1&amp;department=QA" in html
    assert "/report/accountability.xlsx?business_line=L1" in html
    xlsx = client.get("/report/accountability.xlsx?business_line=L1&from=2026-06-01&to=2026-06-30")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    bad = client.get("/report/accountability?business_line=L1&from=2026-06-01&to=2026-05-01")
    assert bad.status_code == 200 and 'data-error="to"' in bad.get_data(as_text=True)
    assert client.get("/report/accountability?business_line=L2").status_code == 400
    login(client, "agent")
    assert client.get("/report/accountability").status_code in (302, 403)
    assert 'href="/report/accountability"' not in client.get("/cases/").get_data(as_text=True)


@pytest.mark.parametrize("username", ["supervisor", "finance", "auditor", "manager", "qa"])
def test_the_menu_offers_accountability_under_reports(client, username):
    login(client, username)
    html = client.get("/report/accountability").get_data(as_text=True)
    assert 'href="/report/accountability"' in html and "考核" in html


def test_corrective_actions_overdue_and_found_not_effective(app, api):
    """Two product-quality cases of QA through the QA loop: one action left open past its due
    day, one carried out and found not effective."""
    today = dt.date.today()
    due = (today + dt.timedelta(days=3)).isoformat()
    body = {"kind": "corrective", "description": "更换筛网", "responsible_unit": "生产部"}
    opened = api("agent").create_case(
        category="product_quality",
        demand="improvement",
        details={"problem": "quality_defect", "remedy": "explain"},
    )["id"]
    failed = api("agent").create_case(
        category="product_quality",
        demand="improvement",
        details={"problem": "quality_defect", "remedy": "explain"},
    )["id"]
    for cid in (opened, failed):
        to_investigating(api, cid, department="QA")
        resp = api("qa").post(f"/api/v1/quality/{cid}/actions", json={**body, "due_date": due})
        assert resp.status_code == 201, resp.get_json()
    action = api("qa").get(f"/api/v1/quality/{failed}/actions").get_json()["result"][0]["id"]
    done = api("qa").post(
        f"/api/v1/quality/{failed}/actions/{action}/done", json={"note": "已更换"}
    )
    assert done.status_code == 200
    analysis = {"root_cause": "原料杂质", "responsible_unit": "生产部"}
    assert api("qa").post(f"/api/v1/quality/{failed}/analysis", json=analysis).status_code == 200
    act(api, failed, "qa", "propose")
    act(api, failed, "agent", "submit")
    act(api, failed, "agent", "confirm")
    act(api, failed, "qa", "verify", effective=False, comment="仍有颗粒")

    first, last = (today - dt.timedelta(days=2)).isoformat(), (today + dt.timedelta(2)).isoformat()
    later = dt.datetime.combine(today + dt.timedelta(days=10), dt.time(12), dt.UTC)
    rows = _report(app, now=later, first=first, last=last)["departments"]
    [qa] = [r for r in rows if r["code"] == "QA"]
    assert (qa["capa_overdue"], qa["capa_ineffective"]) == (1, 1)
    # Before the due day has passed nothing is overdue.
    rows = _report(app, first=first, last=last)["departments"]
    assert [(r["capa_overdue"], r["capa_ineffective"]) for r in rows if r["code"] == "QA"] == [
        (0, 1)
    ]


def test_a_fixed_number_of_queries_whatever_the_number_of_cases(app, api, june):
    """More cases, departments' compensation and deadlines do not add a query."""

    def count() -> int:
        statements = []

        def record(*_args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            _report(app)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    before = count()
    with app.app_context():
        for letter in ("A", "D"):
            source = db.session.get(Case, june[letter])
            for n in range(3):
                copy = api("agent").create_case(
                    received_at="2026-06-20T10:00:00",
                    customer={"name": f"考核客户{letter}{n}", "kind": "dealer"},
                )
                db.session.execute(
                    sa.update(Case)
                    .where(Case.id == copy["id"])
                    .values(
                        department_id=source.department_id,
                        handler_id=source.handler_id,
                        root_cause_id=source.root_cause_id,
                        root_cause=source.root_cause,
                    )
                )
                db.session.add(
                    CompensationLine(
                        case_id=copy["id"],
                        position=0,
                        kind="credit_note",
                        amount=Decimal("10.00"),
                        approved_at=local("2026-06-21T10:00"),
                    )
                )
        db.session.commit()
    departments = {r["code"]: r for r in _report(app)["departments"]}
    assert (departments["QA"]["cases"], departments["WH"]["liable"]) == (5, 4)
    assert departments["QA"]["compensation"]["credit_note"] == 130.0
    assert count() == before
