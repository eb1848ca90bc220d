"""The history as people read it: every audit action a sentence in the reader's language, with
labels, local times and display names; hashes and raw JSON only for auditors."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Case, KesuUser
from core.models.audit import GENESIS_HASH
from core.services import history
from core.services.history_text import TELLERS
from core.workflow import ACTIONS
from tests.conftest import make_plugin
from tests.test_evidence import PNG, upload
from tests.test_screen_rules import login

ROOT = Path(__file__).resolve().parents[1]
NAMES = {
    "agent": ("李", "客服"),
    "supervisor": ("张", "主管"),
    "qa": ("王", "质检"),
    "auditor": ("赵", "审计"),
}
PLUGIN_TOLD = {"quality_analysis", "capa_action", "capa_done", "return_receipt"}
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a code such as missing_evidence or cs_supervisor


def name_people(app) -> None:
    with app.app_context():
        for username, (last, first) in NAMES.items():
            user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
            user.last_name, user.first_name = last, first
        db.session.commit()


def timeline(client, case_id: int) -> str:
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    return page[page.index('id="timeline"') : page.index('id="kesu-sla"')]


# -- every action the code records is told --------------------------------------------------------


def _recorded_actions() -> set[str]:
    """Action names written literally by the code: ``audit.record(actor, "x", ...)``, the
    calendar's ``_calendar_changed(actor, line, "x", ...)`` and ``set_details(action="x")``."""
    found: set[str] = set()
    files = [*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    for path in files:
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name == "record" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                found.add(node.args[1].value)
            if name == "_calendar_changed" and isinstance(node.args[2], ast.Constant):
                found.add(node.args[2].value)
            if name == "set_details":
                found |= {k.value.value for k in node.keywords if k.arg == "action"}
            del args
    return {a for a in found if isinstance(a, str)}


def test_every_recorded_action_has_a_sentence():
    recorded = _recorded_actions()
    assert {"create", "upload", "visit", "export_created", "sweep", "capa_action"} <= recorded
    assert set(ACTIONS) <= set(TELLERS)
    assert recorded - set(TELLERS) - PLUGIN_TOLD == set()


# -- one event of every kind, told in both languages -----------------------------------------------


def _events(case_id: int, line_id: int, user_ids: dict[str, int]) -> list[AuditEvent]:
    at = dt.datetime(2026, 12, 1, 6, 5, tzinfo=dt.UTC)
    agent, supervisor = user_ids["agent"], user_ids["supervisor"]
    issue = {
        "code": "missing_evidence",
        "field": "delivery_note",
        "message": "Upload the carrier's delivery note, annotated with what was received and "
        "signed by both sides.",
    }
    lines = [
        {"kind": "reship", "amount": "0.00", "quantity": 2, "note": "Reship"},
        {"kind": "refund", "amount": "300.00", "quantity": None, "note": ""},
    ]
    specs = [
        ("create", "case", {"status": [None, "new"], "category": [None, "product_quality"]}),
        (
            "update",
            "case",
            {
                "details": [{"problem": "quality_defect"}, {"problem": "wrong_shipment"}],
                "channel": ["phone", "email"],
            },
        ),
        ("accept", "case", {"status": ["new", "accepted"], "override": True, "comment": "OK"}),
        ("reject", "case", {"status": ["new", "rejected"], "comment": "无理投诉"}),
        (
            "assign",
            "case",
            {
                "status": ["accepted", "investigating"],
                "department_id": [None, "DEPT"],
                "handler_id": [None, user_ids["qa"]],
            },
        ),
        (
            "propose",
            "case",
            {
                "status": ["investigating", "proposed"],
                "compensation": [[], lines],
                "root_cause": [None, "筛网破损"],
            },
        ),
        (
            "submit",
            "case",
            {
                "status": ["proposed", "approving"],
                "approval_steps": [None, ["cs_supervisor", "marketing_director"]],
            },
        ),
        (
            "approve",
            "case",
            {
                "status": ["approving", "executing"],
                "step": "cs_supervisor",
                "approved_lines": [1, 2],
            },
        ),
        (
            "refuse",
            "case",
            {"status": ["approving", "proposed"], "step": "cs_supervisor", "comment": "金额过高"},
        ),
        ("execute", "case", {"status": ["executing", "confirming"]}),
        ("confirm", "case", {"status": ["confirming", "verifying"]}),
        (
            "verify",
            "case",
            {
                "status": ["verifying", "investigating"],
                "effective": False,
                "deadlines_restarted": ["investigation", "reply"],
            },
        ),
        ("close", "case", {"status": ["verifying", "closed"]}),
        (
            "reopen",
            "case",
            {
                "status": ["closed", "investigating"],
                "comment": "客户再投诉",
                "visits_reopened": [3],
            },
        ),
        (
            "hold",
            "case",
            {
                "status": ["investigating", "on_hold"],
                "held_from": [None, "investigating"],
                "comment": "等客户",
            },
        ),
        (
            "resume",
            "case",
            {
                "status": ["on_hold", "investigating"],
                "held_from": ["investigating", None],
                "hold_minutes": 95,
            },
        ),
        (
            "priority",
            "case",
            {"priority": ["P3", "P1"], "priority_override": [None, "P1"], "reason": "媒体关注"},
        ),
        ("compensation", "case", {"compensation": [[], lines], "reason": "客户同意"}),
        (
            "recompute",
            "case",
            {
                "priority": ["P3", "P2"],
                "deadlines": [
                    {"reply": "2026-12-01T06:00:00+00:00"},
                    {"reply": "2026-12-02T06:00:00+00:00"},
                ],
            },
        ),
        (
            "upload",
            "evidence",
            {
                "kind": [None, "photo"],
                "filename": [None, "破损.png"],
                "sha256": [None, "ab" * 32],
                "source": [None, "微信"],
                "acceptance_issues": [[], [issue]],
            },
        ),
        (
            "visit",
            "case_visit",
            {
                "visited_at": "2026-12-01T06:00:00+00:00",
                "channel": "wechat",
                "satisfaction": 2,
                "comment": "仍不满意",
            },
        ),
        (
            "visit_dismissed",
            "case_visit",
            {"followup": ["pending", "dismissed"], "reason": "已解释"},
        ),
        (
            "compensation_done",
            "compensation_line",
            {
                "line": 1,
                "kind": "reship",
                "exec_status": ["pending", "done"],
                "reference": "ERP-1",
                "credit_due": {"lines": [3, 4], "on": "2026-12-31"},
            },
        ),
        (
            "compensation_cancelled",
            "compensation_line",
            {
                "line": 2,
                "kind": "reship",
                "exec_status": ["pending", "cancelled"],
                "reason": "客户放弃",
            },
        ),
        (
            "capa_action",
            "quality_capa_action",
            {
                "kind": [None, "corrective"],
                "description": [None, "更换筛网"],
                "responsible_unit": [None, "生产部"],
                "due_date": [None, "2026-12-20"],
            },
        ),
        (
            "capa_done",
            "quality_capa_action",
            {
                "kind": "corrective",
                "description": "更换筛网",
                "note": [None, "已更换 200 目筛网"],
            },
        ),
        (
            "quality_analysis",
            "case",
            {
                "root_cause": [None, "筛网破损"],
                "details": [{}, {"root_cause": "筛网破损", "responsible_unit": "生产部"}],
            },
        ),
        (
            "return_receipt",
            "return_receipt",
            {
                "sku": [None, "P-100"],
                "batch_no": [None, "B1"],
                "quantity": [None, 3],
                "accepted": [None, False],
                "reasons": [None, ["quantity"]],
            },
        ),
    ]
    line_specs = [
        (
            "export_created",
            "export_batch",
            {
                "number": "FX-1",
                "kind": "credit_notes",
                "count": 2,
                "total": "300.00",
                "xlsx_sha256": "cd" * 32,
                "lines": [1, 2],
            },
        ),
        (
            "export_downloaded",
            "export_batch",
            {"number": "FX-1", "kind": "reshipments", "format": "xlsx", "contact_data": True},
        ),
        (
            "export_voided",
            "export_batch",
            {"number": "FX-1", "reason": "重复导出", "released": [1, 2]},
        ),
        (
            "plugin_enable",
            "business_line",
            {"plugins": [["logistics"], ["logistics", "product_quality"]]},
        ),
        (
            "plugin_disable",
            "business_line",
            {"plugins": [["logistics", "product_quality"], ["logistics"]]},
        ),
        ("settings", "business_line", {"product_quality.defects": [None, ["crack"]]}),
        ("calendar", "business_line", {"days": [None, "2026-12-05 workday"]}),
        ("calendar_seed", "business_line", {"added": 30}),
        ("sweep", "business_line", {"escalated": 2, "to": ["supervisor"]}),
        (
            "create",
            "customer",
            {
                "name": [None, "上海经销商"],
                "kind": [None, "dealer"],
                "phone": [None, "13812345678"],
            },
        ),
        (
            "delete",
            "line_position",
            {"user": ["supervisor", None], "position": ["cs_supervisor", None]},
        ),
        (
            "create",
            "user",
            {
                "username": [None, "newbie"],
                "roles": [None, ["CS Agent"]],
                "business_lines": [None, ["L1"]],
            },
        ),
    ]
    out = []
    for n, (action, entity, changes) in enumerate(specs + line_specs, start=1):
        on_case = n <= len(specs)
        out.append(
            AuditEvent(
                id=n,
                at=at,
                actor_id=supervisor if action in ("assign", "approve") else agent,
                actor="x",
                case_id=case_id if on_case else None,
                entity=entity,
                entity_id=case_id if on_case else line_id,
                action=action,
                changes=changes,
                prev_hash=GENESIS_HASH,
                hash="ef" * 32,
            )
        )
    return out


def _told(app, api, locale: str):
    case = api("agent").create_case(
        category="product_quality", details={"problem": "quality_defect"}
    )
    name_people(app)
    with app.app_context():
        users = dict(db.session.execute(sa.select(KesuUser.username, KesuUser.id)).all())
        line_id = db.session.get(Case, case["id"]).business_line_id
        dept = db.session.scalar(sa.text("SELECT id FROM department WHERE code = 'QA'"))
        events = _events(case["id"], line_id, users)
        for event in events:
            if "department_id" in event.changes:
                event.changes["department_id"] = [None, dept]
        auditor = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "auditor"))
        with app.test_request_context(f"/?_l_={locale}"):
            return {
                e.action + ":" + e.entity: e
                for e in history.entries(auditor, events, "Asia/Shanghai")
            }


