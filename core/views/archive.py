"""The admin's archive screen: per line, the retention and the cases it lets archive now."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from core.roles import CAN_ARCHIVE, LEDGER
from core.services import archive
from core.services.access import visible_lines
from core.services.errors import ServiceError
from core.timeutil import in_zone
from core.views.cases import flash_error
from core.views.line_pick import chosen_line


class ArchiveView(BaseView):
    route_base = "/archive"
    default_view = "overview"
    class_permission_name = LEDGER
    base_permissions = [CAN_ARCHIVE]
    method_permission_name = {"overview": "archive", "run": "archive"}

    @expose("/")
    @has_access
    def overview(self):
        rows = [archive.eligible(g.user, line) for line in visible_lines(g.user)]
        return self.render_template("kesu/archive.html", rows=rows, in_zone=in_zone)

    @expose("/<code>", methods=["POST"])
    @has_access
    def run(self, code: str):
        _, line = chosen_line(code)
        expected = request.form.get("expected")
        try:
            info = archive.eligible(g.user, line)
            if expected is not None and expected != str(info.count):
                flash(
                    str(_l("The number of cases changed; check it and archive again.")), "warning"
                )
                return redirect(url_for("ArchiveView.overview"))
            done = archive.archive_line(g.user, line)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("%(n)s cases archived.", n=done)), "success")
        return redirect(url_for("ArchiveView.overview"))
