"""Administration screens: business lines, departments, products; users with lines."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, BusinessLine, Department, KesuUser
from tests.test_screen_rules import login


def _line(app, code):
    with app.app_context():
        return db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code))


def test_admin_adds_edits_and_deactivates_a_business_line(app, client):
    login(client, "admin")
    resp = client.post(
        "/businesslineview/add",
        data={
            "code": "L3",
            "name": "新业务线",
            "timezone": "Asia/Urumqi",
            "locale": "zh_CN",
            "active": "y",
        },
    )
    assert resp.status_code == 302
    line = _line(app, "L3")
    assert (line.name, line.timezone, line.active) == ("新业务线", "Asia/Urumqi", True)
    resp = client.post(
        f"/businesslineview/edit/{line.id}",
        data={"code": "L3", "name": "新业务线", "timezone": "Asia/Urumqi", "locale": "zh_CN"},
    )  # unticked
    assert resp.status_code == 302
    assert _line(app, "L3").active is False
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.entity, event.action, event.actor) == ("business_line", "update", "admin")
    assert event.changes["active"] == [True, False]


def test_business_line_form_refuses_bad_values(app, client):
    login(client, "admin")
    page = client.post(
        "/businesslineview/add",
        data={"code": "L4", "name": "x", "timezone": "Mars/Olympus", "locale": "zh_CN"},
    ).get_data(as_text=True)
    assert "未知时区" in page
    assert _line(app, "L4") is None
    page = client.post(
        "/businesslineview/add",
        data={"code": "L1", "name": "重复", "timezone": "Asia/Shanghai", "locale": "zh_CN"},
        follow_redirects=True,
    )
    text = page.get_data(as_text=True)
    assert "IntegrityError" not in text and "UNIQUE" not in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BusinessLine)) == 2


def test_departments_and_users(app, client):
    login(client, "admin")
    assert (
        client.post("/departmentview/add", data={"code": "LOG", "name": "物流部"}).status_code
        == 302
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Department).where(Department.code == "LOG")).name
            == "物流部"
        )
        l2 = _line(app, "L2")
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        role_ids = [r.id for r in user.roles]
    page = client.get(f"/users/edit/{user.id}").get_data(as_text=True)
    assert "business_lines" in page and "department" in page
    resp = client.post(
        f"/users/edit/{user.id}",
        data={
            "first_name": "agent",
            "last_name": "李",
            "username": "agent",
            "email": user.email,
            "active": "y",
            "roles": [str(r) for r in role_ids],
            "business_lines": [str(l2.id)],
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        assert [line.code for line in user.business_lines] == ["L2"]
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.entity, event.action) == ("user", "update")
    assert event.changes["business_lines"] == [["L1 华彩涂料"], ["L2 清泉饮料"]]


def test_staff_cannot_reach_administration(client):
    login(client, "supervisor")
    for url in ("/businesslineview/list/", "/departmentview/list/", "/plugins/", "/users/list/"):
        resp = client.get(url)
        assert resp.status_code in (302, 403), url


def test_admin_changes_plugin_and_core_settings_per_line(app, client):
    from core.services import lines

    login(client, "admin")
    page = client.get("/plugins/").get_data(as_text=True)
    assert (
        "/plugins/product_quality/L1/settings" in page and "/plugins/kesu_core/L1/settings" in page
    )
    form = client.get("/plugins/major_incident/L1/settings").get_data(as_text=True)
    assert 'name="outbreak_cases"' in form and 'value="3"' in form
    resp = client.post(
        "/plugins/major_incident/L1/settings", data={"outbreak_cases": "4", "outbreak_days": "14"}
    )
    assert resp.status_code == 302
    client.post(
        "/plugins/product_quality/L1/settings", data={"defects": "particles，颗粒_custom, caking"}
    )
    bad = client.post("/plugins/kesu_core/L1/settings", data={"approval_threshold": "lots"})
    assert bad.status_code == 200 and "has-error" in bad.get_data(as_text=True)
    client.post("/plugins/kesu_core/L1/settings", data={"approval_threshold": "30000.00"})
    with app.app_context():
        line = _line(app, "L1")
        line = db.session.merge(line)
        assert lines.effective_settings(line, "major_incident") == {
            "outbreak_cases": 4,
            "outbreak_days": 14,
        }
        assert lines.effective_settings(line, "product_quality")["defects"] == [
            "particles",
            "颗粒_custom",
            "caking",
        ]
        assert str(lines.effective_settings(line, "kesu_core")["approval_threshold"]) == "30000.00"
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "settings").order_by(AuditEvent.id)
        ).first()
    assert event.changes["major_incident.outbreak_cases"] == [3, 4]


def test_settings_from_the_shell(runner):
    shown = runner.invoke(args=["plugins", "settings", "major_incident", "--line", "L1"])
    assert shown.exit_code == 0 and "outbreak_days = 30" in shown.output
    changed = runner.invoke(
        args=["plugins", "settings", "major_incident", "--line", "L1", "outbreak_days=10"]
    )
    assert changed.exit_code == 0 and "outbreak_days = 10" in changed.output
    bad = runner.invoke(
        args=["plugins", "settings", "major_incident", "--line", "L1", "outbreak_days=ten"]
    )
    assert bad.exit_code != 0
    unknown = runner.invoke(
        args=["plugins", "settings", "major_incident", "--line", "L1", "colour=red"]
    )
    assert unknown.exit_code != 0


def test_a_name_is_one_field_surname_first_everywhere(app, client):
    """姓名 is one field on the user screens and one's own account; older accounts kept in two
    parts show and save whole; the navbar and pick lists show the name surname first."""
    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        user.last_name, user.first_name = "李", "客服"  # saved before the name was one field
        db.session.commit()
        user_id, role_ids = user.id, [r.id for r in user.roles]
        email = user.email
    login(client, "admin")
    page = client.get(f"/users/edit/{user_id}").get_data(as_text=True)
    assert "姓名" in page and 'value="李客服"' in page and "first_name" not in page
    resp = client.post(
        f"/users/edit/{user_id}",
        data={
            "last_name": "李客服",
            "username": "agent",
            "email": email,
            "active": "y",
            "roles": [str(r) for r in role_ids],
        },
    )
    assert resp.status_code == 302
    assert "李客服" in client.get("/users/list/").get_data(as_text=True)
    # no delete is offered, and Kesu's roles are picked by their labels
    assert f"/users/delete/{user_id}" not in client.get("/users/list/").get_data(as_text=True)
    assert client.post(f"/users/delete/{user_id}").status_code == 404
    form = client.get("/users/add").get_data(as_text=True)
    assert "客服专员" in form and ">CS Agent<" not in form and ">Public<" not in form
    with app.app_context():
        user = db.session.get(KesuUser, user_id)
        assert (user.last_name, user.first_name, user.display_name) == ("李客服", "", "李客服")
    login(client, "agent")
    assert "李客服" in client.get("/").get_data(as_text=True)  # the navbar's user menu
    resp = client.post("/userinfoeditview/form", data={"last_name": "欧阳小明"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(KesuUser, user_id).display_name == "欧阳小明"
        # audited like an admin's change: who renamed whom, from what to what
        event = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.entity == "user", AuditEvent.entity_id == user_id)
            .order_by(AuditEvent.id.desc())
        )
        assert event.actor == "agent" and event.changes["last_name"] == ["李客服", "欧阳小明"]
    # a blank name is refused and changes nothing
    resp = client.post("/userinfoeditview/form", data={"last_name": "   "})
    assert resp.status_code == 200
    with app.app_context():
        assert db.session.get(KesuUser, user_id).display_name == "欧阳小明"


def test_roles_are_a_read_only_list_and_fab_internals_are_not_screens(client):
    login(client, "admin")
    roles = client.get("/roles/list/").get_data(as_text=True)
    assert "客服主管" in roles and "系统管理员" in roles
    assert "未登录访客" not in roles  # Flask-AppBuilder's own roles are not Kesu's
    for url in ("/roles/add", "/roles/edit/1", "/groups/list/", "/permissions/list/"):
        assert client.get(url).status_code == 404, url
    for url in ("/viewmenus/list/", "/permissionviews/list/"):
        assert client.get(url).status_code == 404, url