def _text(entry) -> str:
    return " | ".join([entry.text, *entry.details])


def test_every_kind_of_event_reads_as_a_chinese_sentence(app, api):
    told = _told(app, api, "zh_CN")
    for key, entry in told.items():
        text = _text(entry)
        assert not SNAKE.search(text), (key, text)
        assert entry.action not in text, (key, text)
        assert "{" not in text and "None" not in text and "True" not in text, (key, text)
        assert entry.when == "2026-12-01 14:05"  # 06:05 UTC in Asia/Shanghai
    assert told["accept:case"].text == "李客服 受理了客诉（越过受理检查问题）"
    assert told["assign:case"].text == "张主管 将客诉分派给 王质检（品保课）"
    assert (
        told["compensation:case"].text == "李客服 提出理赔：补发 2 件、退款 ¥300.00，合计 ¥300.00"
    )
    assert told["approve:case"].text == "张主管 审批通过（客服主管）"
    assert told["submit:case"].text == "李客服 提交审批：客服主管 → 营销总监"
    upload_text = _text(told["upload:evidence"])
    assert (
        "受理检查未通过：请上传承运商送货单" in upload_text
        and "（双方签字的送货单）" in upload_text
    )
    assert "ab" * 32 not in upload_text  # the file's hash is for the integrity detail
    assert "质量问题类型：质量异常 → 错装" in _text(told["update:case"])
    assert "投诉渠道：电话 → 电子邮箱" in _text(told["update:case"])
    # a plugin's setting by its label, not its key
    assert "产品质量 · 登记时可选的缺陷类型" in _text(told["settings:business_line"])
    assert "答复客户：2026-12-01 14:00 → 2026-12-02 14:00" in _text(told["recompute:case"])
    assert "登记了纠正措施：“更换筛网”" in told["capa_action:quality_capa_action"].text
    assert "冲销到期：2026-12-31（2 条）" in _text(told["compensation_done:compensation_line"])
    assert told["capa_done:quality_capa_action"].text.endswith(
        "报告纠正措施“更换筛网”已完成：已更换 200 目筛网"
    )
    assert "拒收" in told["return_receipt:return_receipt"].text
    assert "升级了华彩涂料的 2 件超期客诉" in told["sweep:business_line"].text
    assert "已通知：张主管" in _text(told["sweep:business_line"])
    assert "启用了产品质量" in told["plugin_enable:business_line"].text
    assert told["create:customer"].text.endswith("新建了客户“上海经销商”")
    assert told["upload:evidence"].integrity.hash == "ef" * 32  # an auditor reads it


