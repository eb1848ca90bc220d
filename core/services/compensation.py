"""Editing a proposal's compensation lines by hand, with a reason (audited)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.contracts import GOODS_KINDS, FieldSpec, ProposalLine
from core.db import write_transaction
from core.extensions import db
from core.fields import MAX_DECIMAL
from core.models import AuditEvent, Case, CompensationLine
from core.services import audit
from core.services.access import can, get_case, require_department
from core.services.cases import (
    case_caller,
    case_facts,
    category_enabled,
    emit,
    flatten,
    optional_version,
    proposal_lines,
    recompute,
    require_version,
    touch,
)
from core.services.errors import Conflict, Forbidden, Invalid, PreconditionFailed, invalid_if
from core.vocab import COMPENSATION_KINDS, choices

LINE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("kind", "choice", _l("Kind"), required=True, choices=choices(COMPENSATION_KINDS)),
    FieldSpec("quantity", "integer", _l("Quantity"), min_value=0, max_value=limits.QUANTITY),
    FieldSpec(
        "unit_price", "decimal", _l("Unit price (CNY)"), min_value=0, max_value=limits.UNIT_PRICE
    ),
    FieldSpec("amount", "decimal", _l("Amount (CNY)"), min_value=0, max_value=limits.AMOUNT),
    FieldSpec("sku", "string", _l("SKU"), max_length=limits.CODE),
    FieldSpec("batch_no", "string", _l("Batch"), max_length=limits.CODE),
    FieldSpec("note", "text", _l("Note"), max_length=limits.NOTE),
)
EDITABLE_IN = "proposed"


def compensation_limit_errors(lines, field: str = "lines") -> dict[str, list[str]]:
    """Errors of lines over core/limits.py's maxima: how many, each amount, their total."""
    errors: dict[str, list[str]] = {}
    if len(lines) > limits.COMPENSATION_LINES:
        msg = str(_l("At most %(n)s compensation lines.", n=limits.COMPENSATION_LINES))
        return {field: [msg]}
    for n, line in enumerate(lines):
        if line.amount > limits.AMOUNT:
            msg = str(
                _l("The amount (quantity × unit price) must be at most %(n)s.", n=limits.AMOUNT)
            )
            errors[f"{field}.{n}.amount"] = [msg]
        if len(line.note or "") > limits.NOTE:
            errors[f"{field}.{n}.note"] = [
                str(_l("Must be at most %(n)s characters.", n=limits.NOTE))
            ]
    total = sum((line.amount for line in lines), Decimal("0"))
    if not errors and total > limits.CASE_TOTAL:
        msg = str(_l("The compensation total must be at most %(n)s.", n=limits.CASE_TOTAL))
        errors[field] = [msg]
    return errors


def replace_compensation(case: Case, proposal) -> None:
    """Replace the case's lines not yet approved with a proposal's lines.

    A goods line's amount is quantity × unit price; a product beyond what the amount column
    holds is refused naming the line (400), whether the lines came from a person or a plugin.
    """
    too_large = {
        f"lines.{n}.amount": [str(_l("Number is too large."))]
        for n, p in enumerate(proposal)
        if abs(Decimal(p.amount)) > MAX_DECIMAL
    }
    invalid_if(too_large)
    # Approved lines are never changed or deleted: only the lines not yet approved go.
    kept = [c for c in case.compensation if c.approved_at is not None]
    case.compensation[:] = kept
    start = max((c.position for c in kept), default=0) + 1
    for position, p in enumerate(proposal, start=start):
        case.compensation.append(
            CompensationLine(
                position=position,
                kind=p.kind,
                quantity=p.quantity,
                unit_price=p.unit_price,
                amount=p.amount,
                sku=p.sku,
                batch_no=p.batch_no,
                note=p.note or None,
            )
        )


