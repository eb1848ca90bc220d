"""The accountability report (考核) as an Excel workbook: one sheet of departments, one of
people. Follows core/services/xlsx_cells.py's rules (text as text, numbers with a number
format, no formula); headers in the language of the request (or ``force_locale``)."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from flask_babel import lazy_gettext as _l

from core.services.accountability import KINDS
from core.services.report_labels import kind_label
from core.services.xlsx_cells import INT, MONEY, TEXT, WORKBOOK_OPTIONS, CellPlan, Column

OPTIONS = {**WORKBOOK_OPTIONS, "constant_memory": False, "in_memory": True}
SHEETS = {"departments": _l("Departments"), "people": _l("People")}
LABELS = {
    "department": _l("Responsible department"),
    "person": _l("Person"),
    "cases": _l("Cases assigned"),
    "liable": _l("Found liable"),
    "compensation_total": _l("Compensation total (CNY)"),
    "charged": _l("Cost charged to the person (CNY)"),
    "deadlines_missed": _l("Deadlines missed"),
    "capa_overdue": _l("Corrective actions overdue or done late"),
    "capa_ineffective": _l("Corrective actions found not effective"),
    "repeats": _l("Repeat root causes"),
    "repeat_root_causes": _l("Repeated root-cause entries"),
}


def _columns(who: str) -> list[Column]:
    first = [Column(who, LABELS[who], TEXT, 22)]
    if who == "person":
        first.append(Column("department", LABELS["department"], TEXT, 18))
    money = [Column(f"kind:{kind}", kind, MONEY, 14) for kind in KINDS]
    tail = [Column("compensation_total", LABELS["compensation_total"], MONEY, 16)]
    if who == "person":
        tail.append(Column("charged", LABELS["charged"], MONEY, 16))
    tail.append(Column("deadlines_missed", LABELS["deadlines_missed"], INT, 12))
    if who == "department":
        tail.append(Column("capa_overdue", LABELS["capa_overdue"], INT, 14))
        tail.append(Column("capa_ineffective", LABELS["capa_ineffective"], INT, 14))
    tail.append(Column("repeats", LABELS["repeats"], INT, 12))
    tail.append(Column("repeat_root_causes", LABELS["repeat_root_causes"], TEXT, 36))
    counts = [Column(k, LABELS[k], INT, 10) for k in ("cases", "liable")]
    return [*first, *counts, *money, *tail]


def _header(column: Column) -> str:
    if column.key.startswith("kind:"):
        return kind_label(column.header)
    return str(column.header)


def repeats_text(row: dict[str, Any]) -> str:
    return "; ".join(f"{r['label']} ×{r['cases']}" for r in row["repeat_root_causes"])


def _cells(row: dict[str, Any], columns: list[Column], name: str) -> list[Any]:
    out: list[Any] = []
    for column in columns:
        key = column.key
        if key in ("department", "person") and column is columns[0]:
            out.append(name)
        elif key == "department":
            out.append(row.get("department") or "")
        elif key.startswith("kind:"):
            out.append(round(row["compensation"][key[5:]] * 100))
        elif key == "repeat_root_causes":
            out.append(repeats_text(row))
        elif column.type == MONEY:
            out.append(round(row[key] * 100))
        else:
            out.append(row[key])
    return out


def filename(report: dict[str, Any]) -> str:
    scope = report["business_line"] or "all"
    return f"accountability-{scope}-{report['from']}-{report['to']}.xlsx"


def workbook(report: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, OPTIONS)
    for key, who, rows in (
        ("departments", "department", report["departments"]),
        ("people", "person", report["people"]),
    ):
        sheet = book.add_worksheet(str(SHEETS[key])[:31])
        columns = _columns(who)
        plan = CellPlan(book, sheet, columns)
        plan.write_header(book, [_header(c) for c in columns])
        for number, row in enumerate(rows, start=1):
            # A money cell of 0 is written as 0, not left empty (CellPlan skips "" and None).
            plan.write_row(number, _cells(row, columns, row["name"]))
    book.close()
    return out.getvalue()
