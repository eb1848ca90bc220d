"""The ledger (core.services.ledger) as an Excel workbook, streamed.

Rows are read a chunk at a time from one streamed SELECT and written by XlsxWriter in
``constant_memory`` mode, so the memory held is a chunk's whatever the number of cases. The
cells follow core.services.xlsx_cells: text as text (a customer named ``=1+1`` stays that
text), no formula, real dates, amounts as ``#,##0.00``. Headers are in the reader's language,
the phone masked unless the reader may view contact details. Each export is an audit event.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.db import write_transaction
from core.deadlines import TARGETS
from core.services import audit
from core.services.errors import PreconditionFailed
from core.services.ledger import KINDS, SLA_LABELS, chunks, count, require_ledger
from core.services.xlsx_cells import DATE, DATETIME, INT, MONEY, TEXT, WORKBOOK_OPTIONS, CellPlan
from core.services.xlsx_cells import Column as C
from core.vocab import COMPENSATION_KINDS, DEADLINES

EXPORT_LIMIT = 1_000_000  # rows of one export (KESU_LEDGER_EXPORT_LIMIT); a sheet holds 1,048,575
CHUNK = 1000

BASE_COLUMNS: tuple[C, ...] = (
    C("number", _l("Case number"), TEXT, 18),
    C("received_at", _l("Received at"), DATETIME, 17),
    C("business_line_name", _l("Business line"), TEXT, 14),
    C("category_label", _l("Category"), TEXT, 14),
    C("channel_label", _l("Channel"), TEXT, 12),
    C("customer", _l("Customer"), TEXT, 24),
    C("phone", _l("Phone"), TEXT, 16),
    C("product", _l("Product"), TEXT, 20),
    C("batch_no", _l("Batch"), TEXT, 14),
    C("description", _l("Description"), TEXT, 40),
    C("demand_label", _l("Demand"), TEXT, 10),
    C("claim_amount", _l("Claim amount (CNY)"), MONEY, 14),
    C("priority_label", _l("Priority"), TEXT, 12),
    C("major", _l("Major"), TEXT, 8),
    C("status_label", _l("Status"), TEXT, 12),
    C("archived_on", _l("Archived on"), DATE, 12),
    C("department", _l("Responsible department"), TEXT, 14),
    C("handler", _l("Handler"), TEXT, 12),
    C("root_cause", _l("Root cause"), TEXT, 20),
    C("root_cause_text", _l("Root cause (explanation)"), TEXT, 30),
    C("outcome_label", _l("Outcome"), TEXT, 16),
)
TAIL_COLUMNS: tuple[C, ...] = (
    C("approved_on", _l("Approved on"), DATE, 12),
    C("closed_on", _l("Closed on"), DATE, 12),
)


def columns() -> tuple[C, ...]:
    """Every column: the case's, one per compensation kind, the dates, one per SLA target,
    the satisfaction."""
    money = tuple(C(f"money:{k}", COMPENSATION_KINDS[k], MONEY, 14) for k in KINDS)
    sla = tuple(C(f"sla:{n}", DEADLINES.get(n, n), TEXT, 12) for n in TARGETS)
    satisfaction = (C("satisfaction", _l("Satisfaction (latest return visit)"), INT, 10),)
    return (*BASE_COLUMNS, *money, *TAIL_COLUMNS, *sla, *satisfaction)


def headers(cols: tuple[C, ...]) -> list[str]:
    out = []
    for col in cols:
        text = str(col.header)
        if col.key.startswith("money:"):
            text = str(_l("%(kind)s (CNY)", kind=text))
        elif col.key.startswith("sla:"):
            text = str(_l("SLA: %(target)s", target=text))
        out.append(text)
    return out


def cells(item: Mapping[str, Any], yes: str, no: str, sla_labels: dict[str, str]) -> list:
    """A ledger row as the workbook's cells, in :func:`columns` order."""
    received = item["received_at"]
    money = item["compensation_fen"]
    sla = item["sla"]
    return [
        item["number"],
        received.replace(tzinfo=None) if received is not None else None,
        item["business_line_name"],
        item["category_label"],
        item["channel_label"],
        item["customer"],
        item["phone"],
        item["product"],
        item["batch_no"],
        item["description"],
        item["demand_label"],
        item["claim_fen"],
        item["priority_label"],
        yes if item["is_major"] else no,
        item["status_label"],
        item["archived_on"],
        item["department"],
        item["handler"],
        item["root_cause"],
        item["root_cause_text"],
        item["outcome_label"],
        *(money.get(k) for k in KINDS),
        item["approved_on"],
        item["closed_on"],
        *(sla_labels.get(sla.get(n)) for n in TARGETS),
        item["satisfaction"],
    ]


def export_limit() -> int:
    return int(current_app.config.get("KESU_LEDGER_EXPORT_LIMIT", EXPORT_LIMIT))


def write_ledger(
    actor,
    filters: Mapping[str, str],
    path: Path,
    *,
    progress: Callable[[int], Any] | None = None,
    tmpdir: str | None = None,
) -> int:
    """Write the filtered ledger (filters from core.services.ledger.clean_filters) to ``path``;
    the number of rows. 422 beyond the row limit. ``progress(n)`` after each chunk of n rows."""
    require_ledger(actor)
    total = count(actor, filters)
    limit = export_limit()
    if total > limit:
        raise PreconditionFailed(
            str(
                _l(
                    "%(n)s cases match; an export holds at most %(max)s. Narrow the filters.",
                    n=total,
                    max=limit,
                )
            ),
            field="export",
        )
    locale = str(get_locale() or "zh_CN")
    cols = columns()
    book = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "tmpdir": tmpdir})
    sheet = book.add_worksheet(str(_l("Ledger"))[:31])
    plan = CellPlan(book, sheet, cols)
    plan.write_header(book, headers(cols))
    yes, no = str(_l("Yes")), str(_l("No"))
    sla_labels = {k: str(v) for k, v in SLA_LABELS.items()}
    row = 0
    for part in chunks(actor, filters, size=CHUNK):
        for item in part:
            row += 1
            plan.write_row(row, cells(item, yes, no, sla_labels))
        if progress is not None:
            progress(len(part))
    sheet.autofilter(0, 0, max(row, 1), len(cols) - 1)
    book.close()
    with write_transaction():
        audit.record(
            actor,
            "export",
            entity="ledger",
            changes={"filters": dict(filters), "rows": row, "locale": locale},
        )
    return row


def export_ledger(actor, filters: Mapping[str, str], **kw) -> Path:
    """The ledger as a workbook in a new temporary folder of its own (the caller removes it,
    e.g. through core.downloads.streamed_download)."""
    folder = tempfile.mkdtemp(prefix="kesu-ledger-")
    path = Path(folder) / "ledger.xlsx"
    try:
        write_ledger(actor, filters, path, tmpdir=folder, **kw)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def file_title() -> str:
    """The downloaded file's name stem, in the reader's language (台帐)."""
    return str(_l("Ledger"))
