"""The case list (issue 10, item 6): filters at their boundaries, saved filters, bulk
assignment and the Excel export, through the screens with a real database."""

from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from core import limits
from core.extensions import db
from tests.conftest import signed_in

CASE_ROW = re.compile(r'<tr data-case="([^"]+)">')


def listed(client, query: str = "") -> list[str]:
    resp = client.get("/cases/?" + query)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return CASE_ROW.findall(resp.get_data(as_text=True))


def register(api, user="agent", **kw) -> dict:
    return api(user).create_case(**kw)


def user_id(app, username: str) -> int:
    from core.models import KesuUser

    with app.app_context():
        return db.session.scalar(sa.select(KesuUser.id).where(KesuUser.username == username))


def assign(api, case_id: int, handler: str, department: str = "QA") -> None:
    assert api("agent").action(case_id, "accept").status_code == 200
    resp = api("supervisor").action(case_id, "assign", department=department, handler=handler)
    assert resp.status_code == 200, resp.get_json()


def bad_field(resp, field: str) -> bool:
    text = resp.get_data(as_text=True)
    return resp.status_code == 400 and f'<code class="kesu-bad-field">{field}</code>' in text


# -- filters ---------------------------------------------------------------------------------


def test_date_range_takes_whole_local_days_inclusive(app, api):
    """L1 reads Asia/Shanghai (UTC+8): 23:30 local on the last day is in, 00:10 the next day
    is out; 00:00 on the first day is in, 23:59 the day before is out."""
    inside_late = register(api, received_at="2026-11-10T23:30:00+08:00")["number"]
    outside_late = register(api, received_at="2026-11-11T00:10:00+08:00")["number"]
    inside_early = register(api, received_at="2026-11-09T00:00:00+08:00")["number"]
    outside_early = register(api, received_at="2026-11-08T23:59:00+08:00")["number"]
    client = signed_in(app, "agent")
    both = listed(client, "received_from=2026-11-09&received_to=2026-11-10")
    assert sorted(both) == sorted([inside_late, inside_early])
    assert set(listed(client, "received_to=2026-11-10")) == {
        inside_late,
        inside_early,
        outside_early,
    }
    assert set(listed(client, "received_from=2026-11-09")) == {
        inside_late,
        inside_early,
        outside_late,
    }
    # The same UTC moments in the other half of the day: 2026-11-10T15:30Z is 23:30 local.
    assert listed(client, "received_from=2026-11-11&received_to=2026-11-11") == [outside_late]


def test_mine_my_department_and_handler_filters(app, api):
    by_agent = register(api, "agent")
    by_sales = register(api, "sales")
    handled_by_qa = register(api, "sales")
    handled_by_dept = register(api, "sales")
    handled_by_agent = register(api, "sales")
    assign(api, handled_by_qa["id"], "qa")
    assign(api, handled_by_dept["id"], "dept")
    assign(api, handled_by_agent["id"], "agent", department="WH")

    agent = signed_in(app, "agent")
    assert set(listed(agent, "mine=1")) == {by_agent["number"], handled_by_agent["number"]}
    assert set(listed(signed_in(app, "sales"), "mine=1")) == {
        by_sales["number"],
        handled_by_qa["number"],
        handled_by_dept["number"],
        handled_by_agent["number"],
    }
    # qa and dept are both in the QA department: its cases are those they handle.
    assert set(listed(signed_in(app, "qa"), "my_department=1")) == {
        handled_by_qa["number"],
        handled_by_dept["number"],
    }
    assert listed(agent, f"handler={user_id(app, 'dept')}") == [handled_by_dept["number"]]
    assert listed(agent, f"handler={user_id(app, 'agent')}&mine=1") == [handled_by_agent["number"]]
    # The handler select names people by display name and offers only those who handle cases.
    page = agent.get("/cases/").get_data(as_text=True)
    select = page.split('name="handler"', 1)[1].split("</select>", 1)[0]
    assert f'value="{user_id(app, "qa")}"' in select
    assert f'value="{user_id(app, "finance")}"' not in select


def test_record_rules_apply_under_every_filter(app, api):
    own = register(api, "agent")
    foreign = register(
        api, "agent2", business_line="L2", customer={"name": "成都经销商"}, product="B-200"
    )
    assert listed(signed_in(app, "agent"), "mine=1") == [own["number"]]
    assert listed(signed_in(app, "agent2"), "mine=1") == [foreign["number"]]
    # A handler of another line is not a choice: 400, not an empty list that leaks nothing.
    resp = signed_in(app, "agent").get(f"/cases/?handler={user_id(app, 'agent2')}")
    assert bad_field(resp, "handler")


