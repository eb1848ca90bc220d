"""The audit trail screen: who may read which events, and the chain check."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, KesuUser
from tests.audit_helpers import drop_audit_guards
from tests.test_screen_rules import login


def test_auditor_reads_the_events_of_their_lines_only(client, api):
    own = api("agent").create_case()
    foreign = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商"}
    )
    login(client, "auditor")
    page = client.get("/audit/").get_data(as_text=True)
    assert own["number"] in page
    assert foreign["number"] not in page
    assert 'data-entity="business_line"' not in page  # reference data: admins only
    only = client.get(f"/audit/?case={own['number']}").get_data(as_text=True)
    assert only.count('data-event="') == 1
    login(client, "admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert own["number"] in page and foreign["number"] in page
    assert 'data-entity="business_line"' in page


def test_roles_without_the_audit_permission_are_refused(client):
    login(client, "agent")
    resp = client.get("/audit/")
    assert resp.status_code in (302, 403)
    assert "kesu-audit" not in resp.get_data(as_text=True)


def test_verify_button_reports_the_chain(app, client, api):
    case = api("agent").create_case()
    login(client, "auditor")
    assert "kesu-verified" in client.post("/audit/verify").get_data(as_text=True)
    assert "审计记录完整" in client.post("/audit/verify").get_data(as_text=True)
    drop_audit_guards(app)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.case_id == case["id"]))
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == event.id).values(actor="mallory")
        )
        db.session.commit()
    page = client.post("/audit/verify").get_data(as_text=True)
    assert f"审计记录在第 {event.id} 条事件处被破坏" in page


# -- filters by choices, sentences, counts that agree ----------------------------------------------


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-event="\d+" data-action="(\w+)">', page)


def _count(page: str) -> int:
    return int(re.search(r"筛选结果 共 (\d+) 条", page).group(1))


def _visible_events(app, **where) -> int:
    with app.app_context():
        stmt = (
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.case_id.isnot(None))
        )
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return db.session.scalar(stmt)


def test_filters_by_choices_return_exactly_the_matching_events(app, client, api):
    from tests.test_evidence import PNG, upload
    from tests.test_history import name_people

    name_people(app)
    first = api("agent").create_case()
    api("agent").create_case()
    upload(api("agent"), first["id"], PNG)
    assert api("supervisor").action(first["id"], "accept").status_code == 200
    login(client, "auditor")
    page = client.get("/audit/").get_data(as_text=True)
    assert _count(page) == len(_rows(page)) == _visible_events(app)
    assert "李客服 登记了客诉" in page and "张主管 受理了客诉" in page
    assert '<option value="accept">受理</option>' in page
    assert '<option value="evidence">证据</option>' in page
    with app.app_context():
        ids = dict(db.session.execute(sa.select(KesuUser.username, KesuUser.id)).all())
    assert f'<option value="{ids["supervisor"]}">张主管</option>' in page
    assert f'value="{ids["agent2"]}"' not in page  # a person of another line

    page = client.get("/audit/?action=accept").get_data(as_text=True)
    assert _rows(page) == ["accept"] and _count(page) == 1
    page = client.get("/audit/?entity=evidence").get_data(as_text=True)
    assert _rows(page) == ["upload"] and _count(page) == 1
    assert "李客服 上传了照片“photo.png”" in page
    page = client.get(f"/audit/?person={ids['supervisor']}").get_data(as_text=True)
    assert _rows(page) == ["accept"]
    page = client.get(f"/audit/?person={ids['agent']}").get_data(as_text=True)
    assert len(_rows(page)) == _count(page) == _visible_events(app, actor_id=ids["agent"]) == 3
    page = client.get(f"/audit/?person={ids['agent']}&action=create").get_data(as_text=True)
    assert _rows(page) == ["create", "create"] and _count(page) == 2

    with app.app_context():
        at = db.session.scalar(sa.select(sa.func.max(AuditEvent.at)))
    today = (at + dt.timedelta(hours=8)).date()  # the auditor reads in Asia/Shanghai
    day = dt.timedelta(days=1)
    page = client.get(f"/audit/?from={today}&to={today}").get_data(as_text=True)
    assert _count(page) == len(_rows(page)) == _visible_events(app)
    page = client.get(f"/audit/?from={today + day}").get_data(as_text=True)
    assert _count(page) == 0 and _rows(page) == [] and "没有符合条件的记录" in page
    page = client.get(f"/audit/?to={today - day}").get_data(as_text=True)
    assert _count(page) == 0 and _rows(page) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("action=drop_table", "操作"),
        ("entity=secrets", "记录类型"),
        ("person=999999", "人员"),
        ("person=agent", "人员"),
        ("from=2026-13-01", "起"),
        ("to=yesterday", "止"),
        ("from=2026-12-02&to=2026-12-01", "起"),
        ("page=0", "页码"),
    ],
)
def test_an_invalid_filter_is_a_400_naming_the_field(client, api, query, field):
    login(client, "auditor")
    resp = client.get(f"/audit/?{query}")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert f"筛选条件“{field}”无效" in page and "kesu-audit" not in page


def test_a_page_that_is_not_a_number_is_a_400(client):
    login(client, "auditor")
    assert client.get("/audit/?page=abc").status_code == 400  # the input guard (core/inputs.py)
    assert client.get("/audit/?page=100001").status_code == 400


def test_counts_agree_and_the_integrity_check_is_labelled_apart(client, api):
    api("agent").create_case()
    login(client, "auditor")
    page = client.post("/audit/verify?action=create").get_data(as_text=True)
    checked = re.search(r"整条审计链 (\d+) 条事件均未被篡改", page)
    assert checked and int(checked.group(1)) > _count(page) == len(_rows(page)) == 1


def test_hashes_and_raw_json_are_for_auditors_only(client, api):
    case = api("agent").create_case()
    login(client, "supervisor")  # may read the trail, but is customer-service staff
    page = client.get(f"/audit/?case={case['number']}").get_data(as_text=True)
    assert _rows(page) == ["create"] and "kesu-integrity" not in page and "kesu-raw" not in page
    login(client, "auditor")
    page = client.get(f"/audit/?case={case['number']}").get_data(as_text=True)
    assert "kesu-integrity" in page and "&#34;status&#34;" in page  # the recorded JSON, escaped


def test_the_audit_screen_in_english(client, api):
    api("agent").create_case()
    login(client, "auditor")
    client.get("/lang/en")
    page = client.get("/audit/?action=create").get_data(as_text=True)
    assert "Filtered: 1 events" in page and "agent registered the complaint (Logistics)" in page
    assert '<option value="accept">Accept</option>' in page
    resp = client.get("/audit/?action=bogus")
    assert resp.status_code == 400 and "The filter “Action” is not valid" in resp.get_data(
        as_text=True
    )
