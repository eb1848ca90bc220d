"""Carrying out approved compensation, line by line (DOMAIN.md section 8).

Every compensation line is approved once, when its case passes approval; from then on it is
never changed or deleted. An approved line is ``pending`` until it is carried out: ``done``
with the ERP document that did it (credit-note, order or payment number) or ``cancelled``
with a reason. Money lines are marked done by Finance, goods lines by Sales or customer
service; a CS supervisor may cancel a line that is not in an export batch. The ``execute``
action waits until no line is pending (core.services.workflow).

Reship before recall: when a case's goods go out while a credit of the same case is still
pending, that credit is due within the same calendar month (the line's time zone).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from core import limits
from core.contracts import GOODS_KINDS
from core.db import utcnow, write_transaction
from core.extensions import db
from core.fields import to_json
from core.i18n import translated
from core.models import Case, CompensationLine
from core.roles import CAN_CANCEL_LINE, CAN_SETTLE_GOODS, CAN_SETTLE_MONEY, COMPENSATION
from core.services import audit
from core.services.access import can, get_case, line_filter
from core.services.bodies import one_text
from core.services.cases import touch
from core.services.errors import Conflict, Forbidden, NotFound
from core.timeutil import in_zone, iso_in_zone

# Kinds of money lines (Finance carries them out) and the credits among them: what a
# reshipment sent before the recall makes due in the same month.
MONEY_KINDS = frozenset(
    {
        "credit_note",
        "account_adjustment",
        "refund",
        "freight_to_customer",
        "charge_responsible_person",
    }
)
CREDIT_KINDS = frozenset({"credit_note", "account_adjustment", "refund"})
EXEC_STATUSES = ("pending", "done", "cancelled")


def settle_permission(kind: str) -> str:
    """The permission that marks a line of ``kind`` done."""
    return CAN_SETTLE_GOODS if kind in GOODS_KINDS else CAN_SETTLE_MONEY


def unapproved(case: Case) -> list[CompensationLine]:
    return [c for c in case.compensation if c.approved_at is None]


def approve_lines(case: Case, round_no: int | None) -> list[int]:
    """Mark the case's lines not yet approved as approved now (by approval round ``round_no``)."""
    now = utcnow()
    out = []
    for line in unapproved(case):
        line.approved_at = now
        line.approved_round = round_no
        out.append(line.position)
    return out


def pending(case: Case) -> list[CompensationLine]:
    """Approved lines not yet carried out."""
    return [c for c in case.compensation if c.approved_at and c.exec_status == "pending"]


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _line_for_change(actor, case_id: int, line_id: int) -> tuple[Case, CompensationLine]:
    case = get_case(actor, case_id, lock=True)
    line = next((c for c in case.compensation if c.id == line_id), None)
    if line is None:
        raise NotFound(_l("No such compensation line on this case."), field="line")
    if line.approved_at is None:
        raise Conflict(
            _l("This line is not approved yet; it can be carried out once approved."),
            status=line.exec_status,
        )
    if line.exec_status != "pending":
        raise Conflict(
            _l("This line was already carried out or cancelled."), status=line.exec_status
        )
    return case, line


def mark_done(actor, case_id: int, line_id: int, data: Any) -> Case:
    """Record that an approved line was carried out, with the ERP document's reference."""
    reference = one_text(data, "reference", limits.CODE)
    with write_transaction():
        case, line = _line_for_change(actor, case_id, line_id)
        if not can(actor, settle_permission(line.kind), COMPENSATION):
            raise Forbidden(
                _l("Finance marks money lines done; Sales or customer service mark goods lines.")
                if line.kind in MONEY_KINDS
                else _l("Sales or customer service mark goods lines done."),
                field="line",
            )
        line.exec_status = "done"
        line.exec_reference = reference
        line.exec_by = actor if getattr(actor, "id", None) else None
        line.exec_at = utcnow()
        due: list[int] = []
        if line.kind in GOODS_KINDS:
            # Reshipped before the recall: the case's open credits fall due this month.
            end = month_end(in_zone(line.exec_at, case.business_line.timezone).date())
            for other in pending(case):
                if other.kind in CREDIT_KINDS and other.credit_due_on is None:
                    other.credit_due_on = end
                    due.append(other.id)
        touch(case)
        db.session.flush()
        changes: dict[str, Any] = {
            "line": line.id,
            "kind": line.kind,
            "exec_status": ["pending", "done"],
            "reference": reference,
        }
        if due:
            changes["credit_due"] = {"lines": due, "on": end.isoformat()}
        audit.record(
            actor,
            "compensation_done",
            entity="compensation_line",
            entity_id=line.id,
            case_id=case.id,
            changes=changes,
        )
    return case


