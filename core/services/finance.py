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
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload, selectinload

from core import limits
from core.db import CENT, for_update, utcnow, write_transaction
from core.extensions import db
from core.fields import to_json
from core.i18n import translated
from core.models import (
    BusinessLine,
    Case,
    CompensationLine,
    ExportBatch,
    ExportBatchLine,
)
from core.roles import CAN_EXPORT, CAN_READ, CAN_VOID, FINANCE_EXPORT
from core.services import audit
from core.services.access import can, line_filter, line_for_write
from core.services.bodies import json_object, one_text, only
from core.services.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from core.services.finance_blobs import store_file
from core.services.finance_files import CSV_MIME, XLSX_MIME, ExportWriter, sha256_of
from core.services.finance_rows import CHUNK, KINDS, LISTS, NEGATIVE_KINDS, ORDER, rows
from core.timeutil import in_zone, iso_in_zone, zone

FORMATS = {"xlsx": XLSX_MIME, "csv": CSV_MIME}
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
        # The lines' cases in a few queries, without their evidence, deadlines and the rest.
        .options(
            selectinload(CompensationLine.case).options(
                *(
                    lazyload(getattr(Case, name))
                    for name in ("compensation", "evidence", "deadline_rows", "approvals", "visits")
                )
            )
        )
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


def _expire_lines(ids: Sequence[int]) -> None:
    """Forget the session's copies of changed lines (they were updated by Core statements)."""
    held = [o for o in db.session.identity_map.values() if isinstance(o, CompensationLine)]
    if held:
        changed = set(ids)
        for obj in held:
            if obj.id in changed:
                db.session.expire(obj, ["batch_id", "batch"])


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def export(actor, data: Mapping, progress: Callable[[int], None] | None = None) -> ExportBatch:
    """Take every eligible line of a list and line into a new batch, with its files."""
    _require(actor, CAN_EXPORT)
    data = json_object(data)
    only(data, EXPORT_FIELDS)
    kind = _list_kind(data.get("kind"))
    code = _line_code(data.get("business_line"))
    start, end = _period(data.get("approved_from"), data.get("approved_to"))
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    with write_transaction(), ExportWriter(kind) as writer:
        line = line_for_write(actor, code)
        ids = array("q")  # 100,000 ids in 800 kB
        cents = 0
        for line_id, amount, cells in rows(line, kind, _eligible(line, kind, start, end)):
            writer.add(cells)
            ids.append(line_id)
            cents += amount
            if progress is not None:
                progress(1)
        total = (Decimal(cents) / 100).quantize(CENT)
        xlsx_path, csv_path = writer.finish()
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
            xlsx=b"",
            csv=b"",
            xlsx_sha256=sha256_of(xlsx_path),
            csv_sha256=sha256_of(csv_path),
        )
        db.session.add(batch)
        db.session.flush()
        store_file(batch.id, "xlsx", xlsx_path)
        store_file(batch.id, "csv", csv_path)
        db.session.expire(batch, ["xlsx", "csv"])
        table = CompensationLine.__table__
        for chunk in _chunks(ids):
            chunk = list(chunk)
            taken = db.session.execute(
                sa.update(table)
                .where(table.c.id.in_(chunk), table.c.batch_id.is_(None))
                .values(batch_id=batch.id)
            )
            if taken.rowcount != len(chunk):  # cannot happen under the write gate: never share
                raise Conflict(_l("Another export took some of these lines; try again."))
        # The batch's history: exactly the lines just marked with it.
        history = ExportBatchLine.__table__
        db.session.execute(
            sa.insert(history).from_select(
                ["batch_id", "line_id"],
                sa.select(sa.literal(batch.id), table.c.id).where(table.c.batch_id == batch.id),
            )
        )
        _expire_lines(ids)
        changes: dict[str, Any] = {
            "number": batch.number,
            "kind": kind,
            "business_line": line.code,
            "approved_from": start,
            "approved_to": end,
            "count": len(ids),
            "total": total,
            "xlsx_sha256": batch.xlsx_sha256,
            "csv_sha256": batch.csv_sha256,
            "lines": ids.tolist(),
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


def void(actor, batch_id: int, data: Mapping) -> ExportBatch:
    """Void a batch with a reason: its lines become eligible again; its history stays."""
    _require(actor, CAN_VOID)
    reason = one_text(data, "reason", limits.TEXT_LONG)
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
        _expire_lines(released)
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
