"""Told when work arrives: assignment, an approval step reached, a refusal; in the app and by
e-mail (a real SMTP server on loopback), only once the action is committed."""

from __future__ import annotations

import email
import email.policy

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import BusinessLine, Department, KesuUser, Notification
from tests.plugin_helpers import PDF, act, add_evidence


def _user(username: str) -> KesuUser:
    return db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))


def notes(app, kind: str | None = None) -> dict[str, list[Notification]]:
    """Every notification by recipient's username (of ``kind``, if given)."""
    with app.app_context():
        stmt = sa.select(Notification, KesuUser.username).join(
            KesuUser, KesuUser.id == Notification.user_id
        )
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        out: dict[str, list[Notification]] = {}
        for row, username in db.session.execute(stmt.order_by(Notification.id)):
            out.setdefault(username, []).append(row)
        return out


def set_head(app, department: str, username: str | None) -> None:
    with app.app_context():
        dep = db.session.scalar(sa.select(Department).where(Department.code == department))
        dep.head_id = _user(username).id if username else None
        db.session.commit()


def set_locale(app, line: str, locale: str) -> None:
    with app.app_context():
        row = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == line))
        row.locale = locale
        db.session.commit()


def mails(smtp_server) -> dict[str, email.message.EmailMessage]:
    out = {}
    for envelope in smtp_server.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for rcpt in envelope.rcpt_tos:
            out[rcpt.split("@")[0]] = message
    return out


def accepted_case(api) -> dict:
    case = api("agent").create_case()
    return act(api, case["id"], "agent", "accept")


def two_step_case(api) -> dict:
    """An L1 case waiting for approval: supervisor, then regional sales manager, then GM."""
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        details={"problem": "short_shipment", "affected_quantity": 1, "unit_price": "25000.01"},
    )
    add_evidence(api, case["id"], "photo")
    add_evidence(api, case["id"], "document", PDF, "案例报告.pdf")
    act(api, case["id"], "agent", "accept")
    act(api, case["id"], "supervisor", "assign", department="WH")
    act(api, case["id"], "qa", "propose", root_cause="漏装")
    return case


# -- assignment -----------------------------------------------------------------------------


def test_assignment_tells_the_handler_and_the_department_head_and_no_one_else(
    app, api, smtp_server
):
    set_head(app, "QA", "dept")
    case = accepted_case(api)
    assert notes(app) == {}
    act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    told = notes(app)
    assert set(told) == {"qa", "dept"}  # not the supervisor who assigned, not the agent
    (to_handler,), (to_head,) = told["qa"], told["dept"]
    assert to_handler.kind == to_head.kind == "assigned"
    assert to_handler.link == to_head.link == f"/cases/{case['id']}"
    assert to_handler.case_id == case["id"]
    assert to_handler.params == {"number": case["number"]}
    assert to_head.params == {"number": case["number"], "department": "品保课"}
    # E-mail: one to each, in the line's language (zh_CN), with the number and the link.
    got = mails(smtp_server)
    assert set(got) == {"qa", "dept"}
    assert got["qa"]["Subject"] == f"[Kesu] 客诉 {case['number']}"
    body = got["dept"].get_content()
    assert f"客诉 {case['number']} 已分派给您的部门品保课。" in body
    assert f"http://127.0.0.1:5000/cases/{case['id']}" in body


def test_without_a_head_only_the_handler_is_told_and_mail_follows_the_line_language(
    app, api, smtp_server
):
    set_locale(app, "L1", "en")
    case = accepted_case(api)
    act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    assert set(notes(app)) == {"qa"}
    got = mails(smtp_server)
    assert set(got) == {"qa"}
    assert got["qa"]["Subject"] == f"[Kesu] Case {case['number']}"
    assert f"Case {case['number']} is assigned to you." in got["qa"].get_content()


def test_a_head_who_cannot_see_the_line_is_not_told(app, api):
    set_head(app, "QA", "supervisor2")  # an L2 user: the L1 case is invisible to them
    case = accepted_case(api)
    act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    assert set(notes(app)) == {"qa"}


# -- approval steps -------------------------------------------------------------------------


def test_each_step_tells_exactly_the_holders_of_its_position_on_the_line(app, api, runner):
    from core.services import positions
    from core.services.access import SYSTEM

    with app.app_context():  # the same position on another line: its holder hears nothing
        positions.grant(SYSTEM, "supervisor2", "L2", "regional_sales_manager")
    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    assert set(notes(app, "approval")) == {"supervisor"}  # step 1
    act(api, case["id"], "supervisor", "approve")
    told = notes(app, "approval")
    assert set(told) == {"supervisor", "rsm"}  # step 2: the regional sales manager only
    assert len(told["rsm"]) == 1 and told["rsm"][0].link == f"/cases/{case['id']}"
    act(api, case["id"], "rsm", "approve")
    told = notes(app, "approval")
    assert set(told) == {"supervisor", "rsm", "salesgm"} and len(told["salesgm"]) == 1
    act(api, case["id"], "salesgm", "approve")  # the last step: the case moves on
    told = notes(app, "approval")
    assert sum(len(v) for v in told.values()) == 3
    # Each signer decided: their notice is read, the bell no longer counts it.
    assert all(n.read_at is not None for rows in told.values() for n in rows)


