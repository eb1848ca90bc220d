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
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from flask_babel import lazy_gettext as _l

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd",
}
CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"

TEXT, INT, MONEY, DATE = "text", "int", "money", "date"


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # a lazy translation
    type: str
    width: int


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


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.type == MONEY:
        return f"{Decimal(value):.2f}"
    if column.type == DATE:
        return value.isoformat()
    if column.type == INT:
        return str(int(value))
    return csv_text(str(value))


class ExportWriter:
    """Writes the rows of one list into an XLSX workbook and a CSV at the same time."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.columns = COLUMNS[kind]
        self._xlsx = io.BytesIO()
        self._book = xlsxwriter.Workbook(self._xlsx, WORKBOOK_OPTIONS)
        self._sheet = self._book.add_worksheet(str(SHEET_TITLE[kind])[:31])
        self._header = self._book.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self._money = self._book.add_format({"num_format": "#,##0.00"})
        self._date = self._book.add_format({"num_format": "yyyy-mm-dd"})
        self._total_text = self._book.add_format({"bold": True})
        self._total_money = self._book.add_format({"bold": True, "num_format": "#,##0.00"})
        self._total_int = self._book.add_format({"bold": True})
        self._csv = io.BytesIO()
        self._csv_text = io.TextIOWrapper(self._csv, encoding="utf-8-sig", newline="")
        self._csv_out = csv.writer(self._csv_text)
        self.row = 0
        self.total = Decimal("0.00") if TOTAL_OF[kind] == "amount" else 0
        headers = [str(c.header) for c in self.columns]
        for col, (column, header) in enumerate(zip(self.columns, headers, strict=True)):
            self._sheet.set_column(col, col, column.width)
            self._sheet.write_string(0, col, header, self._header)
        self._sheet.freeze_panes(1, 0)
        self._csv_out.writerow(headers)

    def add(self, values: dict[str, Any]) -> None:
        """Write one line (``values`` keyed by column key)."""
        self.row += 1
        sheet, row = self._sheet, self.row
        for col, column in enumerate(self.columns):
            value = values.get(column.key)
            if value is None or value == "":
                continue
            if column.type == TEXT:
                sheet.write_string(row, col, str(value))
            elif column.type == MONEY:
                sheet.write_number(row, col, float(value), self._money)
            elif column.type == DATE:
                sheet.write_datetime(row, col, value, self._date)
            else:
                sheet.write_number(row, col, int(value))
        self._csv_out.writerow([_csv_cell(c, values.get(c.key)) for c in self.columns])
        summed = values.get(TOTAL_OF[self.kind])
        if summed is not None:
            self.total += summed

    def finish(self) -> tuple[bytes, bytes]:
        """Write the totals row (values, no formula) and close both files: (xlsx, csv)."""
        last = len(self.columns) - 1
        self._sheet.autofilter(0, 0, max(self.row, 1), last)
        row = self.row + 2
        self._sheet.write_string(row, 0, str(_l("Total")), self._total_text)
        total_col = next(i for i, c in enumerate(self.columns) if c.key == TOTAL_OF[self.kind])
        if TOTAL_OF[self.kind] == "amount":
            self._sheet.write_number(row, total_col, float(self.total), self._total_money)
        else:
            self._sheet.write_number(row, total_col, int(self.total), self._total_int)
        self._book.close()
        self._csv_text.flush()
        csv_bytes = self._csv.getvalue()
        self._csv_text.detach()
        return self._xlsx.getvalue(), csv_bytes


def write_all(
    kind: str, rows: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
) -> tuple[bytes, bytes, int]:
    """Both files of ``rows``; (xlsx, csv, row count)."""
    writer = ExportWriter(kind)
    for values in rows:
        writer.add(values)
        if progress is not None:
            progress(1)
    xlsx, csv_bytes = writer.finish()
    return xlsx, csv_bytes, writer.row


def headers(kind: str) -> Sequence[str]:
    return [str(c.header) for c in COLUMNS[kind]]