def test_bad_filter_values_answer_400_naming_the_field(app):
    client = signed_in(app, "qa")  # in a department, but see below for one without
    for query, field in (
        ("received_from=2026-13-01", "received_from"),
        ("received_from=yesterday", "received_from"),
        ("received_to=1999-12-31", "received_to"),
        ("received_from=2026-11-10&received_to=2026-11-09", "received_to"),
        ("handler=abc", "handler"),
        ("handler=999999", "handler"),
        ("mine=yes", "mine"),
        ("status=nonsense", "status"),
        ("category=nonsense", "category"),
        ("business_line=L2", "business_line"),
        ("priority=P9", "priority"),
        ("sort=sideways", "sort"),
        ("is_major=maybe", "is_major"),
        ("q=" + "x" * (limits.SEARCH + 1), "q"),
    ):
        resp = client.get("/cases/?" + query)
        assert bad_field(resp, field), (query, resp.status_code)
        assert bad_field(client.get("/cases/export?" + query), field), query
    assert bad_field(signed_in(app, "agent").get("/cases/?my_department=1"), "my_department")
    # Each filter's good value is accepted.
    ok = "received_from=2026-11-09&received_to=2026-11-09&status=new&priority=P1&is_major=false"
    assert client.get("/cases/?" + ok).status_code == 200


# -- saved filters ---------------------------------------------------------------------------


def saved_names(client) -> dict[str, str]:
    page = client.get("/cases/").get_data(as_text=True)
    return dict(
        re.findall(
            r'data-filter="([^"]+)">\s*<a href="([^"]+)"',
            page,
        )
    )


def delete_ids(client) -> list[int]:
    page = client.get("/cases/").get_data(as_text=True)
    return [int(n) for n in re.findall(r"/cases/filters/(\d+)/delete", page)]


def test_saved_filter_round_trip_and_isolation(app, api):
    mine = register(api, "agent")["number"]
    register(api, "sales")
    agent = signed_in(app, "agent")
    resp = agent.post("/cases/filters", data={"name": "我的新客诉", "mine": "1", "status": "new"})
    assert resp.status_code == 302 and "mine=1" in resp.headers["Location"]
    links = saved_names(agent)
    assert list(links) == ["我的新客诉"]
    assert listed(agent, links["我的新客诉"].split("?", 1)[1].replace("&amp;", "&")) == [mine]
    # Saving under the same name replaces the filter; a bad filter or name is refused.
    agent.post("/cases/filters", data={"name": "我的新客诉", "status": "accepted"})
    assert "status=accepted" in saved_names(agent)["我的新客诉"]
    assert bad_field(agent.post("/cases/filters", data={"name": "x", "status": "bad"}), "status")
    agent.post("/cases/filters", data={"name": ""})
    agent.post("/cases/filters", data={"name": "n" * (limits.SAVED_FILTER_NAME + 1)})
    assert list(saved_names(agent)) == ["我的新客诉"]

    # Another user sees none of it and cannot delete it.
    other = signed_in(app, "supervisor")
    assert saved_names(other) == {}
    [filter_id] = delete_ids(agent)
    assert other.post(f"/cases/filters/{filter_id}/delete").status_code == 404
    assert list(saved_names(agent)) == ["我的新客诉"]
    assert agent.post(f"/cases/filters/{filter_id}/delete").status_code == 302
    assert saved_names(agent) == {}
    assert agent.post(f"/cases/filters/{filter_id}/delete").status_code == 404


def test_saved_filters_are_audited_and_bounded(app):
    from core.models import AuditEvent, SavedFilter

    agent = signed_in(app, "agent")
    for n in range(limits.SAVED_FILTERS):
        agent.post("/cases/filters", data={"name": f"f{n}", "mine": "1"})
    resp = agent.post("/cases/filters", data={"name": "one too many", "mine": "1"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedFilter)) == (
            limits.SAVED_FILTERS
        )
        events = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "saved_filter")
        )
        assert events == limits.SAVED_FILTERS


# -- bulk assignment -------------------------------------------------------------------------


