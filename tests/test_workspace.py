"""My work (我的工作): each role's home page, its sections, their order and the menu count."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.models import CaseDeadline, KesuUser
from tests.conftest import make_plugin, signed_in
from tests.plugin_helpers import PDF, act, add_evidence, to_investigating
from tests.test_approvals import proposal_of

OLD = "2026-11-02T10:00:00"  # received a month ago: its first deadline has long passed


def work(app, username: str, now: dt.datetime | None = None) -> dict:
    """The user's sections as {key: (numbers in order, overdue flags, count, counted)}."""
    from core.services import workspace

    with app.test_request_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        found = workspace.sections(user, now or utcnow())
        out = {
            s.key: ([r.number for r in s.rows], [r.overdue for r in s.rows], s.count, s.counted)
            for s in found
        }
        db.session.remove()
    return out


def next_due(app, case_id: int) -> dt.datetime:
    with app.app_context():
        due = db.session.scalar(
            sa.select(sa.func.min(CaseDeadline.due_at)).where(
                CaseDeadline.case_id == case_id, CaseDeadline.state == "running"
            )
        )
        db.session.remove()
    return due if due.tzinfo else due.replace(tzinfo=dt.UTC)


def test_agent_sees_own_new_cases_overdue_first_and_nothing_foreign(app, api):
    fresh = api("agent").create_case(customer={"name": "新客户", "kind": "dealer"})
    late = api("agent").create_case(received_at=OLD)
    others = api("supervisor").create_case()  # registered by someone else, nobody's handler
    foreign = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商", "kind": "dealer"}
    )
    mine = work(app, "agent")
    assert set(mine) == {"my_new", "my_handling", "my_on_hold", "my_confirming"}
    numbers, flags, count, counted = mine["my_new"]
    assert numbers == [late["number"], fresh["number"]] and flags == [True, False]
    assert count == len(numbers) == 2 and counted
    assert others["number"] not in numbers and foreign["number"] not in numbers
    assert work(app, "agent2")["my_new"][0] == [foreign["number"]]
    # Put on hold, the case moves to the on-hold section.
    act(api, fresh["id"], "agent", "hold", comment="等客户补充照片")
    mine = work(app, "agent")
    assert mine["my_new"][0] == [late["number"]]
    assert mine["my_on_hold"][0] == [fresh["number"]]


def test_a_deadline_is_overdue_only_once_it_has_passed(app, api):
    soon = api("agent").create_case()
    later = api("agent").create_case(received_at=utcnow().isoformat())
    due = next_due(app, soon["id"])
    before = work(app, "agent", due - dt.timedelta(seconds=1))["my_new"]
    after = work(app, "agent", due + dt.timedelta(seconds=1))["my_new"]
    assert before[1][before[0].index(soon["number"])] is False
    assert after[1][after[0].index(soon["number"])] is True
    if next_due(app, later["id"]) > due:  # by deadline: the sooner one first
        assert before[0] == [soon["number"], later["number"]]


def test_supervisor_sees_unassigned_overdue_and_approvals_of_own_line(app, api):
    accepted = api("agent").create_case()
    act(api, accepted["id"], "agent", "accept")
    late = api("agent").create_case(received_at=OLD)
    foreign = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商", "kind": "dealer"}
    )
    act(api, foreign["id"], "agent2", "accept")
    waiting = proposal_of(api, "100.00")
    act(api, waiting["id"], "agent", "submit")
    sup = work(app, "supervisor")
    assert {"unassigned", "overdue", "escalations", "approvals", "reopen"} <= set(sup)
    assert "my_new" not in sup and "goods" not in sup
    assert sup["unassigned"][0] == [accepted["number"]]
    assert late["number"] in sup["overdue"][0] and all(sup["overdue"][1])
    assert sup["approvals"][0] == [waiting["number"]]
    assert foreign["number"] not in {n for rows in sup.values() for n in rows[0]}
    assert work(app, "supervisor2")["unassigned"][0] == [foreign["number"]]
    # The regional manager holds no step of this proposal: nothing waits for them.
    assert work(app, "rsm")["approvals"][0] == []
    for numbers, _flags, count, _counted in sup.values():
        assert count == len(numbers)


def test_qa_analyses_and_dept_corrective_actions_with_due_days(app, api):
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        details={"problem": "short_shipment", "affected_quantity": 1, "unit_price": "5.00"},
    )
    add_evidence(api, case["id"], "photo")
    to_investigating(api, case["id"], department="QA")
    qa = work(app, "qa")
    assert qa["investigate"][0] == [case["number"]]
    assert set(qa) == {"investigate", "verify"}  # no CAPA list, no approvals for QA
    today = utcnow().date()
    for days, text in ((1, "明天到期"), (-1, "昨天已过期")):
        resp = api("dept").post(
            f"/api/v1/quality/{case['id']}/actions",
            json={
                "kind": "corrective",
                "description": text,
                "responsible_unit": "品保课",
                "due_date": (today + dt.timedelta(days=days)).isoformat(),
            },
        )
        assert resp.status_code == 201, resp.get_json()
    dept = work(app, "dept")
    numbers, flags, count, _ = dept["capa_actions"]
    assert count == 2 and flags == [True, False]  # yesterday's first, flagged
    assert "capa_actions" not in work(app, "agent") and "capa_actions" not in work(app, "qa")


