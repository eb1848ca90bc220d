"""The files of a finance export: an XLSX workbook and a CSV of the same rows.

The workbook is written with XlsxWriter in ``constant_memory`` mode (rows go to disk as they
are written, so 100,000 lines stay in bounded memory) and never holds a formula: every text
cell is written as text (``write_string``), numbers as numbers, dates as dates, and the totals
row as values. A customer named ``=HYPERLINK(...)`` stays that text.

The CSV is UTF-8 with a byte-order mark (so Excel opens Chinese correctly). A spreadsheet
opening a CSV has no cell types, so a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading single quote (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from flask_babel import lazy_gettext as _l

from core.services.xlsx_cells import (
    DATE,
    INT,
    MONEY,
    TEXT,
    WORKBOOK_OPTIONS,
    XLSX_MIME,
    CellPlan,
    Column,
)

__all__ = ["WORKBOOK_OPTIONS", "XLSX_MIME", "CSV_MIME", "ExportWriter", "Column"]

CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")
CSV_MIME = "text/csv"


CREDIT_COLUMNS: tuple[Column, ...] = (
    Column("case_number", _l("Complaint case number"), TEXT, 18),
    Column("customer", _l("Customer"), TEXT, 28),
    Column("business_line", _l("Business line"), TEXT, 16),
    Column("category", _l("Category"), TEXT, 16),
    Column("kind", _l("Kind"), TEXT, 18),
    Column("sku", _l("SKU"), TEXT, 16),
    Column("batch_no", _l("Batch"), TEXT, 14),
    Column("quantity", _l("Quantity"), INT, 10),
    Column("unit_price", _l("Unit price"), MONEY, 12),
    Column("amount", _l("Amount (CNY)"), MONEY, 14),
    Column("note", _l("Note"), TEXT, 30),
    Column("approved_on", _l("Approved on"), DATE, 12),
    Column("approvers", _l("Approvers"), TEXT, 24),
    Column("line_id", _l("Line ID"), INT, 10),
)

RESHIP_COLUMNS: tuple[Column, ...] = (
    Column("case_number", _l("Complaint case number"), TEXT, 18),
    Column("customer", _l("Customer"), TEXT, 28),
    Column("contact", _l("Contact"), TEXT, 14),
    Column("phone", _l("Phone"), TEXT, 16),
    Column("address", _l("Ship-to address"), TEXT, 40),
    Column("sku", _l("SKU"), TEXT, 16),
    Column("product", _l("Product"), TEXT, 24),
    Column("batch_no", _l("Batch"), TEXT, 14),
    Column("quantity", _l("Quantity"), INT, 10),
    Column("kind", _l("Kind"), TEXT, 20),
    Column("note", _l("Note"), TEXT, 30),
    Column("approved_on", _l("Approved on"), DATE, 12),
    Column("line_id", _l("Line ID"), INT, 10),
)

COLUMNS = {"credit_notes": CREDIT_COLUMNS, "reshipments": RESHIP_COLUMNS}
# The column the totals row sums: amounts on the credit list, quantities on the reshipment list.
TOTAL_OF = {"credit_notes": "amount", "reshipments": "quantity"}
SHEET_TITLE = {"credit_notes": _l("Credit-note list"), "reshipments": _l("Reshipment list")}


def csv_text(value: str) -> str:
    """A text cell made safe for a spreadsheet that opens the CSV (OWASP CSV injection)."""
    return "'" + value if value.startswith(CSV_RISKY) else value


def fen_text(fen: int) -> str:
    """An amount in fen as the CSV writes it: ``-1234.50``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


CSV_VALUE = {TEXT: csv_text, INT: str, MONEY: fen_text, DATE: dt.date.isoformat}


class ExportWriter:
    """Writes the rows of one list into an XLSX workbook and a CSV at the same time, both in a
    temporary folder (100,000 lines stay out of memory); use it as a context manager.

    A row is a tuple of cells in the order of ``COLUMNS[kind]``: text, integers, amounts in
    fen (integers) and dates; None leaves a cell empty.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.columns = COLUMNS[kind]
        self._dir = tempfile.TemporaryDirectory(prefix="kesu-export-")
        folder = Path(self._dir.name)
        self.xlsx_path, self.csv_path = folder / "list.xlsx", folder / "list.csv"
        self._book = xlsxwriter.Workbook(
            str(self.xlsx_path), {**WORKBOOK_OPTIONS, "tmpdir": str(folder)}
        )
        self._sheet = self._book.add_worksheet(str(SHEET_TITLE[kind])[:31])
        self._bold = self._book.add_format({"bold": True})
        self._bold_money = self._book.add_format({"bold": True, "num_format": "#,##0.00"})
        self._csv_file = open(self.csv_path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self._csv_out = csv.writer(self._csv_file)
        self.row = 0
        self._total_col = next(i for i, c in enumerate(self.columns) if c.key == TOTAL_OF[kind])
        self.total = 0  # fen on the credit-note list, pieces on the reshipment list
        # What each column's cells go through (core.services.xlsx_cells).
        self._cells = CellPlan(self._book, self._sheet, self.columns)
        self._csv_plan = [CSV_VALUE[c.type] for c in self.columns]
        headers = [str(c.header) for c in self.columns]
        self._cells.write_header(self._book, headers)
        self._csv_out.writerow(headers)
        self._closed = False

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def add(self, cells: Sequence[Any]) -> None:
        """Write one line."""
        self.row = self.row + 1
        self._cells.write_row(self.row, cells)
        self._csv_out.writerow(
            ["" if v is None else f(v) for f, v in zip(self._csv_plan, cells, strict=True)]
        )
        self.total += cells[self._total_col] or 0

    def finish(self) -> tuple[Path, Path]:
        """Write the totals row (values, no formula) and close both files: their paths."""
        last = len(self.columns) - 1
        self._sheet.autofilter(0, 0, max(self.row, 1), last)
        row = self.row + 2
        self._sheet.write_string(row, 0, str(_l("Total")), self._bold)
        if TOTAL_OF[self.kind] == "amount":
            self._sheet.write_number(row, self._total_col, self.total / 100, self._bold_money)
        else:
            self._sheet.write_number(row, self._total_col, self.total, self._bold)
        self._close()
        return self.xlsx_path, self.csv_path

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._csv_file.close()
            self._book.close()

    def cleanup(self) -> None:
        """Remove the temporary files (closing them first if need be)."""
        try:
            self._close()
        finally:
            self._dir.cleanup()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(FILE_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


FILE_BLOCK = 1 << 20


def headers(kind: str) -> Sequence[str]:
    return [str(c.header) for c in COLUMNS[kind]]
