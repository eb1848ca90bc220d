"""Each user's own lists: approvals waiting for them, and their notifications."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from core.services import notifications, workflow
from core.services.cases import money_total
from core.timeutil import in_zone, reader_zone
from core.vocab import position_label


class InboxView(BaseView):
    """待审批: the cases whose pending approval step the user may decide."""

    route_base = "/inbox"
    default_view = "waiting"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"waiting": "read"}

    @expose("/")
    @has_access
    def waiting(self):
        cases = workflow.waiting_for(g.user)
        rows = [
            (case, workflow.pending_step(case), money_total(case.compensation)) for case in cases
        ]
        return self.render_template(
            "kesu/inbox.html", rows=rows, in_zone=in_zone, position_label=position_label
        )


class NotificationView(BaseView):
    """通知: the user's alerts, newest first."""

    route_base = "/notifications"
    default_view = "mine"
    class_permission_name = "Notification"
    base_permissions = ["can_read"]
    method_permission_name = {"mine": "read", "read_all": "read"}

    @expose("/")
    @has_access
    def mine(self):
        rows = notifications.for_user(g.user)
        return self.render_template(
            "kesu/notifications.html",
            rows=rows,
            text=notifications.text,
            in_zone=in_zone,
            tz=reader_zone(g.user),
        )

    @expose("/read", methods=["POST"])
    @has_access
    def read_all(self):
        notifications.mark_read(g.user)
        flash(str(_l("All notifications marked read.")), "success")
        return redirect(url_for("NotificationView.mine"))
