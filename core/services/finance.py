"""Finance export batches: the credit-note list and the reshipment list (issue 9, section 2).

An approved compensation line still ``pending`` (not yet booked in the ERP, not cancelled) and in
no batch is *eligible*. An export takes the eligible lines of one list and business line
(optionally only those approved in a date range, inclusive, in the line's time zone), writes
the workbook and the CSV, stores both with their SHA-256 and marks every line with the batch, in
one write transaction: the write gate (core.services.locks) serialises writers and the lines are
read under it, so two exports never share a line and nothing is half-exported. A re-download
gives the stored bytes. Voiding a batch releases its lines (eligible again); the batch's
``export_batch_line`` rows stay as its history.

The reshipment list is where Finance sees a customer's unmasked phone and address, so making
or downloading one is audited as a read of contact data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from core import limits
from core.db import for_update, utcnow, write_transaction
from core.extensions import db
from core.fields import to_json
from core.i18n import translated
from core.models import (
    ApprovalStep,
    BusinessLine,
    Case,
    CompensationLine,
    Customer,
    ExportBatch,
    ExportBatchLine,
    KesuUser,
    Product,
)
from core.roles import CAN_EXPORT, CAN_READ, CAN_VOID, FINANCE_EXPORT
from core.services import audit
from core.services.access import can, line_filter, line_for_write
from core.services.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from core.services.finance_files import CSV_MIME, XLSX_MIME, ExportWriter
from core.services.lines import registry
from core.timeutil import in_zone, iso_in_zone, zone
from core.vocab import COMPENSATION_KINDS

LISTS = ("credit_notes", "reshipments")
KINDS = {
    "credit_notes": ("account_adjustment", "credit_note", "freight_to_customer", "refund"),
    "reshipments": ("free_goods", "reship"),
}
# Charges to the customer appear on the credit-note list as negative amounts.
NEGATIVE_KINDS = frozenset({"freight_to_customer"})
FORMATS = {"xlsx": XLSX_MIME, "csv": CSV_MIME}
CHUNK = 2000  # lines read, updated and inserted per statement
EXPORT_FIELDS = frozenset({"kind", "business_line", "approved_from", "approved_to"})
API_PATH = "/api/v1/finance/export"


@dataclass
class Pending:
    lines: list[CompensationLine]
    total: Decimal
    count: int


def signed_amount(kind: str, amount: Decimal | None) -> Decimal:
    """A line's amount as the credit-note list shows it (charges to the customer negative)."""
    value = Decimal(amount or 0)
    return -abs(value) if kind in NEGATIVE_KINDS else value


# --- input -----------------------------------------------------------------------------------


def _require(actor, permission: str) -> None:
    if not can(actor, permission, FINANCE_EXPORT):
        raise Forbidden()


def _list_kind(value: Any) -> str:
    if value is None or value == "":
        raise Invalid(_l("This field is required."), field="kind")
    if value not in LISTS:
        raise Invalid(_l("Choose credit_notes or reshipments."), field="kind")
    return value


