"""A case list as an Excel workbook: every row of the filtered list, not only one page.

The cells follow the finance exports' rules (core.services.xlsx_cells): text as text, no
formula, real dates, money as ``#,##0.00``, ``constant_memory``. Headers are in the reader's
language, stages and categories by their labels, people by display name, the customer's phone
masked unless the reader may view contact details. Each export is an audit event.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.db import write_transaction
from core.extensions import db
from core.services import audit
from core.services.access import can_view_contact, require
from core.services.case_lists import list_page
from core.services.errors import PreconditionFailed
from core.services.lines import registry
from core.services.present import mask_phone
from core.services.xlsx_cells import DATETIME, MONEY, TEXT, WORKBOOK_OPTIONS, CellPlan, Column
from core.timeutil import in_zone
from core.vocab import PRIORITIES
from core.workflow import STAGE_LABELS

EXPORT_LIMIT = 100_000  # rows of one export (KESU_LIST_EXPORT_LIMIT)
CHUNK = 500  # rows read per query

COLUMNS: tuple[Column, ...] = (
    Column("number", _l("Case number"), TEXT, 18),
    Column("received_at", _l("Received at"), DATETIME, 17),
    Column("business_line", _l("Business line"), TEXT, 14),
    Column("category", _l("Category"), TEXT, 14),
    Column("status", _l("Status"), TEXT, 12),
    Column("priority", _l("Priority"), TEXT, 12),
    Column("is_major", _l("Major"), TEXT, 8),
    Column("customer", _l("Customer"), TEXT, 24),
    Column("phone", _l("Phone"), TEXT, 16),
    Column("product", _l("Product"), TEXT, 20),
    Column("batch_no", _l("Batch"), TEXT, 14),
    Column("description", _l("Description"), TEXT, 40),
    Column("department", _l("Responsible department"), TEXT, 14),
    Column("handler", _l("Handler"), TEXT, 12),
    Column("claim_amount", _l("Claim amount (CNY)"), MONEY, 14),
)


def export_limit() -> int:
    return int(current_app.config.get("KESU_LIST_EXPORT_LIMIT", EXPORT_LIMIT))


def _fen(amount: Decimal | None) -> int | None:
    return None if amount is None else int(Decimal(amount) * 100)


def _row(case, contact: bool, categories: dict[str, str]) -> list:
    tz = case.business_line.timezone
    phone = case.customer.phone
    return [
        case.number,
        in_zone(case.received_at, tz).replace(tzinfo=None),
        case.business_line.name,
        categories.get(case.category, case.category),
        str(STAGE_LABELS.get(case.status, case.status)),
        str(PRIORITIES.get(case.priority, case.priority)),
        str(_l("Yes") if case.is_major else _l("No")),
        case.customer.name,
        phone if contact else mask_phone(phone),
        case.product.name if case.product else None,
        case.batch_no,
        case.description,
        case.department.name if case.department else None,
        case.handler.display_name if case.handler else None,
        _fen(case.claim_amount),
    ]


def export_cases(actor, filters: Mapping[str, str]) -> tuple[Path, tempfile.TemporaryDirectory]:
    """The filtered list (filters from core.services.case_lists.clean_filters) as a workbook
    in a temporary folder (the caller removes it). 422 beyond the row limit."""
    require(actor, "can_read")
    limit = export_limit()
    first = list_page(actor, filters, page_size=CHUNK, cap=limit)
    if first.capped:
        raise PreconditionFailed(
            str(
                _l(
                    "More than %(max)s cases match; an export holds at most %(max)s. "
                    "Narrow the filters.",
                    max=limit,
                )
            ),
            field="export",
        )
    locale = str(get_locale() or "zh_CN")
    categories = {d.key: d.name(locale) for d in registry().categories()}
    contact = can_view_contact(actor)
    folder = tempfile.TemporaryDirectory(prefix="kesu-cases-")
    path = Path(folder.name) / "cases.xlsx"
    try:
        book = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "tmpdir": folder.name})
        sheet = book.add_worksheet(str(_l("Complaints"))[:31])
        cells = CellPlan(book, sheet, COLUMNS)
        cells.write_header(book, [str(c.header) for c in COLUMNS])
        row = 0
        page = first
        while True:
            for case in page.items:
                row += 1
                cells.write_row(row, _row(case, contact, categories))
                db.session.expunge(case)  # bounded memory: a chunk at a time
            if page.next is None:
                break
            page = list_page(actor, filters, after=page.next, page_size=CHUNK, counted=False)
        sheet.autofilter(0, 0, max(row, 1), len(COLUMNS) - 1)
        book.close()
        with write_transaction():
            audit.record(
                actor,
                "export",
                entity="case_list",
                changes={"filters": dict(filters), "rows": row, "locale": locale},
            )
    except BaseException:
        folder.cleanup()
        raise
    return path, folder
