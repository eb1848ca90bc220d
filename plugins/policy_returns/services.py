"""Policy returns' own writes: the warehouse's receipt of returned goods."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields
from core.contracts import FieldSpec, WorkRow
from core.db import write_transaction
from core.extensions import db
from core.models import Case
from core.services import audit, cases
from core.services.access import get_case, require
from core.services.errors import Conflict, Invalid, invalid_if
from core.services.workflow import current_steps
from core.services.workspace import case_rows
from core.timeutil import iso_in_zone
from plugins.policy_returns import DESCRIPTOR, rules
from plugins.policy_returns.models import ReturnReceipt

RECEIPT_VIEW, CAN_RECORD = "ReturnReceipt", "can_record"
WAREHOUSE = "Warehouse"

RECEIPT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("sku", "string", _l("SKU"), required=True, max_length=64),
    FieldSpec("batch_no", "string", _l("Batch"), required=True, max_length=64),
    FieldSpec("quantity", "integer", _l("Quantity"), required=True, min_value=0),
    FieldSpec("comment", "text", _l("Comment"), max_length=2000),
)
REASONS = {
    "not_approved": _l(
        "No approved return form: refused; every consequence lies with the returning unit."
    ),
    "sku": _l("The SKU differs from the approved form."),
    "batch_no": _l("The batch differs from the approved form."),
    "quantity": _l("The quantity differs from the approved form."),
}


def approved(case) -> bool:
    """Whether the latest submission of the proposal was approved by every step."""
    steps = current_steps(case)
    return bool(steps) and all(step.decision == "approved" for step in steps)


def expected(case) -> dict[str, Any]:
    """What the approved form says arrives: SKU, batch and quantity."""
    return {
        "sku": case.details.get("sku"),
        "batch_no": case.batch_no,
        "quantity": case.details.get("return_quantity"),
    }


def record_receipt(actor, case_id: int, data: Any) -> ReturnReceipt:
    """Record what arrived; refused unless the form is approved and SKU, batch and quantity match.

    A refusal is recorded too, with its reasons; the costs stay with the returning customer.
    """
    get_case(actor, case_id)  # a case of another line does not exist for the actor
    require(actor, CAN_RECORD, RECEIPT_VIEW)
    if not isinstance(data, dict):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    clean, errors = fields.validate(RECEIPT_FIELDS, data)
    invalid_if(errors)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if case.category != DESCRIPTOR.key:
            raise Conflict(_l("This is not a return case."), field="category")
        cases.require_writable(case)
        received = {k: clean.get(k) for k in ("sku", "batch_no", "quantity")}
        reasons = (
            ["not_approved"]
            if not approved(case)
            else rules.receipt_mismatches(expected(case), received)
        )
        receipt = ReturnReceipt(
            case_id=case.id,
            accepted=not reasons,
            reasons=reasons,
            comment=clean.get("comment"),
            recorded_by=actor.username,
            **received,
        )
        db.session.add(receipt)
        cases.touch(case)
        db.session.flush()
        audit.record(
            actor,
            "return_receipt",
            entity="return_receipt",
            entity_id=receipt.id,
            case_id=case.id,
            changes={
                **{k: [None, v] for k, v in received.items()},
                "accepted": [None, receipt.accepted],
                "reasons": [None, reasons],
            },
        )
    return receipt


def receipts_of(case_id: int) -> list[ReturnReceipt]:
    return list(
        db.session.scalars(
            sa.select(ReturnReceipt)
            .where(ReturnReceipt.case_id == case_id)
            .order_by(ReturnReceipt.id)
        )
    )


def receipt_json(receipt: ReturnReceipt, tz: str) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "sku": receipt.sku,
        "batch_no": receipt.batch_no,
        "quantity": receipt.quantity,
        "accepted": receipt.accepted,
        "reasons": list(receipt.reasons),
        "reason_texts": [str(REASONS[r]) for r in receipt.reasons],
        "comment": receipt.comment,
        "recorded_by": receipt.recorded_by,
        "recorded_at": iso_in_zone(receipt.recorded_at, tz),
    }


def expected_returns(user, now: dt.datetime) -> tuple[WorkRow, ...]:
    """Return cases of the user's lines approved and being carried out, with no accepted
    receipt yet: what the warehouse expects to arrive (the work list of My work)."""
    received = sa.exists().where(ReturnReceipt.case_id == Case.id, ReturnReceipt.accepted.is_(True))
    return case_rows(
        user,
        now,
        Case.category == DESCRIPTOR.key,
        Case.status == "executing",
        ~received,
    )
