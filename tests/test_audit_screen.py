"""The audit trail screen: who may read which events, and the chain check."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
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