def test_sales_goods_finance_lines_and_manager_approvals(app, api):
    case = proposal_of(api, "30000.00")
    add_evidence(api, case["id"], "document", PDF, "report.pdf")
    act(api, case["id"], "agent", "submit")
    assert work(app, "rsm")["approvals"][0] == []
    act(api, case["id"], "supervisor", "approve")
    assert work(app, "rsm")["approvals"][0] == [case["number"]]
    assert work(app, "salesgm")["approvals"][0] == []
    assert "major_incidents" in work(app, "rsm") and "major_incidents" not in work(app, "sales")
    act(api, case["id"], "rsm", "approve")
    act(api, case["id"], "salesgm", "approve")
    sales = work(app, "sales")
    assert sales["goods"][0] == [case["number"]] and set(sales) == {"goods"}
    finance = work(app, "finance")
    assert finance["to_export"][0] == [case["number"]]  # a reshipment goes on the export list
    assert finance["references"][0] == []
    assert "goods" not in finance and "approvals" not in finance


def test_warehouse_expects_approved_returns_until_received(app, api):
    from tests.test_plugin_policy_returns import _receipt, proposed

    case = proposed(api, liable_party="customer", insists_on_return=True)
    act(api, case["id"], "agent", "submit")
    assert work(app, "warehouse")["returns_expected"][0] == []
    act(api, case["id"], "supervisor", "approve")
    act(api, case["id"], "director", "approve")
    assert work(app, "warehouse")["returns_expected"][0] == [case["number"]]
    assert _receipt(api, case["id"]).status_code == 201
    assert work(app, "warehouse")["returns_expected"][0] == []
    assert "returns_expected" not in work(app, "agent")


def test_auditor_gets_links_not_counted(app):
    auditor = work(app, "auditor")
    assert list(auditor) == ["audit"] and auditor["audit"][3] is False


def test_home_is_my_work_with_the_count_in_the_menu(app, api):
    late = api("agent").create_case(received_at=OLD)
    api("agent").create_case()
    assert app.test_client().get("/").status_code == 302  # anonymous: to the sign-in page
    client = signed_in(app, "agent")
    html = client.get("/").get_data(as_text=True)
    assert "我的工作" in html and late["number"] in html
    assert 'id="kesu-home-register"' in html
    badge = re.search(r'data-menu="My work">(\d+)<', html)
    assert badge and badge.group(1) == "2"
    rows = re.findall(r'<tr data-case="([^"]+)" class="kesu-work-row', html)
    assert rows[0] == late["number"] and len(rows) == 2
    assert client.get("/mywork/").get_data(as_text=True).count("kesu-work-row") == 2
    # Finance has no new cases of its own: no agent sections, no registering.
    html = signed_in(app, "finance").get("/").get_data(as_text=True)
    assert 'id="kesu-work-my_new"' not in html and 'id="kesu-home-register"' not in html
    assert 'id="kesu-work-to_export"' in html


def test_hook_kesu_work_sections(app, temp_plugin):
    from core.contracts import WorkRow, WorkSection

    seen = []

    def sections(user, now):
        seen.append(user.username)
        return [
            WorkSection(
                "extra",
                "外部待办",
                (
                    WorkRow("B", "later", "/x", due=now + dt.timedelta(days=1)),
                    WorkRow("A", "late", "/y", due=now - dt.timedelta(days=1), overdue=True),
                    WorkRow("C", "elsewhere", "javascript:alert(1)"),
                ),
                link="//evil.example/",
            )
        ]

    temp_plugin(make_plugin("worklist", category=False, kesu_work_sections=sections))
    assert work(app, "agent")["extra"][0] == ["A", "B", "C"]  # the core orders the rows
    from core.services import workspace

    with app.test_request_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        extra = next(s for s in workspace.sections(user, utcnow()) if s.key == "extra")
        assert [r.link for r in extra.rows] == ["/y", "/x", "/"] and extra.link == "/"
    seen.clear()
    assert "extra" not in work(app, "agent2")  # not enabled on L2: not called
    assert seen == []


def test_agent_sees_my_work_with_counts_in_chromium(screen, live_app):
    from tests.conftest import Api

    client = live_app.test_client()
    late = Api(client, "agent").create_case(received_at=OLD)
    s = screen.login("agent")
    s.goto("/")
    page = s.page
    assert page.inner_text("#kesu-workspace h2").startswith("我的工作")
    first = page.locator("#kesu-work-my_new tr.kesu-work-row").first
    assert first.get_attribute("data-case") == late["number"]
    assert "超期" in first.inner_text()
    assert page.inner_text("#kesu-work-my_new .kesu-work-count") == "1"
    assert page.inner_text(".navbar .kesu-menu-count[data-menu='Complaints']") == "1"
    page.click(".navbar a.dropdown-toggle:has-text('客诉')")
    entry = page.locator(".navbar .dropdown-menu a:has-text('我的工作')")
    assert entry.locator(".kesu-menu-count").inner_text() == "1"
    entry.click()
    page.wait_for_load_state()
    assert page.url.endswith("/mywork/")


def test_agent_sees_the_cases_they_handle_and_their_own_waiting_for_submission(app, api):
    handled = api("supervisor").create_case()
    act(api, handled["id"], "supervisor", "accept")
    act(api, handled["id"], "supervisor", "assign", department="WH", handler="agent")
    registered = api("agent").create_case()
    act(api, registered["id"], "agent", "accept")
    act(api, registered["id"], "supervisor", "assign", department="QA", handler="qa")
    # Investigated by QA: nothing for the agent to do yet on their own registration.
    assert work(app, "agent")["my_handling"][0] == [handled["number"]]
    act(api, registered["id"], "qa", "propose", root_cause="包装破损")
    assert sorted(work(app, "agent")["my_handling"][0]) == sorted(
        [handled["number"], registered["number"]]
    )
    assert "my_handling" not in work(app, "supervisor")
