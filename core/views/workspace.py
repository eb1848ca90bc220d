"""My work (我的工作): each role's home page, and the count beside its menu entry."""

from __future__ import annotations

import datetime as dt

from flask import g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from core.roles import CAN_CREATE
from core.services import workspace
from core.services.access import can
from core.services.pickers import open_counts, overdue_count
from core.timeutil import local_time, reader_zone
from core.workflow import STAGE_LABELS

MENU_NAME = "My work"


def _due_text(due, tz: str) -> str:
    if isinstance(due, dt.datetime):
        return local_time(due, tz)
    if isinstance(due, dt.date):
        return due.isoformat()
    return "—"


def render_workspace(view):
    """The work list of the signed-in user, after the open cases of their lines by stage."""
    user = g.user
    may_read = can(user, "can_read")
    return view.render_template(
        "kesu/workspace.html",
        appbuilder=view.appbuilder,
        sections=workspace.sections(user),
        counts=open_counts(user) if may_read else {},
        overdue=overdue_count(user) if may_read else 0,
        stage_labels=STAGE_LABELS,
        may_read=may_read,
        may_register=can(user, CAN_CREATE),
        due_text=_due_text,
        tz=reader_zone(user),
    )


class WorkspaceView(BaseView):
    """我的工作: what waits for the user, section by section, overdue first."""

    route_base = "/mywork"
    default_view = "mine"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"mine": "read"}

    @expose("/")
    @has_access
    def mine(self):
        return render_workspace(self)


def menu_badges() -> dict[str, int]:
    """Counts shown beside menu entries (by menu name), for the signed-in user only."""
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    cached = g.get("_kesu_menu_badges")
    if cached is None:
        cached = {MENU_NAME: workspace.count(user)}
        g._kesu_menu_badges = cached
    return cached


def install_template_globals(app) -> None:
    app.jinja_env.globals["kesu_menu_badges"] = menu_badges
