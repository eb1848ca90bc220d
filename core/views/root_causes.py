"""The admin's screen for a line's root-cause catalogue (原因分类): add, rename, switch off."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from core.models import BusinessLine
from core.services import root_causes
from core.services.access import visible_lines
from core.services.errors import ServiceError
from core.views.cases import flash_error
from core.views.line_pick import chosen_line


class RootCauseView(BaseView):
    route_base = "/root-causes"
    default_view = "catalogue"
    class_permission_name = root_causes.PLUGINS_VIEW
    base_permissions = [root_causes.CAN_CONFIGURE]
    method_permission_name = {"catalogue": "configure", "add": "configure", "change": "configure"}

    def _line(self, code: str | None) -> BusinessLine:
        return chosen_line(code)[1]

    @expose("/")
    @has_access
    def catalogue(self):
        line = self._line(request.args.get("business_line"))
        rows = root_causes.catalogue(line.id, active_only=False)
        return self.render_template(
            "kesu/root_causes.html",
            lines=visible_lines(g.user),
            line=line,
            rows=rows,
            tops=[r for r in rows if r.parent_id is None],
        )

    def _back(self, line: BusinessLine):
        return redirect(url_for("RootCauseView.catalogue", business_line=line.code))

    @expose("/<code>", methods=["POST"])
    @has_access
    def add(self, code: str):
        line = self._line(code)
        try:
            root_causes.add_entry(
                g.user, line, request.form.get("name"), request.form.get("parent") or None
            )
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Root cause added.")), "success")
        return self._back(line)

    @expose("/<code>/<int:entry_id>", methods=["POST"])
    @has_access
    def change(self, code: str, entry_id: int):
        line = self._line(code)
        state = request.form.get("active")
        try:
            root_causes.change_entry(
                g.user,
                line,
                entry_id,
                name=request.form.get("name") if "name" in request.form else None,
                active=None if state is None else state == "yes",
            )
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Root cause saved.")), "success")
        return self._back(line)
