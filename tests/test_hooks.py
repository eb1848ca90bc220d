"""One test per hook (``test_hook_<name>``), and checks that every hook is documented and tested."""

from __future__ import annotations

import inspect
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import hookspecs
from core.contracts import AcceptanceIssue, ApprovalStepSpec, PriorityReason, Problem, ProposalLine
from core.extensions import db
from core.models import Case
from tests.conftest import Api, make_app, make_plugin
from tests.test_evidence import PNG, upload
from tests.test_plugins import DESCRIPTOR_SOURCE, install_distribution

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("kesu_")
)


def test_every_hook_is_documented():
    docs = (ROOT / "docs" / "plugins.md").read_text()
    for name in HOOKS:
        assert getattr(hookspecs, name).__doc__, f"{name} has no docstring"
        assert re.search(rf"^#+ `?{name}", docs, re.M), (
            f"{name} is not documented in docs/plugins.md"
        )
    assert set(hookspecs.HOOK_PHASES) == set(HOOKS)


def test_every_hook_has_a_test():
    source = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for name in HOOKS:
        assert f"def test_hook_{name}(" in source, f"no test_hook_{name}"


# -- start-up hooks -----------------------------------------------------------------------------


def test_hook_kesu_roles(tmp_path, template_db, monkeypatch):
    source = (
        DESCRIPTOR_SOURCE.format(key="grants", extra="")
        + """
@hookimpl
def kesu_roles():
    return {"Finance": [("Case", "can_upload")], "Warehouse": [("Case", "can_read")]}
"""
    )
    install_distribution(tmp_path, monkeypatch, "kesu_grants", source, name="grants")
    app = make_app(tmp_path, template_db)
    assert "Warehouse" in app.config["FAB_ROLES"]
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    with app.app_context():
        assert app.appbuilder.sm.find_role("Warehouse") is not None
    client = app.test_client()
    case = Api(client, "agent").create_case()
    assert upload(Api(client, "finance"), case["id"], PNG).status_code == 201


def test_hook_kesu_translation_dirs(third_party_plugin, tmp_path, template_db):
    service_app = make_app(tmp_path, template_db)
    dirs = service_app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    assert any(d.endswith("service_complaint/translations") for d in dirs)
    with service_app.test_request_context("/"):
        from flask_babel import gettext

        assert gettext("Service area") == "服务区域"


def test_hook_kesu_views(tmp_path, template_db, monkeypatch):
    source = (
        DESCRIPTOR_SOURCE.format(key="board", extra="")
        + """
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from core.contracts import ViewSpec

class BoardView(BaseView):
    route_base = "/board"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return "incident board"

@hookimpl
def kesu_views():
    return [ViewSpec(view=BoardView, name="Board", category="Complaints")]
"""
    )
    install_distribution(tmp_path, monkeypatch, "kesu_board", source, name="board")
    app = make_app(tmp_path, template_db)
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": "correct-horse-42"})
    resp = client.get("/board/")
    assert resp.status_code == 200 and resp.data == b"incident board"
    assert "Board" in [item.name for cat in app.appbuilder.menu.get_list() for item in cat.childs]


def test_hook_kesu_line_settings(app, api, temp_plugin):
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import Invalid

    def issues(case):
        if case.category != "windowed":
            return None
        limit = case.line.plugin_settings["windowed"]["max_quantity"]
        too_many = (case.quantity_purchased or 0) > limit
        return [AcceptanceIssue("too_many", "too many", "quantity_purchased")] if too_many else []

    temp_plugin(
        make_plugin(
            "windowed",
            kesu_line_settings=lambda: {"max_quantity": 50},
            kesu_acceptance_issues=issues,
        )
    )
    assert api("agent").create_case(category="windowed", quantity_purchased=60)["acceptance_issues"]
    with app.app_context():
        assert lines.update_plugin_settings(SYSTEM, "L1", "windowed", {"max_quantity": 100}) == {
            "max_quantity": 100
        }
        with pytest.raises(Invalid):
            lines.update_plugin_settings(SYSTEM, "L1", "windowed", {"max_quantity": "many"})
    assert (
        api("agent").create_case(category="windowed", quantity_purchased=60)["acceptance_issues"]
        == []
    )


# -- case hooks ---------------------------------------------------------------------------------


def test_hook_kesu_case_fields(api, temp_plugin):
    from core.contracts import FieldSpec

    def fields(line, category):
        if category != "measured":
            return None
        return [
            FieldSpec("litres", "decimal", "litres", required=True),
            FieldSpec("sealed", "boolean", "sealed"),
        ]

    temp_plugin(make_plugin("measured", kesu_case_fields=fields))
    agent = api("agent")
    resp = agent.post("/api/v1/case/", json={**_body("measured"), "details": {"sealed": True}})
    assert resp.status_code == 400 and "details.litres" in resp.get_json()["errors"]
    resp = agent.post("/api/v1/case/", json={**_body("measured"), "details": {"litres": "x"}})
    assert resp.status_code == 400 and "details.litres" in resp.get_json()["errors"]
    case = agent.create_case(category="measured", details={"litres": 12.5, "sealed": False})
    assert case["details"] == {"litres": "12.50", "sealed": False}
    # the field belongs to its category only
    resp = agent.post("/api/v1/case/", json={**_body("logistics"), "details": {"litres": 1}})
    assert resp.status_code == 400 and "details.litres" in resp.get_json()["errors"]