def test_a_decided_step_is_read_for_every_holder_of_its_position(app, api):
    """Two hold the step's position; one approves: the other's notice no longer waits."""
    from core.services import positions
    from core.services.access import SYSTEM

    with app.app_context():
        positions.grant(SYSTEM, "manager", "L1", "cs_supervisor")
    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    assert set(notes(app, "approval")) == {"supervisor", "manager"}
    act(api, case["id"], "supervisor", "approve")
    told = notes(app, "approval")
    assert [n.read_at is not None for n in told["manager"]] == [True]
    assert [n.read_at is None for n in told["rsm"]] == [True]  # the next step still waits


def test_refusal_tells_the_proposer_with_the_reason(app, api, smtp_server):
    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    act(api, case["id"], "supervisor", "refuse", comment="金额过高")
    told = notes(app, "refused")
    assert set(told) == {"qa"}  # who proposed, not the agent who submitted
    assert told["qa"][0].params == {"number": case["number"], "reason": "金额过高"}
    refused = [m for m in smtp_server.messages if m.rcpt_tos == ["qa@kesu.invalid"]]
    assert len(refused) == 1
    body = email.message_from_bytes(refused[0].content, policy=email.policy.default)
    assert "金额过高" in body.get_content()


# -- nothing when the action fails ------------------------------------------------------------


def test_a_refused_action_tells_nobody(app, api, smtp_server):
    set_head(app, "QA", "dept")
    case = api("agent").create_case()
    act(api, case["id"], "supervisor", "assign", status=409, department="QA", handler="qa")
    case = accepted_case(api)
    act(api, case["id"], "supervisor", "assign", status=422, handler="qa")  # no department
    assert notes(app) == {} and smtp_server.messages == []


def test_an_action_rolled_back_after_it_ran_mails_nobody(app, api, smtp_server):
    from core.db import write_transaction
    from core.services import workflow

    set_head(app, "QA", "dept")
    case = accepted_case(api)
    with app.test_request_context(), pytest.raises(RuntimeError):
        with write_transaction():
            workflow.run_action(
                _user("supervisor"), case["id"], "assign", {"department": "QA", "handler": "qa"}
            )
            assert len(db.session.scalars(sa.select(Notification)).all()) == 2
            raise RuntimeError("a later step of the same transaction failed")
    assert notes(app) == {} and smtp_server.messages == []
    act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    assert set(notes(app)) == {"qa", "dept"} and len(smtp_server.messages) == 2


def test_a_failing_mail_server_is_logged_and_the_action_stands(app, api, caplog):
    app.config.update(KESU_SMTP_HOST="127.0.0.1", KESU_SMTP_PORT=9)  # nothing listens there
    case = accepted_case(api)
    done = act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    assert done["status"] == "investigating"
    assert set(notes(app)) == {"qa"}
    assert "e-mail not sent" in caplog.text


def test_an_admin_names_the_department_head_on_the_department_screen(app, client):
    from core.models import AuditEvent
    from tests.conftest import login

    with app.app_context():
        dep = db.session.scalar(sa.select(Department).where(Department.code == "QA"))
        dept_id, head_id = dep.id, _user("dept").id
    login(client, "admin")
    form = client.get(f"/departmentview/edit/{dept_id}").get_data(as_text=True)
    assert "部门负责人" in form
    resp = client.post(
        f"/departmentview/edit/{dept_id}", data={"code": "QA", "name": "品保课", "head": head_id}
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Department, dept_id).head_id == head_id
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity == "department")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event.changes["head"][0] is None and event.changes["head"][1]


# -- the badge, opening a notification, the inbox deciding in place ---------------------------


def badge(page_html: str, css_class: str) -> int:
    """The count in a navbar badge (0 when the badge shows none)."""
    import re

    found = re.search(
        rf'class="{css_class}"[^>]*>\s*<span class="fa [^"]+"></span>'
        r'(?: <span class="badge" data-count="(\d+)">)?',
        page_html,
    )
    assert found, css_class
    return int(found.group(1) or 0)


