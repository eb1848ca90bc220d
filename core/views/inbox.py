"""Each user's own lists: approvals waiting for them, and their notifications."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from core.i18n import translated
from core.inputs import form_int
from core.services import inbox_counts, notifications, workflow
from core.services.cases import money_total
from core.services.compensation import proposal_reasons
from core.services.errors import ServiceError
from core.timeutil import in_zone, reader_zone
from core.vocab import COMPENSATION_KINDS, position_label
from core.workflow import ACTIONS

DECISIONS = ("approve", "refuse")
# How the inbox names a field a refused decision points at.
FIELD_LABELS = {"comment": _l("Reason"), "version": _l("Case changed meanwhile")}


class InboxView(BaseView):
    """待审批: the cases whose pending approval step the user may decide, with what is proposed,
    approved or refused in place."""

    route_base = "/inbox"
    default_view = "waiting"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    # Deciding checks can_approve / can_refuse and the step's position in the service.
    method_permission_name = {"waiting": "read", "decide": "read"}

    @expose("/")
    @has_access
    def waiting(self):
        from core.views.cases import category_label

        cases = workflow.waiting_for(g.user)
        rows = [
            (case, workflow.pending_step(case), money_total(case.compensation)) for case in cases
        ]
        return self.render_template(
            "kesu/inbox.html",
            rows=rows,
            reasons=proposal_reasons([case.id for case in cases]),
            in_zone=in_zone,
            position_label=position_label,
            category_label=category_label,
            kinds=COMPENSATION_KINDS,
            translated=translated,
        )

    @expose("/<int:pk>/<decision>", methods=["POST"])
    @has_access
    def decide(self, pk: int, decision: str):
        if decision not in DECISIONS:
            abort(404)
        payload: dict = {}
        if request.form.get("comment", "").strip():
            payload["comment"] = request.form["comment"]
        if request.form.get("version"):
            payload["version"] = form_int(request.form["version"])
        try:
            case = workflow.run_action(g.user, pk, decision, payload)
        except ServiceError as exc:
            if exc.status == 404:
                abort(404)
            flash(error_text(exc), "danger")
        else:
            flash(
                str(_l("%(action)s: done.", action=ACTIONS[decision].label))
                + " "
                + str(_l("Case %(number)s.", number=case.number)),
                "success",
            )
        return redirect(url_for("InboxView.waiting"))


def error_text(exc: ServiceError) -> str:
    """The error with the field it names, e.g. “Reason: A comment is required.”."""
    parts = []
    for field, messages in exc.errors.items():
        label = FIELD_LABELS.get(field)
        parts += [f"{label}: {m}" if label else str(m) for m in messages]
    return " ".join(parts) or str(exc.message)


class NotificationView(BaseView):
    """通知: the user's alerts, newest first."""

    route_base = "/notifications"
    default_view = "mine"
    class_permission_name = "Notification"
    base_permissions = ["can_read"]
    method_permission_name = {"mine": "read", "read_all": "read", "open": "read"}

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

    @expose("/<int:pk>/open", methods=["POST"])
    @has_access
    def open(self, pk: int):
        """Mark the notification read and go where it points (only ever a page of Kesu)."""
        try:
            row = notifications.open_one(g.user, pk)
        except ServiceError:
            abort(404)
        link = row.link or ""
        if not link.startswith("/") or link.startswith("//") or "\\" in link:
            return redirect(url_for("NotificationView.mine"))
        return redirect(link)


def navbar_counts() -> dict[str, int]:
    """The template global ``kesu_navbar_counts``: the bell's and the inbox's badges."""
    return inbox_counts.counts(g.user)
