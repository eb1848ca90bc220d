"""The CAPA register (纠正与预防措施): every corrective and preventive action across cases,
filtered and exported under the record rules; an overdue action reaches the department head."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from tests.conftest import login
from tests.plugin_helpers import to_investigating

SH = ZoneInfo("Asia/Shanghai")
DUE = "2026-12-10"


def _quality_case(api) -> int:
    case = api("agent").create_case(
        category="product_quality",
        batch_no="B2610",
        details={
            "problem": "quality_defect",
            "affected_quantity": 10,
            "unit_price": "30.00",
            "defect": "particles",
            "remedy": "recall_credit_reship",
        },
    )
    to_investigating(api, case["id"], department="QA")
    return case["id"]


def _action(api, case_id, kind="corrective", due=DUE, description="更换筛网并增加过滤工序"):
    resp = api("dept").post(
        f"/api/v1/quality/{case_id}/actions",
        json={
            "kind": kind,
            "description": description,
            "responsible_unit": "生产部",
            "due_date": due,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _register(app, username, now, **args):
    from core.models import KesuUser
    from core.services import capa

    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        return capa.register(user, capa.clean_filters(user, args), now=now)


def _local(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("now", "overdue"),
    [("2026-12-10T23:59", False), ("2026-12-11T00:00", True)],  # the due day, line-local
)
def test_an_open_action_is_overdue_from_the_day_after_its_due_day(app, api, now, overdue):
    case_id = _quality_case(api)
    _action(api, case_id)
    [row] = _register(app, "qa", _local(now))
    assert (row.status, row.overdue, row.due_date) == ("open", overdue, dt.date(2026, 12, 10))
    assert len(_register(app, "qa", _local(now), overdue="1")) == (1 if overdue else 0)


def test_the_register_shows_status_department_and_filters(app, api):
    first = _quality_case(api)
    second = _quality_case(api)
    corrective = _action(api, first)
    _action(api, second, kind="preventive", due="2026-12-20", description="来料抽检加严")
    done = api("dept").post(
        f"/api/v1/quality/{first}/actions/{corrective}/done", json={"note": "已更换筛网"}
    )
    assert done.status_code == 200
    now = _local("2026-12-15T09:00")
    rows = _register(app, "supervisor", now)
    assert {(r.case_id, r.kind, r.status, r.overdue) for r in rows} == {
        (first, "corrective", "done", False),
        (second, "preventive", "open", False),
    }
    assert [r.kind for r in _register(app, "supervisor", now, kind="preventive")] == ["preventive"]
    assert [r.case_id for r in _register(app, "supervisor", now, status="done")] == [first]
    assert len(_register(app, "supervisor", now, department="QA")) == 2
    assert _register(app, "supervisor", now, department="WH") == []
    assert len(_register(app, "supervisor", now, due_from="2026-12-11", due_to="2026-12-20")) == 1

    listed = api("auditor").get("/api/v1/capa/?status=open").get_json()
    assert [(r["case_id"], r["department"], r["status"]) for r in listed["result"]] == [
        (second, "品保课", "open")
    ]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ("status=closed", "status"),
        ("kind=x", "kind"),
        ("overdue=maybe", "overdue"),
        ("due_from=2026-13-01", "due_from"),
        ("due_from=2026-12-02&due_to=2026-12-01", "due_to"),
        ("department=NOPE", "department"),
        ("business_line=L2", "business_line"),
    ],
)
def test_bad_filters_name_the_field(api, args, field):
    resp = api("qa").get(f"/api/v1/capa/?{args}")
    assert resp.status_code == 400 and field in str(resp.get_json()), resp.get_json()


def test_record_rules_other_lines_and_other_departments_see_nothing(app, api):
    from core.models import Department, KesuUser

    case_id = _quality_case(api)
    _action(api, case_id)
    assert api("supervisor2").get("/api/v1/capa/").get_json()["result"] == []  # L2's supervisor
    assert api("agent").get("/api/v1/capa/").status_code == 403
    assert len(api("dept").get("/api/v1/capa/").get_json()["result"]) == 1
    with app.app_context(), write_transaction():  # the department user moves to WH
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "dept"))
        user.department_id = db.session.scalar(
            sa.select(Department.id).where(Department.code == "WH")
        )
    assert api("dept").get("/api/v1/capa/").get_json()["result"] == []
    assert len(api("manager").get("/api/v1/capa/").get_json()["result"]) == 1


@pytest.mark.parametrize(
    ("lang", "headers"),
    [("zh_CN", ["客诉编号", "措施", "完成期限"]), ("en", ["Case number", "Measure", "Due date"])],
)
def test_the_export_reads_back_in_both_languages_and_text_stays_text(
    app, api, client, lang, headers
):
    case_id = _quality_case(api)
    _action(api, case_id, description='=HYPERLINK("http://x","点我")')
    login(client, "qa")
    client.get(f"/lang/{lang}")
    resp = client.get("/capa/xlsx")
    assert resp.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert all(h in header for h in headers), header
    row = [c for c in sheet[2]]
    measure = row[header.index(headers[1])]
    assert measure.value == '=HYPERLINK("http://x","点我")' and measure.data_type == "s"
    due = row[header.index(headers[2])]
    assert due.is_date and due.value.date() == dt.date(2026, 12, 10)
    assert due.number_format == "yyyy-mm-dd"


def test_the_sweep_tells_the_department_head_once(app, api):
    from core.models import Department, KesuUser, Notification
    from core.services import sla_sweep

    with app.app_context(), write_transaction():
        head = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "manager"))
        dept = db.session.scalar(sa.select(Department).where(Department.code == "QA"))
        dept.head_id = head.id
        head_id = head.id
    case_id = _quality_case(api)
    _action(api, case_id)
    with app.app_context():
        sla_sweep.sweep(now=_local("2026-12-10T23:59"))
        sla_sweep.sweep(now=_local("2026-12-11T08:00"))
        sla_sweep.sweep(now=_local("2026-12-12T08:00"))
        notices = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "capa_overdue")
        ).all()
    assert [(n.user_id, n.params["due"]) for n in notices] == [(head_id, DUE)]
    assert notices[0].link.startswith(f"/cases/{case_id}#")


def test_hook_kesu_capa_actions(app, api, client, temp_plugin):
    from core.contracts import CapaRow
    from tests.conftest import make_plugin

    case = api("agent").create_case()
    other = case["id"] + 10_000

    def rows(user, line_ids, now):
        made = [
            CapaRow(
                "audit_fix",
                1,
                case["id"],
                case["number"],
                lid,
                None,
                "preventive",
                "复核发货单",
                "仓库",
                dt.date(2026, 12, 1),
                None,
                True,
                False,
                None,
            )
            for lid in line_ids
        ]
        # a row of a line it was not asked for is dropped by the core
        return [
            *made,
            CapaRow(
                "audit_fix",
                2,
                other,
                "X",
                999,
                None,
                "corrective",
                "x",
                "y",
                dt.date(2026, 12, 1),
                None,
                True,
                False,
                None,
            ),
        ]

    temp_plugin(make_plugin("audit_fix", category=False, kesu_capa_actions=rows))
    listed = api("supervisor").get("/api/v1/capa/").get_json()["result"]
    assert [(r["case_number"], r["status"], r["overdue"]) for r in listed] == [
        (case["number"], "open", True)
    ]
    login(client, "supervisor")
    page = client.get("/capa/?overdue=1").get_data(as_text=True)
    assert "复核发货单" in page and "预防措施" in page and 'data-overdue="true"' in page