def _body(category):
    from tests.conftest import case_body

    return case_body(category=category)


def test_hook_kesu_acceptance_issues(api, temp_plugin):
    def issues(case):
        if case.category != "photos":
            return None
        return (
            []
            if "photo" in case.evidence_kinds
            else [AcceptanceIssue("missing_evidence", "photo", "photo")]
        )

    temp_plugin(make_plugin("photos", kesu_acceptance_issues=issues))
    agent = api("agent")
    case = agent.create_case(category="photos")
    assert case["acceptance_issues"] == [
        {"code": "missing_evidence", "field": "photo", "message": "photo"}
    ]
    assert upload(agent, case["id"], PNG).status_code == 201  # recomputed when evidence is added
    assert agent.get(f"/api/v1/case/{case['id']}").get_json()["result"]["acceptance_issues"] == []


def _to_investigating(api, category, **body):
    case = api("agent").create_case(category=category, **body)
    api("agent").action(case["id"], "accept")
    api("supervisor").action(case["id"], "assign", department="QA")
    return case["id"]


def test_hook_kesu_compensation_proposal(api, temp_plugin):
    def proposal(case):
        if case.category != "halves":
            return None
        quantity = (case.quantity_purchased + 1) // 2
        return [
            ProposalLine(
                kind="reship", quantity=quantity, amount=Decimal("10.00") * quantity, sku="P-100"
            )
        ]

    temp_plugin(make_plugin("halves", kesu_compensation_proposal=proposal))
    cid = _to_investigating(api, "halves", quantity_purchased=7)
    case = api("qa").action(cid, "propose", root_cause="破损").get_json()["result"]
    assert [(c["kind"], c["quantity"], c["amount"]) for c in case["compensation"]] == [
        ("reship", 4, "40.00")
    ]
    assert case["compensation_total"] == "40.00"


def test_hook_kesu_approval_steps(api, temp_plugin):
    def proposal(case):
        return (
            [ProposalLine(kind="refund", amount=Decimal("800"))]
            if case.category == "swap"
            else None
        )

    def steps(case, lines):
        if case.category != "swap":
            return None
        return [
            ApprovalStepSpec("cs_supervisor", ("cs_supervisor",)),
            ApprovalStepSpec("returns", ("marketing_director", "general_manager")),
        ]

    temp_plugin(make_plugin("swap", kesu_compensation_proposal=proposal, kesu_approval_steps=steps))
    cid = _to_investigating(api, "swap")
    api("qa").action(cid, "propose", root_cause="x")
    case = api("agent").action(cid, "submit").get_json()["result"]
    # the core's supervisor step and the plugin's, the duplicate kept once at its first place
    assert [(a["step"], a["role"]) for a in case["approvals"]] == [
        ("cs_supervisor", "cs_supervisor"),
        ("returns", "marketing_director|general_manager"),
    ]
    assert api("director").action(cid, "approve").status_code == 403  # the supervisor decides first
    assert api("supervisor").action(cid, "approve").get_json()["result"]["status"] == "approving"
    assert api("manager").action(cid, "approve").status_code == 403  # no position on the line
    assert api("gm").action(cid, "approve").get_json()["result"]["status"] == "executing"


def test_hook_kesu_workflow_stages(api, temp_plugin):
    temp_plugin(
        make_plugin(
            "lean", kesu_workflow_stages=lambda case: [] if case.category == "lean" else None
        )
    )
    cid = _to_investigating(api, "lean", demand="improvement")
    api("qa").action(cid, "propose", root_cause="x")
    assert api("agent").action(cid, "submit").get_json()["result"]["status"] == "closed"


def test_hook_kesu_action_problems(api, temp_plugin):
    def problems(case, action, payload):
        if case.category == "signed" and action == "close" and not case.details.get("signed"):
            return [Problem("unsigned", "not signed", "details.signed")]
        return None

    temp_plugin(make_plugin("signed", kesu_action_problems=problems))
    cid = _to_investigating(api, "signed", demand="improvement")
    for action, user in (
        ("propose", "qa"),
        ("submit", "agent"),
        ("confirm", "agent"),
        ("verify", "qa"),
    ):
        api(user).action(cid, action, root_cause="x", effective=True)
    resp = api("agent").action(cid, "close")
    assert resp.status_code == 422 and resp.get_json()["problems"][0]["code"] == "unsigned"


