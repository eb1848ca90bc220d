"""The CAPA register screen: every corrective and preventive action, filtered, exported."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, request
from flask_appbuilder import BaseView, expose, has_access

from core.api.capa import register_file_response
from core.extensions import db
from core.models import Department
from core.roles import CAPA
from core.services import capa
from core.services.access import visible_lines
from core.services.errors import ServiceError
from core.views.cases import flash_error

PAGE = 100


class CapaView(BaseView):
    route_base = "/capa"
    default_view = "register"
    class_permission_name = CAPA
    base_permissions = [capa.CAN_READ]
    method_permission_name = {"register": "read", "xlsx": "read"}

    @expose("/")
    @has_access
    def register(self):
        error = None
        try:
            filters = capa.clean_filters(g.user, request.args)
        except ServiceError as exc:
            flash_error(exc)
            error = exc
            filters = capa.clean_filters(g.user, {})
        rows = capa.register(g.user, filters)
        try:
            page = max(1, min(int(request.args.get("page") or 1), 10_000))
        except ValueError:
            page = 1
        shown = rows[(page - 1) * PAGE : page * PAGE]
        return self.render_template(
            "kesu/capa.html",
            rows=shown,
            total=len(rows),
            overdue=sum(1 for r in rows if r.overdue),
            page=page,
            pages=max(1, (len(rows) + PAGE - 1) // PAGE),
            args={k: v for k, v in request.args.items() if k in capa.FILTERS and not error},
            lines=visible_lines(g.user),
            line_names=capa.line_names(),
            departments=db.session.scalars(sa.select(Department).order_by(Department.code)).all(),
            department_names=capa.department_names(),
            statuses=capa.STATUS_LABELS,
            kinds=capa.KIND_LABELS,
        )

    @expose("/xlsx")
    @has_access
    def xlsx(self):
        try:
            return register_file_response(g.user, capa.clean_filters(g.user, request.args))
        except ServiceError as exc:
            flash_error(exc)
            return self.register()
