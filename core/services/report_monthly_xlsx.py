"""The monthly report as an Excel workbook, with native Excel charts (XlsxWriter).

Follows core/services/xlsx_cells.py's rules: every text is written as text (a product or root
cause named ``=1+1`` stays that text), numbers are numbers with a number format, and no cell
holds a formula; the charts read cell ranges of their sheet. Headers and labels are in the
language of the current request (or ``force_locale`` around the call).
"""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.services.report_labels import (
    DIMENSION_TITLES,
    FLOW,
    TOP_TITLES,
    kind_label,
    merged_counts,
    target_label,
    value_label,
)
from core.services.report_monthly import DIMENSIONS
from core.services.xlsx_cells import MONEY_FORMAT, WORKBOOK_OPTIONS

OPTIONS = {**WORKBOOK_OPTIONS, "constant_memory": False, "in_memory": True}
SHEETS = {
    "summary": _l("Summary"),
    "sla": _l("SLA attainment"),
    "counts": _l("Cases by dimension"),
    "compensation": _l("Compensation"),
    "satisfaction": _l("Satisfaction"),
    "top": _l("Top products and batches"),
    "missed": _l("Cases that missed"),
}


def filename(report: dict[str, Any]) -> str:
    return f"monthly-report-{report['business_line']}-{report['month']}.xlsx"


class _Book:
    def __init__(self, out) -> None:
        self.book = xlsxwriter.Workbook(out, OPTIONS)
        add = self.book.add_format
        self.head = add({"bold": True, "bg_color": "#DDEBF7"})
        self.title = add({"bold": True, "font_size": 13})
        self.int = add({"num_format": "0"})
        self.signed = add({"num_format": "+0;-0;0"})
        self.money = add({"num_format": MONEY_FORMAT})
        self.signed_money = add({"num_format": "+#,##0.00;-#,##0.00;0.00"})
        self.pct = add({"num_format": "0.0%"})
        self.avg = add({"num_format": "0.00"})

    def sheet(self, key: str, widths: tuple[int, ...]):
        sheet = self.book.add_worksheet(str(SHEETS[key])[:31])
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        return sheet

    def header(self, sheet, row: int, texts) -> None:
        for col, text in enumerate(texts):
            sheet.write_string(row, col, str(text), self.head)

    def number(self, sheet, row: int, col: int, value: Any, fmt) -> None:
        if value is None:
            sheet.write_string(row, col, "—")
        else:
            sheet.write_number(row, col, value, fmt)

    def chart(self, kind: str, title: str, subtype: str | None = None):
        options = {"type": kind}
        if subtype:
            options["subtype"] = subtype
        chart = self.book.add_chart(options)
        chart.set_title({"name": title})
        return chart


def _months(report: dict[str, Any]) -> tuple[str, str]:
    return report["month"], report["previous"]["month"]


