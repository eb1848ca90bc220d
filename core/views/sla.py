"""The SLA screens: the supervisors' dashboard (overdue, at-risk customers, attainment, the
sweep) and the admins' working calendars."""

from __future__ import annotations

import datetime as dt

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.deadlines import TARGETS
from core.models import BusinessLine
from core.services import sla, sla_calendar, sla_customers, sla_reports, sla_sweep
from core.services.access import can, visible_lines
from core.services.errors import ServiceError
from core.timeutil import in_zone, zone
from core.views.cases import flash_error
from core.views.line_pick import chosen_line
from core.vocab import DEADLINES, HOLIDAY_NAMES
from core.workflow import STAGE_LABELS


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


class SlaView(BaseView):
    """Overdue cases per stage and department, at-risk customers and SLA attainment."""

    route_base = "/sla"
    default_view = "dashboard"
    class_permission_name = sla.SLA_VIEW
    base_permissions = [sla.CAN_READ_SLA, sla.CAN_SWEEP]
    method_permission_name = {"dashboard": "read", "sweep": "sweep"}

    @expose("/")
    @has_access
    def dashboard(self):
        actor = g.user
        lines = visible_lines(actor)
        code = request.args.get("business_line") or (lines[0].code if lines else "")
        line = next((entry for entry in lines if entry.code == code), None)
        tz = line.timezone if line else "Asia/Shanghai"
        first, last = _month_bounds(utcnow().astimezone(zone(tz)).date())
        errors: dict[str, list[str]] = {}
        results = []
        if request.args.get("from") or request.args.get("to"):
            try:
                first, last = sla_reports.validate_period(
                    request.args.get("from"), request.args.get("to")
                )
            except ServiceError as exc:
                errors = exc.errors
        if line is not None and not errors:
            results = sla_reports.attainment(actor, line, first, last)
        return self.render_template(
            "kesu/sla.html",
            lines=lines,
            line=line,
            first=first,
            last=last,
            errors=errors,
            overdue=sla_reports.overdue_counts(actor),
            at_risk=sla_customers.at_risk_customers(actor),
            results=results,
            targets=TARGETS,
            deadline_labels=DEADLINES,
            stage_labels=STAGE_LABELS,
            can_sweep=can(actor, sla.CAN_SWEEP, sla.SLA_VIEW),
            in_zone=in_zone,
        )

    @expose("/sweep", methods=["POST"])
    @has_access
    def sweep(self):
        result = sla_sweep.sweep(g.user)
        flash(
            str(_l("Sweep done: %(n)s deadlines escalated.", n=result.total)),
            "success" if result.total == 0 else "warning",
        )
        return redirect(url_for("SlaView.dashboard"))


class CalendarView(BaseView):
    """A business line's working calendar per year: holidays and make-up working days."""

    route_base = "/calendars"
    default_view = "year"
    class_permission_name = sla.CALENDAR_VIEW
    base_permissions = [sla.CAN_EDIT_CALENDAR]
    method_permission_name = {"year": "edit", "save": "edit", "delete": "edit", "seed": "edit"}

    def _line(self, code: str | None) -> BusinessLine:
        return chosen_line(code)[1]

    @expose("/")
    @has_access
    def year(self):
        line = self._line(request.args.get("business_line"))
        today = utcnow().astimezone(zone(line.timezone)).date()
        try:
            year = int(request.args.get("year") or today.year)
        except ValueError:
            year = today.year
        year = min(max(year, 2000), 2100)
        days = sla_calendar.calendar_days(line, year)
        cal = sla.calendar_for(line)
        weekdays = cal.working_days_between(dt.date(year, 1, 1), dt.date(year, 12, 31))
        return self.render_template(
            "kesu/calendar.html",
            lines=visible_lines(g.user),
            line=line,
            year=year,
            days=days,
            working_days=weekdays,
            years=sorted({*sla_calendar.calendar_years(line), today.year, today.year + 1}),
            text=request.args.get("text", ""),
            holiday_names=HOLIDAY_NAMES,
        )

    @expose("/<code>/<int:year>", methods=["POST"])
    @has_access
    def save(self, code: str, year: int):
        line = self._line(code)
        try:
            entries = sla_calendar.parse_day_list(request.form.get("days", ""))
            written = sla_calendar.set_calendar_days(
                g.user,
                line,
                entries,
                replace_year=year if request.form.get("replace") else None,
            )
        except ServiceError as exc:
            flash_error(exc)
            return redirect(url_for("CalendarView.year", business_line=code, year=year))
        flash(str(_l("%(n)s dates saved.", n=written)), "success")
        return redirect(url_for("CalendarView.year", business_line=code, year=year))

    @expose("/<code>/<int:year>/delete", methods=["POST"])
    @has_access
    def delete(self, code: str, year: int):
        line = self._line(code)
        try:
            day = dt.date.fromisoformat(request.form.get("day", ""))
        except ValueError:
            flash(str(_l("Must be a date such as 2026-11-01.")), "danger")
        else:
            if sla_calendar.delete_calendar_day(g.user, line, day):
                flash(str(_l("%(day)s removed.", day=day.isoformat())), "success")
        return redirect(url_for("CalendarView.year", business_line=code, year=year))

    @expose("/<code>/<int:year>/seed", methods=["POST"])
    @has_access
    def seed(self, code: str, year: int):
        line = self._line(code)
        added = sla_calendar.seed_china(g.user, line, [year])
        flash(str(_l("%(n)s dates added from China's official calendar.", n=added)), "success")
        return redirect(url_for("CalendarView.year", business_line=code, year=year))
