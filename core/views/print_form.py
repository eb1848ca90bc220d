"""The printable approval form (《客诉问题处理审批表》): one A4 page set per case, for the file.

A standalone page (no menus): the case's facts, investigation and liability, the proposal's
lines with their total, and every approval step of every round; the case number runs on
every printed page. Contact details are masked as everywhere for roles without "view contact".
"""

from __future__ import annotations

from flask import g, render_template
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale

from core.db import utcnow
from core.i18n import translated
from core.services.access import can_view_contact
from core.services.cases import money_total
from core.services.present import customer_json
from core.timeutil import local_time
from core.views.cases import category_label, visible_case
from core.vocab import (
    APPROVAL_DECISIONS,
    CHANNELS,
    COMPENSATION_KINDS,
    CUSTOMER_KINDS,
    DEMANDS,
    POSITIONS,
    position_label,
)


class PrintFormView(BaseView):
    """GET /cases/<id>/approval-form: the approval form to print (read permission, own lines)."""

    route_base = "/cases"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"approval_form": "read"}

    @expose("/<int:pk>/approval-form")
    @has_access
    def approval_form(self, pk: int):
        actor = g.user
        case = visible_case(actor, pk)
        tz = case.business_line.timezone
        return render_template(
            "kesu/approval_form.html",
            case=case,
            tz=tz,
            when=lambda value: local_time(value, tz) if value else "—",
            lang=str(get_locale() or "zh_CN").replace("_", "-"),
            category=category_label(case.category),
            customer=customer_json(case.customer, can_view_contact(actor)),
            total=money_total(case.compensation),
            translated=translated,
            printed_at=local_time(utcnow(), tz),
            printed_by=actor.display_name,
            vocab={
                "channel": CHANNELS,
                "demand": DEMANDS,
                "kind": CUSTOMER_KINDS,
                "compensation": COMPENSATION_KINDS,
                "decision": APPROVAL_DECISIONS,
                "position": POSITIONS,
            },
            position_label=position_label,
        )
