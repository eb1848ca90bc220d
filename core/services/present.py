"""How cases look to a reader: the CASE object of the API and the screens, with masking.

Phone numbers and e-mail addresses are masked (``138****5678``) for roles without the
"view contact" permission, in screens, lists, exports and the API alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for

from core.fields import to_json
from core.i18n import translated, translated_issues
from core.models import Case, Customer, KesuUser
from core.services import execution, root_causes, sla_customers, sla_deadlines, visits
from core.services.access import can_view_contact
from core.services.cases import money_total
from core.services.workflow import allowed_actions
from core.timeutil import iso_in_zone


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``; short numbers keep only their last two digits."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(email: str | None) -> str | None:
    """``zhang.san@example.com`` -> ``z***@example.com``."""
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def customer_json(customer: Customer | None, unmasked: bool) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind,
        "contact": customer.contact,
        "phone": customer.phone if unmasked else mask_phone(customer.phone),
        "email": customer.email if unmasked else mask_email(customer.email),
        "address": customer.address,
    }


def evidence_json(case: Case, evidence) -> dict[str, Any]:
    """An Evidence object (docs/api.md): times in the case's line's timezone."""
    return {
        "id": evidence.id,
        "kind": evidence.kind,
        "source": evidence.source,
        "received_at": iso_in_zone(evidence.received_at, case.business_line.timezone),
        "filename": evidence.filename,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "url": url_for("CaseApi.download_evidence", pk=case.id, evidence_id=evidence.id),
    }


def case_json(actor: KesuUser, case: Case, *, summary: bool = False) -> dict[str, Any]:
    """The CASE object (docs/api.md); ``summary`` leaves out the nested lists for list pages."""
    tz = case.business_line.timezone
    product = case.product
    out: dict[str, Any] = {
        "id": case.id,
        "number": case.number,
        "business_line": case.business_line.code,
        "category": case.category,
        "channel": case.channel,
        "status": case.status,
        "held_from": case.held_from,
        "priority": case.priority,
        "priority_reasons": list(case.priority_reasons or []),
        "priority_override_reason": case.priority_override_reason,
        "is_major": case.is_major,
        "major_reasons": list(case.major_reasons or []),
        "acceptance_issues": translated_issues(case.acceptance_issues),
        "acceptance_override": case.acceptance_override,
        "customer": customer_json(case.customer, can_view_contact(actor)),
        "product": {"id": product.id, "code": product.code, "name": product.name}
        if product
        else None,
        "batch_no": case.batch_no,
        "quantity_purchased": case.quantity_purchased,
        "purchase_date": to_json(case.purchase_date),
        "goods_received_at": iso_in_zone(case.goods_received_at, tz),
        "received_at": iso_in_zone(case.received_at, tz),
        "problem_stage": case.problem_stage,
        "purchasing_unit": case.purchasing_unit,
        "description": case.description,
        "demand": case.demand,
        "claim_amount": to_json(case.claim_amount),
        "details": dict(case.details or {}),
        "deadlines": {
            name: iso_in_zone(dt.datetime.fromisoformat(when), tz)
            for name, when in (case.deadlines or {}).items()
        },
        "department": case.department.code if case.department else None,
        "handler": case.handler.username if case.handler else None,
        "root_cause": case.root_cause,
        "root_cause_category": case.root_cause_entry.label if case.root_cause_entry else None,
        "verified_effective": case.verified_effective,
        "version": case.version,
        "created_at": iso_in_zone(case.created_at, tz),
        "updated_at": iso_in_zone(case.updated_at, tz),
    }
    if summary:
        return out
    out["evidence"] = [evidence_json(case, e) for e in case.evidence]
    out["root_cause_choices"] = [
        {"id": pk, "label": label} for pk, label in root_causes.choices(case.business_line_id)
    ]
    out["compensation"] = [execution.line_json(c, tz) for c in case.compensation]
    out["compensation_total"] = to_json(money_total(case.compensation))
    out["proposal_note"] = translated(case.proposal_note)
    out["approvals"] = [
        {
            "round": s.round,
            "step": s.step,
            "role": s.role,
            "decision": s.decision,
            "by": s.decided_by.username if s.decided_by else None,
            "at": iso_in_zone(s.decided_at, tz),
            "comment": s.comment,
        }
        for s in case.approvals
    ]
    out["visits"] = [visits.visit_json(v, tz) for v in visits.in_order(case)]
    out["satisfaction"] = visits.satisfaction(case)
    out["sla"] = {v.name: v.as_dict(tz) for v in sla_deadlines.deadline_views(case)}
    at_risk, recent = sla_customers.customer_risk(case)
    out["customer_at_risk"] = at_risk
    out["customer_recent_cases"] = recent
    out["allowed_actions"] = allowed_actions(actor, case)
    return out