def test_bulk_assign_reports_each_case(app, api):
    from core.models import AuditEvent, Case

    cases = [register(api, "agent") for _ in range(3)]
    for case in cases[:2]:
        assert api("agent").action(case["id"], "accept").status_code == 200
    # cases[2] stays "new": assigning it is refused, the other two are assigned.
    client = signed_in(app, "supervisor")
    resp = client.post(
        "/cases/assign",
        data={"case": [str(c["id"]) for c in cases], "to_handler": str(user_id(app, "qa"))},
        follow_redirects=True,
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已分派 2 件（共 3 件）" in page
    assert cases[2]["number"] in page and "已登记" in page  # the refused one, with its stage
    with app.app_context():
        rows = {
            c.number: c
            for c in db.session.scalars(
                sa.select(Case).where(Case.id.in_([c["id"] for c in cases]))
            )
        }
        qa = user_id(app, "qa")
        for case in cases[:2]:
            row = rows[case["number"]]
            assert (row.status, row.handler_id, row.department.code) == ("investigating", qa, "QA")
        assert (rows[cases[2]["number"]].status, rows[cases[2]["number"]].handler_id) == (
            "new",
            None,
        )
        assigned = db.session.scalars(
            sa.select(AuditEvent.case_id).where(AuditEvent.action == "assign")
        ).all()
        assert sorted(assigned) == sorted(c["id"] for c in cases[:2])


def test_bulk_assign_is_refused_to_non_supervisors_and_bounded(app, api):
    case = register(api, "agent")
    api("agent").action(case["id"], "accept")
    qa = str(user_id(app, "qa"))
    for username in ("agent", "qa", "manager"):
        resp = signed_in(app, username).post(
            "/cases/assign", data={"case": [str(case["id"])], "to_handler": qa}
        )
        assert resp.status_code == 403, username
    client = signed_in(app, "supervisor")
    too_many = [str(n) for n in range(1, limits.BULK_ASSIGN + 2)]
    page = client.post(
        "/cases/assign", data={"case": too_many, "to_handler": qa}, follow_redirects=True
    ).get_data(as_text=True)
    assert "一次最多 200 件客诉" in page
    # A handler who does not handle cases (Finance) is refused before any case is touched.
    finance = str(user_id(app, "finance"))
    page = client.post(
        "/cases/assign",
        data={"case": [str(case["id"])], "to_handler": finance},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "请选择处理人" in page
    # Another line's case is not found for an L1 supervisor; nothing assigned.
    foreign = register(
        api, "agent2", business_line="L2", customer={"name": "成都经销商"}, product="B-200"
    )
    api("agent2").action(foreign["id"], "accept")
    page = client.post(
        "/cases/assign",
        data={"case": [str(foreign["id"])], "to_handler": qa},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已分派 0 件（共 1 件）" in page
    assert api("agent2").get(f"/api/v1/case/{foreign['id']}").get_json()["result"]["status"] == (
        "accepted"
    )


# -- export ----------------------------------------------------------------------------------


def workbook(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.headers["Content-Disposition"].startswith("attachment")
    return openpyxl.load_workbook(io.BytesIO(resp.data)).active


def test_export_all_pages_headers_masking_and_text_cells(app, api):
    formula = register(api, "agent", description="=1+1", received_at="2026-11-20T10:00:00+08:00")
    for n in range(22):  # more than one page (20) of the screen
        register(api, "agent", batch_no=f"EXP{n:02d}", received_at="2026-11-21T10:00:00+08:00")
    register(api, "agent", received_at="2026-11-25T10:00:00+08:00")  # filtered out below
    query = "received_to=2026-11-21"
    qa = signed_in(app, "qa")  # no right to view contact details
    sheet = workbook(qa.get("/cases/export?" + query))
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    count_text = qa.get("/cases/?" + query).get_data(as_text=True)
    assert "23 cases" in count_text or "23 件" in count_text
    assert len(body) == 23
    assert header[0] == "客诉编号" and "电话" in header and "状态" in header
    phone = header.index("电话")
    assert {r[phone] for r in body} == {"138****5678"}
    by_number = {r[0]: r for r in body}
    formula_row = by_number[formula["number"]]
    description = header.index("描述") if "描述" in header else 11
    assert formula_row[description] == "=1+1"
    assert sheet.cell(row=2, column=1).data_type == "s"
    cell = next(c for c in sheet.iter_rows(min_row=2) if c[0].value == formula["number"])
    assert cell[description].data_type == "s" and cell[description].value == "=1+1"
    assert cell[1].is_date and cell[1].value.strftime("%Y-%m-%d %H:%M") == "2026-11-20 10:00"
    assert formula_row[header.index("状态")] == "已登记"

    agent = signed_in(app, "agent")  # may view contact details; reads English
    agent.get("/lang/en")
    sheet = workbook(agent.get("/cases/export?" + query))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Case number" and "Phone" in rows[0] and "Status" in rows[0]
    assert {r[rows[0].index("Phone")] for r in rows[1:]} == {"13812345678"}
    assert {r[rows[0].index("Status")] for r in rows[1:]} == {"New"}


def test_export_is_audited_and_limited(app, api):
    from core.models import AuditEvent

    for _ in range(3):
        register(api, "agent")
    client = signed_in(app, "agent")
    workbook(client.get("/cases/export"))
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.entity == "case_list").order_by(AuditEvent.id)
        )
        assert event.action == "export" and event.changes["rows"] == 3
    app.config["KESU_LIST_EXPORT_LIMIT"] = 2
    resp = client.get("/cases/export", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "符合条件的客诉超过 2 件；一次最多导出 2 件" in page
    app.config["KESU_LIST_EXPORT_LIMIT"] = 3
    assert len(list(workbook(client.get("/cases/export")).iter_rows())) == 4