def test_every_kind_of_event_reads_as_an_english_sentence(app, api):
    told = _told(app, api, "en")
    for key, entry in told.items():
        text = _text(entry)
        assert not SNAKE.search(text), (key, text)
        assert not re.search(r"[\u4e00-\u9fff]{2,}(客诉|理赔|审批)", entry.text), (key, text)
    assert told["accept:case"].text.startswith("李客服 accepted the complaint")
    assert told["compensation:case"].text == (
        "李客服 proposed compensation: Reshipment 2 pcs, Refund ¥300.00; total ¥300.00"
    )
    assert told["approve:case"].text == "张主管 approved (Customer-service supervisor)"
    assert "Acceptance check not passed: Upload the carrier's delivery note" in _text(
        told["upload:evidence"]
    )


# -- the case page ------------------------------------------------------------------------------


def test_case_page_tells_the_history_with_names_local_times_and_no_hash_for_agents(
    app, client, api
):
    name_people(app)
    case = api("agent").create_case(details={"problem": "transit_damage"})
    upload(api("agent"), case["id"], PNG, kind="delivery_note")
    resp = api("supervisor").action(case["id"], "accept", override=True, comment="现场确认")
    assert resp.status_code == 200, resp.get_json()
    assert (
        api("supervisor").action(case["id"], "assign", department="QA", handler="qa").status_code
        == 200
    )
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.case_id == case["id"]).order_by(AuditEvent.id)
        ).all()
        first = events[0]
        local = (first.at + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
        hashes = [e.hash for e in events]
    login(client, "agent")
    shown = timeline(client, case["id"])
    assert f'{local}</span> <span class="kesu-sentence">李客服 登记了客诉（物流问题）' in shown
    assert "张主管 将客诉分派给 王质检（品保课）" in shown
    assert "受理检查未通过：请填写收货时间。（收货时间）" in shown
    assert "agent" not in shown and "supervisor" not in shown
    assert not any(h in shown for h in hashes) and "kesu-integrity" not in shown
    login(client, "supervisor")  # customer-service staff, though it may read the audit trail
    assert "kesu-integrity" not in timeline(client, case["id"])
    login(client, "auditor")
    shown = timeline(client, case["id"])
    assert all(h in shown for h in hashes) and "kesu-integrity" in shown
    client.get("/lang/en")
    login(client, "agent")
    client.get("/lang/en")
    shown = timeline(client, case["id"])
    assert "李客服 registered the complaint (Logistics)" in shown
    assert "assigned the complaint to 王质检" in shown


def test_case_page_costs_the_same_statements_for_1_and_for_many_events(app, client, api):
    case = api("agent").create_case()
    login(client, "auditor")

    def statements() -> int:
        count = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: count.append(1)  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/cases/{case['id']}").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(count)

    client.get(f"/cases/{case['id']}")  # warm caches
    one = statements()
    version = case["version"]
    for n in range(12):
        resp = api("agent").put(
            f"/api/v1/case/{case['id']}", json={"description": f"第 {n} 次补充", "version": version}
        )
        assert resp.status_code == 200, resp.get_json()
        version = resp.get_json()["result"]["version"]
    many = statements()
    assert one == many


# -- the plugin hook ---------------------------------------------------------------------------


def test_hook_kesu_audit_sentence(app, client, api, temp_plugin):
    from core.db import write_transaction
    from core.services import audit
    from core.services.access import SYSTEM

    def tell(event):
        if event.action != "stamp":
            return None
        return f"{event.who} stamped the file {event.changes.get('no')}"

    temp_plugin(make_plugin("stamper", category=False, kesu_audit_sentence=tell))
    case = api("agent").create_case()
    with app.app_context():
        with write_transaction():
            audit.record(SYSTEM, "stamp", entity="stamp", case_id=case["id"], changes={"no": 7})
            audit.record(
                SYSTEM, "frobnicate", entity="case", case_id=case["id"], changes={"root_cause": "x"}
            )
    login(client, "agent")
    shown = timeline(client, case["id"])
    assert "系统 stamped the file 7" in shown  # the plugin's sentence
    assert "系统 修改了客诉" in shown and "原因分析：x" in shown  # nobody's: the generic one
    assert "frobnicate" not in shown.replace('data-action="frobnicate"', "")