def _line_code(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid(_l("This field is required."), field="business_line")
    if not isinstance(value, str) or len(value) > limits.CODE:
        raise Invalid(_l("Unknown business line."), field="business_line")
    return value.strip()


def _day(value: Any, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(_l("Give a date as YYYY-MM-DD."), field=field)


def _period(approved_from: Any, approved_to: Any) -> tuple[dt.date | None, dt.date | None]:
    start, end = _day(approved_from, "approved_from"), _day(approved_to, "approved_to")
    if start and end and start > end:
        raise Invalid(_l("The start date is after the end date."), field="approved_to")
    return start, end


def _eligible(line: BusinessLine, kind: str, start: dt.date | None, end: dt.date | None) -> list:
    """The WHERE clauses of the lines an export of ``kind`` on ``line`` would take."""
    where = [
        Case.business_line_id == line.id,
        CompensationLine.approved_at.is_not(None),
        CompensationLine.batch_id.is_(None),
        CompensationLine.exec_status == "pending",
        CompensationLine.kind.in_(KINDS[kind]),
    ]
    tz = zone(line.timezone)
    if start is not None:
        where.append(CompensationLine.approved_at >= dt.datetime.combine(start, dt.time(), tz))
    if end is not None:
        after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)
        where.append(CompensationLine.approved_at < after)
    return where


ORDER = (Case.number, CompensationLine.position, CompensationLine.id)


# --- reads -----------------------------------------------------------------------------------


def pending(
    actor,
    kind: str,
    line_code: str,
    approved_from: dt.date | str | None = None,
    approved_to: dt.date | str | None = None,
) -> Pending:
    """What an export would take now: the eligible lines, their count and (signed) total."""
    _require(actor, CAN_READ)
    kind = _list_kind(kind)
    code = _line_code(line_code)
    start, end = _period(approved_from, approved_to)
    line = line_for_write(actor, code)
    stmt = (
        sa.select(CompensationLine)
        .join(Case, Case.id == CompensationLine.case_id)
        .where(*_eligible(line, kind, start, end))
        .order_by(*ORDER)
    )
    lines = list(db.session.scalars(stmt))
    total = sum((signed_amount(c.kind, c.amount) for c in lines), Decimal("0.00"))
    return Pending(lines=lines, total=total, count=len(lines))


def pending_count(
    actor,
    kind: str,
    line_code: str,
    approved_from: dt.date | str | None = None,
    approved_to: dt.date | str | None = None,
) -> int:
    """How many lines an export would take now (a count, no lines loaded)."""
    _require(actor, CAN_READ)
    kind = _list_kind(kind)
    start, end = _period(approved_from, approved_to)
    line = line_for_write(actor, _line_code(line_code))
    stmt = (
        sa.select(sa.func.count())
        .select_from(CompensationLine)
        .join(Case, Case.id == CompensationLine.case_id)
        .where(*_eligible(line, kind, start, end))
    )
    return db.session.scalar(stmt) or 0


def _batches_query(actor):
    return sa.select(ExportBatch).where(line_filter(actor, ExportBatch.business_line_id))


def batches(actor, line_code: str | None = None) -> list[ExportBatch]:
    """The batches of the actor's lines (or of one of them), newest first."""
    _require(actor, CAN_READ)
    stmt = _batches_query(actor).order_by(ExportBatch.created_at.desc(), ExportBatch.id.desc())
    if line_code not in (None, ""):
        line = line_for_write(actor, _line_code(line_code))
        stmt = stmt.where(ExportBatch.business_line_id == line.id)
    return list(db.session.scalars(stmt))


def get_batch(actor, batch_id: int, *, lock: bool = False) -> ExportBatch:
    """A batch of one of the actor's lines, else 404."""
    _require(actor, CAN_READ)
    stmt = _batches_query(actor).where(ExportBatch.id == batch_id)
    if lock:
        stmt = for_update(stmt, of=ExportBatch)
    batch = db.session.scalar(stmt)
    if batch is None:
        raise NotFound()
    return batch


def batch_by_number(actor, number: str) -> ExportBatch:
    """A batch by its number (the CLI), else 404."""
    _require(actor, CAN_READ)
    batch = db.session.scalar(_batches_query(actor).where(ExportBatch.number == number))
    if batch is None:
        raise NotFound()
    return batch


def batch_json(batch: ExportBatch) -> dict[str, Any]:
    tz = batch.business_line.timezone
    return {
        "id": batch.id,
        "number": batch.number,
        "kind": batch.kind,
        "business_line": batch.business_line.code,
        "approved_from": to_json(batch.approved_from),
        "approved_to": to_json(batch.approved_to),
        "line_count": batch.line_count,
        "total": to_json(batch.total),
        "locale": batch.locale,
        "created_by": batch.created_by.username if batch.created_by else audit.SYSTEM_ACTOR,
        "created_at": iso_in_zone(batch.created_at, tz),
        "xlsx_sha256": batch.xlsx_sha256,
        "csv_sha256": batch.csv_sha256,
        "voided_at": iso_in_zone(batch.voided_at, tz),
        "voided_by": (batch.voided_by.username if batch.voided_by else audit.SYSTEM_ACTOR)
        if batch.voided_at
        else None,
        "void_reason": batch.void_reason,
        "urls": {fmt: f"{API_PATH}/{batch.id}/{fmt}" for fmt in FORMATS},
    }


# --- the rows of the files -------------------------------------------------------------------


def _approvers(part) -> dict[tuple[int, int], str]:
    """``(case id, round) -> "name, name"``: who approved each line's round, in step order."""
    keys = {(r.case_id, r.approved_round) for r in part if r.approved_round is not None}
    if not keys:
        return {}
    stmt = (
        sa.select(ApprovalStep.case_id, ApprovalStep.round, KesuUser)
        .join(KesuUser, KesuUser.id == ApprovalStep.decided_by_id)
        .where(
            ApprovalStep.case_id.in_(sorted({k[0] for k in keys})),
            ApprovalStep.decision == "approved",
        )
        .order_by(ApprovalStep.case_id, ApprovalStep.round, ApprovalStep.seq)
    )
    names: dict[tuple[int, int], list[str]] = {}
    for case_id, round_no, user in db.session.execute(stmt):
        if (case_id, round_no) in keys:
            names.setdefault((case_id, round_no), []).append(user.display_name)
    return {key: ", ".join(dict.fromkeys(value)) for key, value in names.items()}


def _rows(line: BusinessLine, kind: str, where: list) -> Iterator[tuple[int, Decimal, dict]]:
    """``(line id, signed amount, cell values)`` of the eligible lines, read in chunks."""
    sku_product, case_product = aliased(Product), aliased(Product)
    stmt = (
        sa.select(
            CompensationLine.id,
            CompensationLine.kind,
            CompensationLine.quantity,
            CompensationLine.unit_price,
            CompensationLine.amount,
            CompensationLine.sku,
            CompensationLine.batch_no,
            CompensationLine.note,
            CompensationLine.approved_at,
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
        .execution_options(yield_per=CHUNK)
    )
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    descriptors = registry().descriptors
    categories: dict[str, str] = {}
    kinds = {k: str(COMPENSATION_KINDS.get(k, k)) for k in KINDS[kind]}
    credit = kind == "credit_notes"
    for part in db.session.execute(stmt).partitions():
        approvers = _approvers(part) if credit else {}
        for r in part:
            if r.category not in categories:
                d = descriptors.get(r.category)
                categories[r.category] = d.name(locale) if d else r.category
            amount = signed_amount(r.kind, r.amount)
            values = {
                "case_number": r.number,
                "customer": r.customer,
                "business_line": line.name,
                "category": categories[r.category],
                "kind": kinds[r.kind],
                "sku": r.sku,
                "product": r.sku_product or r.case_product,
                "batch_no": r.batch_no,
                "quantity": r.quantity,
                "unit_price": r.unit_price,
                "amount": amount,
                "note": translated(r.note),
                "approved_on": in_zone(r.approved_at, line.timezone).date(),
                "approvers": approvers.get((r.case_id, r.approved_round)),
                "line_id": r.id,
                # The reshipment list's contact data is unmasked: the goods must arrive.
                "contact": r.contact,
                "phone": r.phone,
                "address": r.address,
            }
            yield r.id, amount, values


# --- writes ----------------------------------------------------------------------------------


def _next_number(line: BusinessLine) -> str:
    """``FX-YYYYMM-NNNN``: the month of the export in the line's time zone, then a sequence.

    Runs under the write gate (writers one at a time) and batches are never deleted, so the
    month's count plus one is free; the unique column is the backstop.
    """
    period = in_zone(utcnow(), line.timezone).strftime("%Y%m")
    prefix = f"FX-{period}-"
    taken = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ExportBatch)
        .where(ExportBatch.number.like(prefix + "%"))
    )
    return f"{prefix}{taken + 1:04d}"


