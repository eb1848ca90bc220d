"""The monthly report screen (月度报告): pick a line and a month; figures, charts, download."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.downloads import download_response
from core.roles import CAN_READ, REPORT
from core.services import (
    accountability,
    accountability_xlsx,
    report_labels,
    report_monthly,
    report_monthly_xlsx,
)
from core.services.access import visible_lines
from core.services.errors import NotFound, ServiceError
from core.services.xlsx_cells import XLSX_MIME
from core.timeutil import zone
from core.views import report_charts as charts


def _charts(report: dict[str, Any]) -> list[charts.Chart]:
    now, before = report["month"], report["previous"]["month"]
    prev = report["previous"]
    out = [
        charts.bars(
            "kesu-chart-flow",
            str(_l("This month and the previous one")),
            (now, before),
            [(str(label), (report[k], prev[k])) for k, label in report_labels.FLOW.items()],
            charts.count,
        ),
        charts.bars(
            "kesu-chart-sla",
            str(_l("SLA attainment against the target")),
            (now, before),
            [
                (report_labels.target_label(name), (f["rate"], prev["sla"][name]["rate"]))
                for name, f in report["sla"].items()
            ],
            charts.percent,
            scale=1.0,
            markers=[f["target"] for f in report["sla"].values()],
        ),
        charts.bars(
            "kesu-chart-category",
            str(report_labels.DIMENSION_TITLES["category"]),
            (now, before),
            [
                (report_labels.value_label("category", key, report), (n, m))
                for key, n, m in report_labels.merged_counts(report, "category")
            ],
            charts.count,
        ),
        charts.bars(
            "kesu-chart-compensation",
            str(_l("Compensation by kind (CNY)")),
            (now, before),
            [
                (report_labels.kind_label(kind), (amount, prev["compensation"].get(kind, 0.0)))
                for kind, amount in report["compensation"].items()
            ],
            charts.money,
        ),
        charts.bars(
            "kesu-chart-satisfaction",
            str(_l("Satisfaction distribution")),
            (now, before),
            [
                (score, (n, prev["satisfaction"]["distribution"].get(score, 0)))
                for score, n in report["satisfaction"]["distribution"].items()
            ],
            charts.count,
        ),
    ]
    return out


class ReportView(BaseView):
    """The monthly report of a business line."""

    route_base = "/report"
    default_view = "monthly"
    class_permission_name = REPORT
    base_permissions = [CAN_READ]
    method_permission_name = {
        "monthly": "read",
        "monthly_xlsx": "read",
        "accountability": "read",
        "accountability_xlsx": "read",
    }

    @expose("/monthly")
    @has_access
    def monthly(self):
        actor = g.user
        lines = visible_lines(actor)
        code = request.args.get("business_line") or (lines[0].code if lines else "")
        line = next((entry for entry in lines if entry.code == code), None)
        tz = line.timezone if line else "Asia/Shanghai"
        month = request.args.get("month") or utcnow().astimezone(zone(tz)).strftime("%Y-%m")
        errors: dict[str, list[str]] = {}
        report = None
        if lines:
            try:
                report = report_monthly.monthly(actor, code, month)
            except ServiceError as exc:
                errors = exc.errors or {"month": [str(exc.message)]}
        status = 404 if "business_line" in errors and request.args.get("business_line") else 200
        return (
            self.render_template(
                "kesu/report_monthly.html",
                lines=lines,
                code=code,
                month=month,
                errors=errors,
                report=report,
                charts=_charts(report) if report else [],
                labels=report_labels,
                dimensions=report_monthly.DIMENSIONS,
            ),
            status,
        )

    def _refused(self, exc: ServiceError):
        code = 404 if isinstance(exc, NotFound) else 400
        page = self.render_template(
            "kesu/error.html",
            code=code,
            title=str(_l("The request is not valid.")),
            message=str(exc.message),
        )
        return page, code

    @expose("/monthly.xlsx")
    @has_access
    def monthly_xlsx(self):
        try:
            report = report_monthly.monthly(
                g.user, request.args.get("business_line"), request.args.get("month")
            )
        except ServiceError as exc:
            return self._refused(exc)
        return download_response(
            report_monthly_xlsx.workbook(report),
            report_monthly_xlsx.filename(report),
            XLSX_MIME,
        )

    @expose("/accountability")
    @has_access
    def accountability(self):
        """Accountability (考核) per department and person: line (or all), first and last day."""
        actor = g.user
        lines = visible_lines(actor)
        args = request.args
        code = args.get("business_line", "")
        line = next((entry for entry in lines if entry.code == code), None)
        today = utcnow().astimezone(zone(line.timezone if line else "Asia/Shanghai")).date()
        first = args.get("from") or today.replace(day=1).isoformat()
        last = args.get("to") or today.isoformat()
        errors: dict[str, list[str]] = {}
        report = None
        if lines:
            try:
                report = accountability.report(actor, code, first, last)
            except ServiceError as exc:
                errors = exc.errors or {"from": [str(exc.message)]}
        return self.render_template(
            "kesu/report_accountability.html",
            lines=lines,
            code=code,
            first=first,
            last=last,
            errors=errors,
            report=report,
            kinds=accountability.KINDS,
            kind_label=report_labels.kind_label,
            deadline_labels=("、" if str(get_locale()).startswith("zh") else ", ").join(
                report_labels.target_label(name) for name in accountability.DEADLINES
            ),
            repeats_text=accountability_xlsx.repeats_text,
        ), (400 if "business_line" in errors else 200)

    @expose("/accountability.xlsx")
    @has_access
    def accountability_xlsx(self):
        args = request.args
        try:
            report = accountability.report(
                g.user, args.get("business_line"), args.get("from"), args.get("to")
            )
        except ServiceError as exc:
            return self._refused(exc)
        return download_response(
            accountability_xlsx.workbook(report),
            accountability_xlsx.filename(report),
            XLSX_MIME,
        )
