"""The root-cause catalogue (原因分类): seeded per line in its language, plugins' entries, chosen
when the root cause is recorded, edited by an admin only, never deleted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.plugin_helpers import act, read, to_investigating
from tests.test_history import timeline


def _entries(app, code):
    from core.extensions import db
    from core.models import RootCause
    from core.services.lines import get_line

    with app.app_context():
        line = get_line(code)
        rows = db.session.scalars(
            sa.select(RootCause).where(RootCause.business_line_id == line.id)
        ).all()
        return {r.code: (r.label, r.active, r.source) for r in rows}


def _choice(api, case_id, label):
    choices = read(api, case_id)["root_cause_choices"]
    return next(c["id"] for c in choices if c["label"] == label)


def test_a_new_line_gets_the_defaults_in_its_language_and_its_plugins_entries(app):
    from core.services import lines
    from core.services.access import SYSTEM

    zh = _entries(app, "L1")  # created with product_quality on
    assert zh["material"] == ("原材料", True, None)
    assert zh["material.batch_defect"] == ("原材料 / 批次不合格", True, None)
    assert zh["transport.handling"][0] == "运输 / 野蛮装卸"
    # product_quality's defect kinds, each under the top-level entry it maps to
    assert zh["product_quality.caking"] == ("仓储 / 结块", True, "product_quality")
    assert zh["product_quality.packaging_standard"][0].startswith("包装 / ")
    assert not any(code.startswith("product_quality.") for code in _entries(app, "L2"))

    with app.app_context():
        lines.create_line(SYSTEM, code="EN", name="Export", locale="en")
    en = _entries(app, "EN")
    assert en["material.batch_defect"][0] == "Raw material / Batch out of specification"
    with app.app_context():
        lines.enable_plugin(SYSTEM, "EN", "product_quality")
    assert _entries(app, "EN")["product_quality.caking"][0] == "Storage / Caking"


def test_hook_kesu_root_causes(app, temp_plugin):
    from core.contracts import RootCauseSpec
    from tests.conftest import make_plugin

    plugin = make_plugin(
        "rc_plugin",
        kesu_root_causes=lambda: [
            RootCauseSpec("tamper", "transport", "开箱验货被拆"),
            RootCauseSpec("orphan", "no_such_top", "无处可挂"),
        ],
    )
    before = _entries(app, "L1")
    temp_plugin(plugin, on_lines=("L1",))
    after = _entries(app, "L1")
    assert after["rc_plugin.tamper"] == ("运输 / 开箱验货被拆", True, "rc_plugin")
    assert after["rc_plugin.orphan"][0] == "其他 / 无处可挂"  # an unknown top: under 其他
    assert len(after) == len(before) + 2
    assert "rc_plugin.tamper" not in _entries(app, "L2")


def test_propose_records_the_chosen_entry_and_the_history_names_it(api, client):
    case = api("agent").create_case()
    to_investigating(api, case["id"])
    entry = _choice(api, case["id"], "运输 / 野蛮装卸")
    act(api, case["id"], "qa", "propose", root_cause="装卸时跌落", root_cause_category=entry)
    shown = read(api, case["id"])
    assert shown["root_cause_category"] == "运输 / 野蛮装卸"
    assert shown["root_cause"] == "装卸时跌落"
    login(client, "agent")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "原因分类" in page and page.count("运输 / 野蛮装卸") >= 1
    told = timeline(client, case["id"])
    assert "野蛮装卸" in told, told


@pytest.mark.parametrize("bad", ["x", 0, -1, 99999999, "１"])
def test_propose_refuses_an_entry_that_is_not_a_choice(api, bad):
    case = api("agent").create_case()
    to_investigating(api, case["id"])
    resp = api("qa").action(case["id"], "propose", root_cause="装卸时跌落", root_cause_category=bad)
    assert resp.status_code in (400, 422), resp.get_json()
    assert "root_cause_category" in str(resp.get_json())
    assert read(api, case["id"])["status"] == "investigating"


def test_another_lines_entry_or_one_switched_off_is_refused(app, api):
    from core.extensions import db
    from core.models import RootCause
    from core.services import root_causes
    from core.services.lines import get_line

    with app.app_context():
        other = db.session.scalar(
            sa.select(RootCause.id).where(
                RootCause.business_line_id == get_line("L2").id,
                RootCause.code == "transport.handling",
            )
        )
    case = api("agent").create_case()
    to_investigating(api, case["id"])
    resp = api("qa").action(case["id"], "propose", root_cause="x", root_cause_category=other)
    assert resp.status_code in (400, 422) and "root_cause_category" in str(resp.get_json())

    entry = _choice(api, case["id"], "运输 / 运输延误")
    with app.app_context():
        from core.services.access import SYSTEM

        root_causes.change_entry(SYSTEM, get_line("L1"), entry, active=False)
    assert "运输 / 运输延误" not in {
        c["label"] for c in read(api, case["id"])["root_cause_choices"]
    }
    resp = api("qa").action(case["id"], "propose", root_cause="x", root_cause_category=entry)
    assert resp.status_code in (400, 422) and "root_cause_category" in str(resp.get_json())


def test_quality_analysis_defaults_to_the_defects_entry(api):
    case = api("agent").create_case(
        category="product_quality",
        batch_no="B2610",
        details={
            "problem": "quality_defect",
            "affected_quantity": 10,
            "unit_price": "30.00",
            "defect": "caking",
            "remedy": "recall_credit_reship",
        },
    )
    to_investigating(api, case["id"])
    analysis = {"root_cause": "仓库受潮结块", "responsible_unit": "仓储部"}
    resp = api("qa").post(f"/api/v1/quality/{case['id']}/analysis", json=analysis)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["root_cause_category"] == "仓储 / 结块"
    chosen = _choice(api, case["id"], "原材料 / 批次不合格")
    resp = api("qa").post(
        f"/api/v1/quality/{case['id']}/analysis",
        json={**analysis, "root_cause_category": chosen},
    )
    assert resp.get_json()["result"]["root_cause_category"] == "原材料 / 批次不合格"


def test_the_admin_adds_renames_and_switches_off_entries_on_the_screen(app, client):
    from core.extensions import db
    from core.models import AuditEvent

    login(client, "admin")
    page = client.get("/root-causes/?business_line=L1").get_data(as_text=True)
    assert "原因分类" in page and "批次不合格" in page
    top = next(c for c, v in _entries(app, "L1").items() if c == "transport")
    assert top
    with app.app_context():
        from core.models import RootCause

        transport = db.session.scalar(
            sa.select(RootCause.id).where(RootCause.code == "transport").limit(1)
        )
    resp = client.post("/root-causes/L1", data={"name": " 冷链 断链 ", "parent": transport})
    assert resp.status_code == 302
    added = next(v for c, v in _entries(app, "L1").items() if c.startswith("custom."))
    assert added == ("运输 / 冷链 断链", True, None)
    # the same name again at that level, or an empty one: refused, nothing added
    before = len(_entries(app, "L1"))
    client.post("/root-causes/L1", data={"name": "冷链 断链", "parent": transport})
    client.post("/root-causes/L1", data={"name": "  "})
    assert len(_entries(app, "L1")) == before
    with app.app_context():
        entry = db.session.scalar(
            sa.select(RootCause.id).where(RootCause.code.like("custom.%")).limit(1)
        )
    client.post(f"/root-causes/L1/{entry}", data={"name": "冷链中断"})
    client.post(f"/root-causes/L1/{entry}", data={"active": "no"})
    custom = {c: v for c, v in _entries(app, "L1").items() if c.startswith("custom.")}
    assert list(custom.values()) == [("运输 / 冷链中断", False, None)]
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("root_cause_%"))
        ).all()
    assert actions == ["root_cause_add", "root_cause_change", "root_cause_change"]
    # an entry of another line through this line's address does not exist
    with app.app_context():
        from core.services.lines import get_line

        foreign = db.session.scalar(
            sa.select(RootCause.id).where(RootCause.business_line_id == get_line("L2").id).limit(1)
        )
    assert client.post(f"/root-causes/L1/{foreign}", data={"active": "no"}).status_code == 404
    assert _entries(app, "L2")["material"][1] is True


def test_switching_a_top_entry_off_withdraws_its_entries(app, api):
    from core.extensions import db
    from core.models import RootCause
    from core.services import root_causes
    from core.services.access import SYSTEM
    from core.services.lines import get_line

    case = api("agent").create_case()
    to_investigating(api, case["id"])
    entry = _choice(api, case["id"], "运输 / 野蛮装卸")
    with app.app_context():
        line = get_line("L1")
        top = db.session.scalar(
            sa.select(RootCause.id).where(
                RootCause.business_line_id == line.id, RootCause.code == "transport"
            )
        )
        root_causes.change_entry(SYSTEM, line, top, active=False)
    labels = {c["label"] for c in read(api, case["id"])["root_cause_choices"]}
    assert not any(label.startswith("运输") for label in labels) and "包装 / 包装破损" in labels
    resp = api("qa").action(case["id"], "propose", root_cause="x", root_cause_category=entry)
    assert resp.status_code in (400, 422) and "root_cause_category" in str(resp.get_json())