def _expire_lines(ids: set[int] | None = None) -> None:
    """Forget the session's copies of changed lines (they were updated by Core statements)."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, CompensationLine) and (ids is None or obj.id in ids):
            db.session.expire(obj, ["batch_id", "batch"])


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def export(actor, data: Mapping, progress: Callable[[int], None] | None = None) -> ExportBatch:
    """Take every eligible line of a list and line into a new batch, with its files."""
    _require(actor, CAN_EXPORT)
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    unknown = sorted(set(data) - EXPORT_FIELDS)
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in unknown}
        )
    kind = _list_kind(data.get("kind"))
    code = _line_code(data.get("business_line"))
    start, end = _period(data.get("approved_from"), data.get("approved_to"))
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    with write_transaction():
        line = line_for_write(actor, code)
        writer = ExportWriter(kind)
        ids: list[int] = []
        total = Decimal("0.00")
        for line_id, amount, values in _rows(line, kind, _eligible(line, kind, start, end)):
            writer.add(values)
            ids.append(line_id)
            total += amount
            if progress is not None:
                progress(1)
        xlsx, csv_bytes = writer.finish()
        if not ids:
            message = _l("No line is waiting for this export.")
            raise PreconditionFailed(
                message,
                field="kind",
                problems=[{"code": "nothing_to_export", "field": "kind", "message": str(message)}],
            )
        batch = ExportBatch(
            number=_next_number(line),
            kind=kind,
            business_line=line,
            approved_from=start,
            approved_to=end,
            line_count=len(ids),
            total=total,
            locale=locale,
            created_by=actor if getattr(actor, "id", None) else None,
            created_at=utcnow(),
            xlsx=xlsx,
            csv=csv_bytes,
            xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
            csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
        )
        db.session.add(batch)
        db.session.flush()
        table = CompensationLine.__table__
        for chunk in _chunks(ids):
            taken = db.session.execute(
                sa.update(table)
                .where(table.c.id.in_(chunk), table.c.batch_id.is_(None))
                .values(batch_id=batch.id)
            )
            if taken.rowcount != len(chunk):  # cannot happen under the write gate: never share
                raise Conflict(_l("Another export took some of these lines; try again."))
            db.session.execute(
                sa.insert(ExportBatchLine.__table__),
                [{"batch_id": batch.id, "line_id": i} for i in chunk],
            )
        _expire_lines(set(ids))
        changes: dict[str, Any] = {
            "number": batch.number,
            "kind": kind,
            "business_line": line.code,
            "approved_from": start,
            "approved_to": end,
            "count": len(ids),
            "total": total,
            "xlsx_sha256": batch.xlsx_sha256,
            "lines": ids,
        }
        if kind == "reshipments":
            changes["contact_data"] = True  # the list shows unmasked phones and addresses
        audit.record(
            actor, "export_created", entity="export_batch", entity_id=batch.id, changes=changes
        )
    return batch


def batch_file(actor, batch_id: int, fmt: str) -> tuple[bytes, str, str]:
    """The stored file of a batch, unchanged: (content, filename, mimetype); audited."""
    if fmt not in FORMATS:
        raise Invalid(_l("Choose xlsx or csv."), field="format")
    with write_transaction():
        batch = get_batch(actor, batch_id)
        column = ExportBatch.xlsx if fmt == "xlsx" else ExportBatch.csv
        content = db.session.scalar(sa.select(column).where(ExportBatch.id == batch.id))
        changes: dict[str, Any] = {"number": batch.number, "kind": batch.kind, "format": fmt}
        if batch.kind == "reshipments":
            changes["contact_data"] = True  # a read of unmasked phones and addresses
        audit.record(
            actor, "export_downloaded", entity="export_batch", entity_id=batch.id, changes=changes
        )
    return bytes(content), f"{batch.number}.{fmt}", FORMATS[fmt]


def _reason(data: Any) -> str:
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    unknown = sorted(set(data) - {"reason"})
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in unknown}
        )
    value = data.get("reason")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid(_l("This field is required."), field="reason")
    if not isinstance(value, str):
        raise Invalid(_l("Must be text."), field="reason")
    value = value.strip()
    if len(value) > limits.TEXT_LONG:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.TEXT_LONG)), field="reason"
        )
    return value


def void(actor, batch_id: int, data: Mapping) -> ExportBatch:
    """Void a batch with a reason: its lines become eligible again; its history stays."""
    _require(actor, CAN_VOID)
    reason = _reason(data)
    with write_transaction():
        batch = get_batch(actor, batch_id, lock=True)
        if batch.voided_at is not None:
            raise Conflict(_l("This batch is already void."), status="void")
        table = CompensationLine.__table__
        released = list(
            db.session.scalars(sa.select(table.c.id).where(table.c.batch_id == batch.id))
        )
        for chunk in _chunks(released):
            db.session.execute(sa.update(table).where(table.c.id.in_(chunk)).values(batch_id=None))
        _expire_lines(set(released))
        batch.voided_at = utcnow()
        batch.voided_by = actor if getattr(actor, "id", None) else None
        batch.void_reason = reason
        db.session.flush()
        audit.record(
            actor,
            "export_voided",
            entity="export_batch",
            entity_id=batch.id,
            changes={"number": batch.number, "reason": reason, "released": released},
        )
    return batch


def pending_line_json(line: CompensationLine) -> dict[str, Any]:
    """A line an export would take (no contact data: that is in the reshipment file only)."""
    case = line.case
    tz = case.business_line.timezone
    return {
        "id": line.id,
        "case_id": case.id,
        "case_number": case.number,
        "customer": case.customer.name,
        "kind": line.kind,
        "quantity": line.quantity,
        "unit_price": to_json(line.unit_price),
        "amount": to_json(signed_amount(line.kind, line.amount)),
        "sku": line.sku,
        "batch_no": line.batch_no,
        "note": translated(line.note),
        "approved_at": iso_in_zone(line.approved_at, tz),
    }