def _summary(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("summary", (32, 16, 16, 14))
    sheet.write_string(0, 0, _("Monthly report"), b.title)
    sheet.write_string(1, 0, _("Business line"))
    sheet.write_string(1, 1, f"{report['business_line']} {report['business_line_name']}")
    sheet.write_string(2, 0, _("Month"))
    sheet.write_string(2, 1, report["month"])
    sheet.write_string(3, 0, _("Time zone"))
    sheet.write_string(3, 1, report["timezone"])
    now, before = _months(report)
    b.header(sheet, 5, (_("Figure"), now, before, _("Change")))
    prev, change = report["previous"], report["change"]
    row = 6
    for key, label in FLOW.items():
        sheet.write_string(row, 0, str(label))
        b.number(sheet, row, 1, report[key], b.int)
        b.number(sheet, row, 2, prev[key], b.int)
        b.number(sheet, row, 3, change[key], b.signed)
        row += 1
    sheet.write_string(row, 0, _("Return visits done"))
    b.number(sheet, row, 1, report["satisfaction"]["count"], b.int)
    b.number(sheet, row, 2, prev["satisfaction"]["count"], b.int)
    row += 1
    sheet.write_string(row, 0, _("Average satisfaction (1-5)"))
    b.number(sheet, row, 1, report["satisfaction"]["average"], b.avg)
    b.number(sheet, row, 2, prev["satisfaction"]["average"], b.avg)
    b.number(sheet, row, 3, change["satisfaction"], b.avg)
    chart = b.chart("column", _("This month and the previous one"))
    for col, month in ((1, now), (2, before)):
        chart.add_series(
            {
                "name": month,
                "categories": [sheet.name, 6, 0, 9, 0],
                "values": [sheet.name, 6, col, 9, col],
            }
        )
    sheet.insert_chart(row + 2, 0, chart)


def _sla(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("sla", (40, 12, 12, 12, 10, 10, 12, 16))
    now, before = _months(report)
    b.header(
        sheet,
        0,
        (
            _("Target"),
            _("Required"),
            _("Attained"),
            _("On time"),
            _("Missed"),
            _("Still open"),
            _("Attained") + f" {before}",
            _("Change"),
        ),
    )
    for row, (name, figures) in enumerate(report["sla"].items(), start=1):
        sheet.write_string(row, 0, target_label(name))
        b.number(sheet, row, 1, figures["target"], b.pct)
        b.number(sheet, row, 2, figures["rate"], b.pct)
        b.number(sheet, row, 3, figures["met"], b.int)
        b.number(sheet, row, 4, figures["missed"], b.int)
        b.number(sheet, row, 5, figures["pending"], b.int)
        b.number(sheet, row, 6, report["previous"]["sla"][name]["rate"], b.pct)
        b.number(sheet, row, 7, report["change"]["sla"][name], b.pct)
    last = len(report["sla"])
    chart = b.chart("column", _("SLA attainment against the target"))
    for col, label in ((2, now), (1, _("Required")), (6, before)):
        chart.add_series(
            {
                "name": str(label),
                "categories": [sheet.name, 1, 0, last, 0],
                "values": [sheet.name, 1, col, last, col],
            }
        )
    chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    sheet.insert_chart(last + 2, 0, chart, {"x_scale": 1.4})


def _counts(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("counts", (36, 14, 14, 4, 36, 14, 14))
    now, before = _months(report)
    row = 0
    for dimension in DIMENSIONS:
        rows = merged_counts(report, dimension)
        sheet.write_string(row, 0, str(DIMENSION_TITLES[dimension]), b.title)
        b.header(sheet, row + 1, (_("Value"), now, before))
        first = row + 2
        for offset, (key, n, m) in enumerate(rows):
            sheet.write_string(first + offset, 0, value_label(dimension, key, report))
            sheet.write_number(first + offset, 1, n, b.int)
            sheet.write_number(first + offset, 2, m, b.int)
        if rows:
            chart = b.chart("bar", str(DIMENSION_TITLES[dimension]))
            for col, month in ((1, now), (2, before)):
                chart.add_series(
                    {
                        "name": month,
                        "categories": [sheet.name, first, 0, first + len(rows) - 1, 0],
                        "values": [sheet.name, first, col, first + len(rows) - 1, col],
                    }
                )
            sheet.insert_chart(row, 4, chart, {"y_scale": 0.8})
        row = max(first + len(rows), row + 17) + 1


def _compensation(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("compensation", (36, 16, 16, 16))
    now, before = _months(report)
    b.header(sheet, 0, (_("Kind"), now, before, _("Change")))
    kinds = list(report["compensation"])
    for row, kind in enumerate(kinds, start=1):
        sheet.write_string(row, 0, kind_label(kind))
        b.number(sheet, row, 1, report["compensation"][kind], b.money)
        b.number(sheet, row, 2, report["previous"]["compensation"].get(kind, 0.0), b.money)
        b.number(sheet, row, 3, report["change"]["compensation"][kind], b.signed_money)
    chart = b.chart("column", _("Compensation by kind (CNY)"))
    for col, month in ((1, now), (2, before)):
        chart.add_series(
            {
                "name": month,
                "categories": [sheet.name, 1, 0, len(kinds), 0],
                "values": [sheet.name, 1, col, len(kinds), col],
            }
        )
    sheet.insert_chart(len(kinds) + 2, 0, chart, {"x_scale": 1.4})


def _satisfaction(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("satisfaction", (24, 14, 14))
    now, before = _months(report)
    b.header(sheet, 0, (_("Satisfaction score"), now, before))
    scores = list(report["satisfaction"]["distribution"])
    for row, score in enumerate(scores, start=1):
        sheet.write_string(row, 0, score)
        b.number(sheet, row, 1, report["satisfaction"]["distribution"][score], b.int)
        b.number(sheet, row, 2, report["previous"]["satisfaction"]["distribution"][score], b.int)
    chart = b.chart("column", _("Satisfaction distribution"))
    for col, month in ((1, now), (2, before)):
        chart.add_series(
            {
                "name": month,
                "categories": [sheet.name, 1, 0, len(scores), 0],
                "values": [sheet.name, 1, col, len(scores), col],
            }
        )
    sheet.insert_chart(len(scores) + 2, 0, chart)


def _top(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("top", (36, 12, 16))
    row = 0
    for key, title in TOP_TITLES.items():
        dimension = "product" if key.startswith("product") else "batch"
        sheet.write_string(row, 0, str(title), b.title)
        b.header(sheet, row + 1, (_("Value"), _("Number of cases"), _("Cost (CNY)")))
        row += 2
        for entry in report["top"][key]:
            sheet.write_string(row, 0, value_label(dimension, entry["key"], report))
            sheet.write_number(row, 1, entry["count"], b.int)
            sheet.write_number(row, 2, entry["cost"], b.money)
            row += 1
        row += 1


def _missed(b: _Book, report: dict[str, Any]) -> None:
    sheet = b.sheet("missed", (40, 20, 28, 28, 14))
    b.header(sheet, 0, (_("Target"), _("Case number"), _("Due"), _("Met"), _("Minutes late")))
    row = 1
    for name, cases in report["missed_cases"].items():
        for case in cases:
            sheet.write_string(row, 0, target_label(name))
            sheet.write_string(row, 1, case["number"])
            sheet.write_string(row, 2, case["due_at"][:16].replace("T", " "))
            if case["met_at"]:
                sheet.write_string(row, 3, case["met_at"][:16].replace("T", " "))
            sheet.write_number(row, 4, case["late_minutes"], b.int)
            row += 1


def workbook(report: dict[str, Any]) -> bytes:
    """The report as XLSX bytes, in the current locale."""
    out = io.BytesIO()
    b = _Book(out)
    for part in (_summary, _sla, _counts, _compensation, _satisfaction, _top, _missed):
        part(b, report)
    b.book.close()
    return out.getvalue()
