"""Return visits (回访) on screen: the case page's visits panel and form, and the "Return
visits" screen with the due list and the supervisor's reopen list."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.inputs import form_int
from core.roles import CAN_DISMISS_VISIT, CAN_RECORD_VISIT, VISIT
from core.services import visits
from core.services.access import can
from core.services.errors import ServiceError
from core.timeutil import in_zone, local_time
from core.views.cases import flash_error
from core.vocab import VISIT_CHANNELS, VISIT_FOLLOWUPS

SCORES = range(visits.SCORES[0], visits.SCORES[1] + 1)


def visit_panel(case) -> dict[str, Any]:
    """What the case page's visits panel shows (a template global, so the case view stays
    as it is): the visits, and the form for those who may record one on a closed case."""
    actor = g.user
    tz = case.business_line.timezone
    return {
        "visits": visits.in_order(case),
        "tz": tz,
        "can_record": case.status == "closed" and can(actor, CAN_RECORD_VISIT, VISIT),
        "channels": VISIT_CHANNELS,
        "followups": VISIT_FOLLOWUPS,
        "scores": SCORES,
        "followup_at_most": visits.FOLLOWUP_AT_MOST,
        "now": in_zone(utcnow(), tz).strftime("%Y-%m-%dT%H:%M"),
        "satisfaction": visits.satisfaction(case),
    }


class VisitView(BaseView):
    """回访: closed cases waiting for their visit, and the visits waiting for a supervisor."""

    route_base = "/visits"
    default_view = "overview"
    class_permission_name = VISIT
    base_permissions = ["can_read", CAN_RECORD_VISIT, CAN_DISMISS_VISIT]
    method_permission_name = {"overview": "read", "record": "record", "dismiss": "dismiss"}

    @expose("/")
    @has_access
    def overview(self):
        actor = g.user
        may_dismiss = can(actor, CAN_DISMISS_VISIT, VISIT)
        return self.render_template(
            "kesu/visits.html",
            due=visits.due(actor),
            reopen=visits.reopen_list(actor) if may_dismiss else None,
            channels=VISIT_CHANNELS,
            local_time=local_time,
        )

    @expose("/case/<int:pk>", methods=["POST"])
    @has_access
    def record(self, pk: int):
        data: dict[str, Any] = {
            key: request.form[key]
            for key in ("visited_at", "channel", "comment")
            if request.form.get(key, "").strip()
        }
        if request.form.get("satisfaction", "").strip():
            data["satisfaction"] = form_int(request.form["satisfaction"].strip())
        try:
            visits.record(g.user, pk, data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Return visit recorded.")), "success")
        return redirect(url_for("CaseView.show", pk=pk) + "#visits")

    @expose("/<int:visit_id>/dismiss", methods=["POST"])
    @has_access
    def dismiss(self, visit_id: int):
        try:
            visit = visits.dismiss(g.user, visit_id, {"reason": request.form.get("reason", "")})
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(
                str(_l("%(number)s stays closed: dismissed.", number=visit.case.number)), "success"
            )
        return redirect(url_for("VisitView.overview"))