def test_the_bell_counts_unread_notifications_and_opening_one_reads_it(app, api, client):
    from tests.conftest import login

    set_head(app, "QA", "dept")
    first, second = accepted_case(api), accepted_case(api)
    for case in (first, second):
        act(api, case["id"], "supervisor", "assign", department="QA", handler="qa")
    login(client, "qa")
    page = client.get("/notifications/").get_data(as_text=True)
    assert badge(page, "kesu-bell") == 2 == len(notes(app)["qa"])
    assert page.count('class="kesu-open-notification"') == 2
    assert f"客诉 {first['number']} 已分派给您。" in page
    row = notes(app)["qa"][0]
    resp = client.post(f"/notifications/{row.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{first['id']}")
    assert badge(client.get("/cases/").get_data(as_text=True), "kesu-bell") == 1
    read = {n.id: n.read_at for n in notes(app)["qa"]}
    assert read[row.id] is not None and sum(v is None for v in read.values()) == 1
    # Another user's notification is no one else's to open: 404, still unread.
    other = notes(app)["dept"][0]
    assert client.post(f"/notifications/{other.id}/open").status_code == 404
    assert notes(app)["dept"][0].read_at is None
    login(client, "agent")  # told nothing: a bell without a count, no inbox badge
    page = client.get("/cases/").get_data(as_text=True)
    assert badge(page, "kesu-bell") == 0 and "kesu-inbox-badge" not in page


def test_the_inbox_shows_the_proposal_and_approves_in_place(app, api, client):
    from tests.conftest import login

    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    login(client, "supervisor")
    page = client.get("/inbox/").get_data(as_text=True)
    assert badge(page, "kesu-inbox-badge") == 1
    assert "补发" in page and "25000.01" in page and "漏装" in page and "上海经销商" in page
    version = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["version"]
    resp = client.post(f"/inbox/{case['id']}/approve", data={"version": version})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/inbox/")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"“批准”已完成。 客诉 {case['number']}。" in page
    assert f'data-case="{case["number"]}"' not in page and badge(page, "kesu-inbox-badge") == 0
    steps = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["approvals"]
    assert [s["decision"] for s in steps] == ["approved", "pending", "pending"]


def test_refusing_from_the_inbox_needs_a_reason(app, api, client):
    from core.models import AuditEvent
    from tests.conftest import login

    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    login(client, "supervisor")

    def events() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    before = events()
    resp = client.post(f"/inbox/{case['id']}/refuse", data={"comment": "  "})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "原因：" in page or "原因:" in page  # the error names the field
    assert events() == before and notes(app, "refused") == {}
    assert f'data-case="{case["number"]}"' in page  # still waiting
    resp = client.post(f"/inbox/{case['id']}/refuse", data={"comment": "金额过高"})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'data-case="{case["number"]}"' not in page and "“驳回”已完成。" in page
    assert api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["status"] == (
        "proposed"
    )
    assert set(notes(app, "refused")) == {"qa"}
    assert client.post(f"/inbox/{case['id']}/close").status_code == 404  # not a decision


def test_supervisor_decides_from_the_inbox_in_chromium(screen, live_app):
    from tests.conftest import Api

    client = live_app.test_client()

    def api(username):
        return Api(client, username)

    case = two_step_case(api)
    act(api, case["id"], "agent", "submit")
    s = screen.login("supervisor")
    page = s.page
    assert page.inner_text(".kesu-inbox-badge .badge") == "1"
    page.click(".kesu-inbox-badge")
    page.wait_for_load_state()
    assert page.url.endswith("/inbox/")
    panel = page.locator(f".kesu-inbox-case[data-case='{case['number']}']")
    assert "补发" in panel.inner_text() and "漏装" in panel.inner_text()
    assert panel.locator(".kesu-inbox-total").inner_text() == "25000.01"
    panel.locator("button:has-text('驳回')").click()  # no reason: refused, nothing changes
    page.wait_for_load_state()
    assert "原因" in page.inner_text(".alert-danger")
    assert page.locator(f".kesu-inbox-case[data-case='{case['number']}']").count() == 1
    panel.locator("textarea").fill("金额过高")
    panel.locator("button:has-text('驳回')").click()
    page.wait_for_load_state()
    assert "已完成" in page.inner_text(".alert-success")
    assert page.locator(".kesu-inbox-case").count() == 0
    assert api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]["status"] == (
        "proposed"
    )
    # The proposer's bell counts it; opening the notification lands on the case.
    s.goto("/logout/")
    s.login("qa")
    assert page.inner_text(".kesu-bell .badge") == "1"
    page.click(".kesu-bell")
    page.wait_for_load_state()
    page.click(".kesu-open-notification button")
    page.wait_for_load_state()
    assert page.url.endswith(f"/cases/{case['id']}")
    assert page.locator(".kesu-bell .badge").count() == 0