def test_hook_kesu_case_event(app, api, temp_plugin):
    seen = []

    def react(case, event):
        if case.category != "noisy":
            return
        seen.append((event.action, event.old_status, event.new_status, event.actor))
        if case.description == "boom":
            raise RuntimeError("plugin refused")

    temp_plugin(make_plugin("noisy", kesu_case_event=react))
    case = api("agent").create_case(category="noisy")
    api("agent").action(case["id"], "accept")
    assert seen == [("create", None, "new", "agent"), ("accept", "new", "accepted", "agent")]
    before = _case_count(app)
    resp = api("agent").post("/api/v1/case/", json={**_body("noisy"), "description": "boom"})
    assert resp.status_code == 500
    assert "plugin refused" not in resp.get_data(as_text=True)
    assert _case_count(app) == before  # the whole intake rolled back


def _case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


# -- line-wide hooks ----------------------------------------------------------------------------


def test_hook_kesu_major_reasons(api, temp_plugin):
    temp_plugin(
        make_plugin(
            "watch",
            category=False,
            kesu_major_reasons=lambda case: ["media"] if "记者" in case.description else None,
        )
    )
    calm = api("agent").create_case(category="logistics")
    loud = api("agent").create_case(category="policy_returns", description="记者来电询问")
    assert (calm["is_major"], calm["major_reasons"], calm["priority"]) == (False, [], "P3")
    assert (loud["is_major"], loud["major_reasons"], loud["priority"]) == (True, ["media"], "P1")
    assert loud["priority_reasons"] == ["major"]


def test_hook_kesu_priority_reasons(api, temp_plugin):
    def reasons(case):
        return [PriorityReason("P1", "vip_claim")] if (case.claim_amount or 0) >= 9000 else None

    temp_plugin(make_plugin("money", category=False, kesu_priority_reasons=reasons))
    assert api("agent").create_case(claim_amount="100.00")["priority"] == "P3"
    case = api("agent").create_case(claim_amount="9000.00", customer={"name": "新客户"})
    assert (case["priority"], case["priority_reasons"]) == ("P1", ["vip_claim"])


def test_hook_kesu_migrations_dirs(app):
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        heads = {
            row[0] for row in db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
        }
    assert {"quality_capa_action", "return_receipt", "incident", "incident_case"} <= tables
    assert {"pq0002", "pr0001", "mi0001"} <= heads


def test_hook_kesu_compensation_problems(api, temp_plugin):
    def problems(case, lines):
        if case.category == "capped" and sum(line.amount for line in lines) > 1000:
            return [Problem("too_much", "at most 1000", "lines")]
        return None

    temp_plugin(make_plugin("capped", kesu_compensation_problems=problems))
    cid = _to_investigating(api, "capped")
    api("qa").action(cid, "propose", root_cause="x")
    body = {"lines": [{"kind": "refund", "amount": "1000.01"}], "reason": "客户要求"}
    resp = api("qa").put(f"/api/v1/case/{cid}/compensation", json=body)
    assert resp.status_code == 422 and resp.get_json()["problems"][0]["code"] == "too_much"
    body["lines"][0]["amount"] = "1000.00"
    case = api("qa").put(f"/api/v1/case/{cid}/compensation", json=body).get_json()["result"]
    assert case["compensation_total"] == "1000.00"


def test_hook_kesu_deadlines(api, temp_plugin):
    import datetime as dt

    def deadlines(case):
        if case.category != "timed":
            return None
        return {"call_back": case.received_at + dt.timedelta(hours=4)}

    temp_plugin(make_plugin("timed", kesu_deadlines=deadlines))
    case = api("agent").create_case(category="timed", received_at="2026-11-20T09:00:00")
    assert case["deadlines"]["call_back"] == "2026-11-20T13:00:00+08:00"
    assert case["sla"]["call_back"]["state"] == "running"


def test_hook_kesu_case_panels(client, api):
    from tests.test_screen_rules import login

    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect", "affected_quantity": 5}
    )
    login(client, "qa")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "质量分析与纠正措施" in page
    assert 'id="quality-analysis"' in page  # QA may record the analysis
    login(client, "finance")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "质量分析与纠正措施" in page and 'id="quality-analysis"' not in page


def test_hook_kesu_event_labels(client, api):
    from tests.test_screen_rules import login

    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    resp = api("qa").post(
        f"/api/v1/quality/{case['id']}/analysis",
        json={"root_cause": "筛网破损", "responsible_unit": "生产部"},
    )
    assert resp.status_code == 200
    login(client, "qa")
    timeline = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'data-action="quality_analysis"' in timeline
    assert "登记了品保分析：原因“筛网破损”，责任单位 生产部" in timeline


def test_hook_kesu_role_labels(client):
    """The policy_returns plugin's Warehouse role is named by its label on the admin's screens."""
    from tests.test_screen_rules import login

    login(client, "admin")
    roles = client.get("/roles/list/").get_data(as_text=True)
    assert "中央仓库" in roles and "客服专员" in roles
    assert "Warehouse" not in roles and "CS Agent" not in roles


def test_hook_kesu_setting_labels(client):
    """The major_incident plugin's settings are named by their labels, not their keys."""
    from tests.test_screen_rules import login

    login(client, "admin")
    page = client.get("/plugins/major_incident/L1/settings").get_data(as_text=True)
    assert "同一批次投诉达到此数即为重大事件" in page
    assert "outbreak_cases</" not in page