def cancel(actor, case_id: int, line_id: int, data: Any) -> Case:
    """Cancel an approved line that will not be carried out (CS supervisor, with a reason)."""
    reason = one_text(data, "reason", limits.TEXT_LONG)
    with write_transaction():
        case, line = _line_for_change(actor, case_id, line_id)
        if not can(actor, CAN_CANCEL_LINE, COMPENSATION):
            raise Forbidden(_l("Only a customer-service supervisor may cancel a line."))
        if line.batch_id is not None:
            raise Conflict(
                _l("This line is in an export batch; void the batch before cancelling the line."),
                status=line.exec_status,
                batch=line.batch.number,
            )
        line.exec_status = "cancelled"
        line.exec_reason = reason
        line.exec_by = actor if getattr(actor, "id", None) else None
        line.exec_at = utcnow()
        line.credit_due_on = None
        touch(case)
        db.session.flush()
        audit.record(
            actor,
            "compensation_cancelled",
            entity="compensation_line",
            entity_id=line.id,
            case_id=case.id,
            changes={"line": line.id, "exec_status": ["pending", "cancelled"], "reason": reason},
        )
    return case


def credit_overdue(line: CompensationLine, tz: str, now: dt.datetime | None = None) -> bool:
    """Whether a credit due by month end (reship before recall) is still open after it."""
    if line.credit_due_on is None or line.exec_status != "pending":
        return False
    return in_zone(now or utcnow(), tz).date() > line.credit_due_on


def line_json(line: CompensationLine, tz: str) -> dict[str, Any]:
    """A compensation line of the CASE object: what was approved, and how it was carried out."""
    return {
        "id": line.id,
        "kind": line.kind,
        "quantity": line.quantity,
        "unit_price": to_json(line.unit_price),
        "amount": to_json(line.amount),
        "sku": line.sku,
        "batch_no": line.batch_no,
        "note": translated(line.note),
        "approved_at": iso_in_zone(line.approved_at, tz),
        "execution": {
            "status": line.exec_status,
            "reference": line.exec_reference,
            "reason": line.exec_reason,
            "by": line.exec_by.username if line.exec_by else None,
            "at": iso_in_zone(line.exec_at, tz),
        },
        "export": {"batch": line.batch.number, "at": iso_in_zone(line.batch.created_at, tz)}
        if line.batch is not None
        else None,
        "credit_due_on": to_json(line.credit_due_on),
        "credit_overdue": credit_overdue(line, tz),
    }


def _lines(actor, line_id: int | None, *where, order_by) -> list[CompensationLine]:
    """Compensation lines of the actor's business lines (or of one of them) matching ``where``."""
    stmt = (
        sa.select(CompensationLine)
        .join(Case, Case.id == CompensationLine.case_id)
        .where(line_filter(actor, Case.business_line_id), *where)
        .order_by(order_by, CompensationLine.id)
        .options(contains_eager(CompensationLine.case))  # each row's case, in the same query
    )
    if line_id is not None:
        stmt = stmt.where(Case.business_line_id == line_id)
    return list(db.session.scalars(stmt))


def credits_due(actor, line_id: int | None = None) -> list[tuple[CompensationLine, bool]]:
    """Open credits of cases reshipped before the recall, soonest first, with their overdue flag."""
    rows = _lines(
        actor,
        line_id,
        CompensationLine.credit_due_on.is_not(None),
        CompensationLine.exec_status == "pending",
        order_by=CompensationLine.credit_due_on,
    )
    return [(row, credit_overdue(row, row.case.business_line.timezone)) for row in rows]


def awaiting_reference(actor, kinds: frozenset[str], line_id: int | None = None):
    """Approved lines of ``kinds`` still pending: what waits for its ERP document reference."""
    return _lines(
        actor,
        line_id,
        CompensationLine.approved_at.is_not(None),
        CompensationLine.exec_status == "pending",
        CompensationLine.kind.in_(sorted(kinds)),
        order_by=CompensationLine.approved_at,
    )