def parse_lines(raw: Any) -> list[ProposalLine]:
    """Validate lines given as a list of objects; errors name ``lines.<n>.<field>``."""
    if not isinstance(raw, list):
        raise Invalid(_l("Must be a list of lines."), field="lines")
    if len(raw) > limits.COMPENSATION_LINES:
        invalid_if(compensation_limit_errors(raw))
    errors: dict[str, list[str]] = {}
    out: list[ProposalLine] = []
    for n, item in enumerate(raw):
        prefix = f"lines.{n}."
        if not isinstance(item, dict):
            errors[f"lines.{n}"] = [str(_l("Must be an object."))]
            continue
        clean, line_errors = fields.validate(LINE_FIELDS, item, prefix=prefix)
        errors.update(line_errors)
        if line_errors:
            continue
        if clean["kind"] in GOODS_KINDS:
            missing = [k for k in ("quantity", "unit_price") if clean.get(k) is None]
            for key in missing:
                errors[prefix + key] = [str(_l("Goods lines need a quantity and a unit price."))]
            if missing:
                continue
            line = ProposalLine.goods(
                clean["kind"],
                clean["quantity"],
                clean["unit_price"],
                sku=clean.get("sku"),
                batch_no=clean.get("batch_no"),
                note=clean.get("note") or "",
            )
            if clean.get("amount") is not None and clean["amount"] != line.amount:
                errors[prefix + "amount"] = [
                    str(_l("Must be quantity × unit price (%(amount)s).", amount=line.amount))
                ]
                continue
        else:
            if clean.get("amount") is None:
                errors[prefix + "amount"] = [str(_l("This field is required."))]
                continue
            line = ProposalLine(
                kind=clean["kind"],
                amount=clean["amount"],
                quantity=clean.get("quantity"),
                unit_price=clean.get("unit_price"),
                sku=clean.get("sku"),
                batch_no=clean.get("batch_no"),
                note=clean.get("note") or "",
            )
        out.append(line)
    invalid_if(errors)
    invalid_if(compensation_limit_errors(out))
    return out


def set_compensation(actor, case_id: int, data: Any):
    """Replace a proposal's lines: ``{"lines": [...], "reason": "...", "version": n}``.

    ``lines`` are the lines not yet approved; approved lines stay as they are (a correction
    of an approved line is a new line, approved as usual).

    Allowed while the case is ``proposed``, to those who may propose; the category's plugin
    may refuse lines (422); the old and new lines and the reason go into the audit trail.
    """
    if not isinstance(data, dict):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    unknown = set(data) - {"lines", "reason", "version"}
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in sorted(unknown)}
        )
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(_l("Give the reason for changing the compensation."), field="reason")
    if len(reason.strip()) > limits.TEXT_LONG:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.TEXT_LONG)), field="reason"
        )
    version = optional_version(data)
    lines = parse_lines(data.get("lines"))
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if not can(actor, "can_propose"):
            raise Forbidden(_l("Your role may not change a proposal."), field="lines")
        require_department(actor, case)
        require_version(case, version)
        if not category_enabled(case) or case.status != EDITABLE_IN:
            raise Conflict(
                _l("Compensation can be changed only while the case is at the proposal stage."),
                status=case.status,
            )
        facts = case_facts(case)
        approved = tuple(
            p for p, c in zip(proposal_lines(case), case.compensation, strict=True) if c.approved_at
        )
        problems = flatten(
            case_caller("kesu_compensation_problems", facts.line, case.category)(
                case=facts, lines=approved + tuple(lines)
            )
        )
        if problems:
            raise PreconditionFailed(
                problems[0].message,
                errors={(p.field or p.code): [str(p.message)] for p in problems},
                problems=[
                    {"code": p.code, "field": p.field, "message": str(p.message)} for p in problems
                ],
            )
        before = [dataclasses.asdict(line) for line in proposal_lines(case)]
        replace_compensation(case, lines)
        touch(case)
        recompute(case)
        db.session.flush()
        audit.record(
            actor,
            "compensation",
            entity="case",
            entity_id=case.id,
            case_id=case.id,
            changes={
                "compensation": [before, [dataclasses.asdict(line) for line in lines]],
                "reason": reason.strip(),
            },
        )
        emit(case, "compensation", case.status, actor, {"reason": reason.strip()})
    return case


def proposal_reasons(case_ids: list[int]) -> dict[int, str]:
    """The reason given with each case's latest compensation change since it was last
    proposed (one statement; call after the cases' access check): what an approver reads
    beside the proposed lines. Proposing again replaces the lines, and so drops the reason."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        sa.select(AuditEvent.case_id, AuditEvent.action, AuditEvent.changes)
        .where(
            AuditEvent.action.in_(("compensation", "propose")),
            AuditEvent.case_id.in_(case_ids),
        )
        .order_by(AuditEvent.id)
    )
    reasons: dict[int, str] = {}
    for case_id, action, changes in rows:
        if action == "propose":
            reasons.pop(case_id, None)
            continue
        reason = (changes or {}).get("reason")
        if isinstance(reason, str) and reason:
            reasons[case_id] = reason
    return reasons
