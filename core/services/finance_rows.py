"""The rows of a finance export, read from the database in chunks (core.services.finance).

Amounts are read as the integer fen they are stored as (core.db.Money), so a batch's total is
summed exactly and no Decimal is made per cell; codes and notes become labels in the
exporter's language once per distinct value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from sqlalchemy.orm import aliased

from core.extensions import db
from core.i18n import translated
from core.models import (
    ApprovalStep,
    BusinessLine,
    Case,
    CompensationLine,
    Customer,
    KesuUser,
    Product,
)
from core.services.lines import registry
from core.timeutil import zone
from core.vocab import COMPENSATION_KINDS

LISTS = ("credit_notes", "reshipments")
KINDS = {
    "credit_notes": ("account_adjustment", "credit_note", "freight_to_customer", "refund"),
    "reshipments": ("free_goods", "reship"),
}
# Charges to the customer appear on the credit-note list as negative amounts.
NEGATIVE_KINDS = frozenset({"freight_to_customer"})
CHUNK = 2000  # lines read, updated and inserted per statement
ORDER = (Case.number, CompensationLine.position, CompensationLine.id)


def _approvers(part, names: dict[int, str]) -> dict[tuple[int, int], str]:
    """``(case id, round) -> "name, name"``: who approved each line's round, in step order
    (``names``: display names by user id, filled as users turn up)."""
    keys = {(r[10], r[9]) for r in part if r[9] is not None}  # (case id, approved round)
    if not keys:
        return {}
    stmt = (
        sa.select(ApprovalStep.case_id, ApprovalStep.round, ApprovalStep.decided_by_id)
        .where(
            ApprovalStep.case_id.in_(sorted({k[0] for k in keys})),
            ApprovalStep.decision == "approved",
            ApprovalStep.decided_by_id.is_not(None),
        )
        .order_by(ApprovalStep.case_id, ApprovalStep.round, ApprovalStep.seq)
    )
    found: dict[tuple[int, int], list[str]] = {}
    for case_id, round_no, user_id in db.session.execute(stmt):
        if (case_id, round_no) in keys:
            if user_id not in names:
                names[user_id] = db.session.get(KesuUser, user_id).display_name
            found.setdefault((case_id, round_no), []).append(names[user_id])
    return {key: ", ".join(dict.fromkeys(value)) for key, value in found.items()}


class _Labels:
    """What the files show for stored codes and notes, in the exporter's language, looked up
    once per distinct value (a note may be a stored message id, see core.i18n)."""

    NOTES_KEPT = 4096

    def __init__(self, kind: str) -> None:
        locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
        descriptors = registry().descriptors
        self.category = {k: d.name(locale) for k, d in descriptors.items()}
        self.kind = {k: str(COMPENSATION_KINDS.get(k, k)) for k in KINDS[kind]}
        self._notes: dict[str, str | None] = {}

    def note(self, note: str | None) -> str | None:
        if not note:
            return None
        out = self._notes.get(note)
        if out is None:
            out = translated(note)
            if len(self._notes) < self.NOTES_KEPT:
                self._notes[note] = out
        return out


def rows(line: BusinessLine, kind: str, where: list) -> Iterator[tuple[int, int, tuple]]:
    """``(line id, signed amount in fen, the row's cells in column order)`` of the eligible
    lines (core.services.finance_files COLUMNS), read in chunks of CHUNK rows.

    Amounts are read as the integer fen they are stored as (core.db.Money): the batch total is
    summed exactly, and no Decimal is made per cell.
    """
    sku_product, case_product = aliased(Product), aliased(Product)
    stmt = (
        sa.select(
            CompensationLine.id,
            CompensationLine.kind,
            CompensationLine.quantity,
            sa.type_coerce(CompensationLine.unit_price, sa.BigInteger).label("unit_price"),
            sa.type_coerce(CompensationLine.amount, sa.BigInteger).label("amount"),
            CompensationLine.sku,
            CompensationLine.batch_no,
            CompensationLine.note,
            # Read as stored (naive UTC): parsed here, cheaper than per-row type processing.
            sa.type_coerce(CompensationLine.approved_at, sa.String).label("approved_at"),
            CompensationLine.approved_round,
            Case.id.label("case_id"),
            Case.number,
            Case.category,
            Customer.name.label("customer"),
            Customer.contact,
            Customer.phone,
            Customer.address,
            sku_product.name.label("sku_product"),
            case_product.name.label("case_product"),
        )
        .select_from(CompensationLine)
        .join(Case, Case.id == CompensationLine.case_id)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(case_product, case_product.id == Case.product_id)
        .outerjoin(
            sku_product,
            sa.and_(
                sku_product.business_line_id == Case.business_line_id,
                sku_product.code == CompensationLine.sku,
            ),
        )
        .where(*where)
        .order_by(*ORDER)
    )
    labels = _Labels(kind)
    tz = zone(line.timezone)
    credit = kind == "credit_notes"
    # Plain rows from the connection (no ORM loading), streamed CHUNK at a time.
    result = db.session.connection().execute(stmt.execution_options(yield_per=CHUNK))
    name, negative = line.name, NEGATIVE_KINDS
    users: dict[int, str] = {}
    category_of, kind_of, note_of = labels.category, labels.kind, labels.note
    for part in result.partitions():
        approvers = _approvers(part, users) if credit else {}
        for (
            line_id,
            line_kind,
            quantity,
            unit_price,
            amount,
            sku,
            batch_no,
            note,
            approved_at,
            approved_round,
            case_id,
            number,
            category,
            customer,
            contact,
            phone,
            address,
            sku_product,
            case_product,
        ) in part:
            amount = amount or 0
            if line_kind in negative:
                amount = -abs(amount)
            approved_on = _utc(approved_at).astimezone(tz).date()
            if credit:
                cells = (
                    number,
                    customer,
                    name,
                    category_of.get(category, category),
                    kind_of[line_kind],
                    sku,
                    batch_no,
                    quantity,
                    unit_price,
                    amount,
                    note_of(note),
                    approved_on,
                    approvers.get((case_id, approved_round)),
                    line_id,
                )
            else:
                # The reshipment list's contact data is unmasked: the goods must arrive.
                cells = (
                    number,
                    customer,
                    contact,
                    phone,
                    address,
                    sku,
                    sku_product or case_product,
                    batch_no,
                    quantity,
                    kind_of[line_kind],
                    note_of(note),
                    approved_on,
                    line_id,
                )
            yield line_id, amount, cells


def _utc(value: str | dt.datetime) -> dt.datetime:
    """A stored UTC timestamp (text on SQLite, a naive datetime elsewhere) made aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)
