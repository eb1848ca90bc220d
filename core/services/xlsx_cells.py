"""Safe cells for the workbooks Kesu writes (finance exports, case lists).

A workbook is written with XlsxWriter in ``constant_memory`` mode (rows go to disk as they
are written) and never holds a formula: every text cell is written as text
(``write_string``), so a customer named ``=HYPERLINK(...)`` or a description ``=1+1`` stays
that text; numbers are numbers, amounts carry ``#,##0.00``, dates and times are real dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd",
}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Cell types: text, integer, an amount in fen (integer), a date, a naive local date-time.
TEXT, INT, MONEY, DATE, DATETIME = "text", "int", "money", "date", "datetime"
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # a lazy translation
    type: str
    width: int


class CellPlan:
    """How each column's cells are written on one sheet; :meth:`write_row` writes a row."""

    def __init__(self, book, sheet, columns: Sequence[Column]) -> None:
        self.sheet = sheet
        self.columns = columns
        money = book.add_format({"num_format": MONEY_FORMAT})
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        writers = {
            TEXT: (sheet.write_string, None, None),
            INT: (sheet.write_number, None, None),
            MONEY: (sheet.write_number, money, lambda fen: fen / 100),
            DATE: (sheet.write_datetime, date, None),
            DATETIME: (sheet.write_datetime, moment, None),
        }
        self.plan = [(i, *writers[c.type]) for i, c in enumerate(columns)]

    def write_header(self, book, headers: Sequence[str]) -> None:
        """Row 0: the headers (bold, shaded), column widths, the header row frozen."""
        fmt = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
        for col, (column, text) in enumerate(zip(self.columns, headers, strict=True)):
            self.sheet.set_column(col, col, column.width)
            self.sheet.write_string(0, col, text, fmt)
        self.sheet.freeze_panes(1, 0)

    def write_row(self, row: int, cells: Sequence[Any]) -> None:
        """Write one row; None or "" leaves a cell empty."""
        for col, write, fmt, convert in self.plan:
            value = cells[col]
            if value is None or value == "":
                continue
            write(row, col, convert(value) if convert else value, fmt)
