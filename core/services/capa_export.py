"""The CAPA register as an Excel workbook (the safe-cell rules of core.services.xlsx_cells)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
import xlsxwriter
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.db import write_transaction
from core.extensions import db
from core.models import BusinessLine
from core.services import audit
from core.services.capa import (
    KIND_LABELS,
    STATUS_LABELS,
    Filters,
    department_names,
    line_names,
    register,
)
from core.services.xlsx_cells import DATE, DATETIME, TEXT, WORKBOOK_OPTIONS, CellPlan, Column
from core.timeutil import in_zone

COLUMNS: tuple[Column, ...] = (
    Column("case_number", _l("Case number"), TEXT, 18),
    Column("business_line", _l("Business line"), TEXT, 14),
    Column("kind", _l("Kind"), TEXT, 12),
    Column("description", _l("Measure"), TEXT, 40),
    Column("responsible_unit", _l("Responsible unit"), TEXT, 16),
    Column("department", _l("Responsible department"), TEXT, 14),
    Column("due_date", _l("Due date"), DATE, 12),
    Column("status", _l("Status"), TEXT, 16),
    Column("overdue", _l("Overdue"), TEXT, 8),
    Column("done_at", _l("Done at"), DATETIME, 17),
)


def export_register(actor, filters: Filters) -> Path:
    """The filtered register in a workbook, in a temporary folder of its own (the caller's
    download removes it); an audited export."""
    rows = register(actor, filters)
    lines, departments = line_names(), department_names()
    folder = Path(tempfile.mkdtemp(prefix="kesu-capa-"))
    path = folder / "capa.xlsx"
    zones = dict(db.session.execute(sa.select(BusinessLine.id, BusinessLine.timezone)).all())
    book = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "tmpdir": str(folder)})
    sheet = book.add_worksheet(str(_l("Corrective actions"))[:31])
    cells = CellPlan(book, sheet, COLUMNS)
    cells.write_header(book, [str(c.header) for c in COLUMNS])
    yes = str(_l("Yes"))
    for n, r in enumerate(rows, start=1):
        tz = zones[r.business_line_id]
        done = in_zone(r.done_at, tz).replace(tzinfo=None) if r.done_at else None
        cells.write_row(
            n,
            [
                r.case_number,
                lines.get(r.business_line_id, ""),
                str(KIND_LABELS.get(r.kind, r.kind)),
                r.description,
                r.responsible_unit,
                departments.get(r.department_id, "") if r.department_id else "",
                r.due_date,
                str(STATUS_LABELS[r.status]),
                yes if r.overdue else "",
                done,
            ],
        )
    sheet.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    book.close()
    with write_transaction():
        audit.record(
            actor,
            "export",
            entity="capa_register",
            changes={"rows": len(rows), "locale": str(get_locale() or "zh_CN")},
        )
    return path


def file_title() -> str:
    return str(_l("Corrective actions"))
