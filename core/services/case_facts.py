"""A case as plugins see it (CaseFacts), and its re-evaluation by the plugins' rules:
acceptance issues, major triggers, priority and deadlines."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from core import fields
from core.contracts import CaseFacts, LineFacts, PriorityReason, ProposalLine
from core.extensions import db
from core.models import Case
from core.services import sla_deadlines
from core.services.case_hooks import case_caller, display_field_specs, flatten, line_caller
from core.services.case_input import customer_dict
from core.services.lines import line_facts

# -- facts -------------------------------------------------------------------------------------


def proposal_lines(case: Case) -> tuple[ProposalLine, ...]:
    """The case's compensation lines as plain data."""
    return tuple(
        ProposalLine(
            kind=c.kind,
            amount=c.amount,
            quantity=c.quantity,
            unit_price=c.unit_price,
            sku=c.sku,
            batch_no=c.batch_no,
            note=c.note or "",
        )
        for c in case.compensation
    )


def case_facts(case: Case, line: LineFacts | None = None) -> CaseFacts:
    """The plain snapshot of a case that plugin hooks receive."""
    line = line or line_facts(case.business_line)
    specs = {s.name: s for s in display_field_specs(line, case.category)}
    details = {
        k: fields.from_json(specs[k], v) if k in specs else v
        for k, v in (case.details or {}).items()
    }
    product = case.product
    return CaseFacts(
        id=case.id,
        number=case.number,
        line=line,
        category=case.category,
        channel=case.channel,
        status=case.status,
        priority=case.priority,
        customer=customer_dict(case.customer),
        product={
            "id": product.id,
            "code": product.code,
            "name": product.name,
            "unit_price": product.unit_price,
        }
        if product
        else {},
        batch_no=case.batch_no,
        quantity_purchased=case.quantity_purchased,
        purchase_date=case.purchase_date,
        goods_received_at=case.goods_received_at,
        received_at=case.received_at,
        description=case.description,
        demand=case.demand,
        claim_amount=case.claim_amount,
        details=details,
        evidence_kinds=frozenset(e.kind for e in case.evidence),
        compensation=proposal_lines(case),
        root_cause=case.root_cause,
        held_from=case.held_from,
        department=case.department.code if case.department else None,
        is_major=bool(case.is_major),
        major_reasons=tuple(case.major_reasons or ()),
        stage_times={k: dt.datetime.fromisoformat(v) for k, v in (case.stage_times or {}).items()},
        verified_effective=case.verified_effective,
    )


PRIORITY_ORDER = ("P1", "P2", "P3")


def recompute(case: Case) -> CaseFacts:
    """Re-evaluate acceptance issues, major triggers and priority from the plugins; returns
    the facts the plugins were given (before the values it sets)."""
    # Plugins query other cases; the case being written must not be flushed half-made.
    with db.session.no_autoflush:
        line = line_facts(case.business_line)
        facts = case_facts(case, line)
        issues = flatten(case_caller("kesu_acceptance_issues", line, case.category)(case=facts))
        case.acceptance_issues = [i.as_dict() for i in issues]
        reasons = list(dict.fromkeys(flatten(line_caller("kesu_major_reasons", line)(case=facts))))
        case.major_reasons = reasons
        case.is_major = bool(reasons)
        priority_reasons = flatten(line_caller("kesu_priority_reasons", line)(case=facts))
        if case.is_major:
            priority_reasons.insert(0, _major_reason())
        best = min((r.priority for r in priority_reasons), key=PRIORITY_ORDER.index, default="P3")
        codes = list(dict.fromkeys(r.code for r in priority_reasons if r.priority == best))
        if case.priority_override in PRIORITY_ORDER:
            best, codes = case.priority_override, ["manual", *codes]
        case.priority = best
        case.priority_reasons = codes
        deadlines: dict[str, Any] = {}
        for result in case_caller("kesu_deadlines", line, case.category)(case=facts):
            deadlines.update(result or {})
        sla_deadlines.sync_deadlines(case, deadlines)
    return facts


def recomputed(facts: CaseFacts, case: Case) -> CaseFacts:
    """``facts`` (from :func:`recompute`) with what recompute and the flush since changed:
    the same as ``case_facts(case)`` without building it again."""
    return dataclasses.replace(
        facts,
        id=case.id,
        priority=case.priority,
        is_major=bool(case.is_major),
        major_reasons=tuple(case.major_reasons or ()),
    )


def _major_reason() -> PriorityReason:
    return PriorityReason("P1", "major")
