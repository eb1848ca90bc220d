"""The words the history uses: labels of audit record types, recorded fields and their values.

Pure vocabulary (no database): :mod:`core.services.history` loads what the events refer to and
:mod:`core.services.history_text` builds the sentences.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.services.cases import CORE_FIELDS, CUSTOMER_FIELDS
from core.vocab import (
    CHANNELS,
    COMPENSATION_KINDS,
    CUSTOMER_KINDS,
    DEADLINES,
    DEMANDS,
    EVIDENCE_KINDS,
    POSITIONS,
    PRIORITIES,
    PROBLEM_STAGES,
    VISIT_CHANNELS,
    VISIT_FOLLOWUPS,
)
from core.workflow import STAGE_LABELS

# The kinds of record an audit event is about (AuditEvent.entity).
ENTITY_LABELS = {
    "case": _l("Case"),
    "customer": _l("Customer"),
    "ledger": _l("Ledger"),
    "business_line": _l("Business line"),
    "department": _l("Department"),
    "product": _l("Product"),
    "user": _l("User"),
    "line_position": _l("Approval position"),
    "evidence": _l("Evidence"),
    "case_visit": _l("Return visit"),
    "compensation_line": _l("Compensation line"),
    "export_batch": _l("Finance export batch"),
    "saved_filter": _l("Saved filter"),
    "case_list": _l("Complaint list"),
    "capa_register": _l("Corrective actions"),
}

EXPORT_KINDS = {
    "credit_notes": _l("Credit-note and adjustment list"),
    "reshipments": _l("Reshipment and free-goods list"),
}
EXEC_STATES = {
    "pending": _l("Pending"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}

# Labels of recorded fields that are not form fields of the case or the customer.
EXTRA_FIELDS = {
    "number": _l("Case number"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "is_major": _l("Major"),
    "category": _l("Category"),
    "business_line_id": _l("Business line"),
    "business_line": _l("Business line"),
    "business_lines": _l("Business lines"),
    "customer_id": _l("Customer"),
    "product_id": _l("Product"),
    "details": _l("Category fields"),
    "department_id": _l("Responsible department"),
    "department": _l("Department"),
    "handler_id": _l("Handler"),
    "root_cause": _l("Root cause"),
    "root_cause_id": _l("Root-cause category"),
    "head_id": _l("Department head"),
    "query": _l("Filter"),
    "filters": _l("Filter"),
    "rows": _l("Rows"),
    "comment": _l("Comment"),
    "acceptance_override": _l("Override reason"),
    "override": _l("Override"),
    "verified_effective": _l("Corrective action effective"),
    "effective": _l("Effective"),
    "held_from": _l("Held from"),
    "compensation": _l("Compensation"),
    "approval_steps": _l("Approval steps"),
    "approved_lines": _l("Approved compensation lines"),
    "step": _l("Step"),
    "filename": _l("File"),
    "source": _l("Source"),
    "acceptance_issues": _l("Acceptance issues"),
    "deadlines": _l("Deadlines"),
    "major_reasons": _l("Major"),
    "priority_override": _l("Priority set by hand"),
    "priority_override_reason": _l("Reason for the priority"),
    "reason": _l("Reason"),
    "hold_minutes": _l("Working minutes on hold"),
    "deadlines_restarted": _l("Deadlines restarted"),
    "visited_at": _l("Visited at"),
    "satisfaction": _l("Satisfaction"),
    "followup": _l("Follow-up"),
    "visits_reopened": _l("Return visits"),
    "code": _l("Code"),
    "timezone": _l("Time zone"),
    "locale": _l("Language"),
    "plugins": _l("Plugins"),
    "username": _l("User name"),
    "roles": _l("Roles"),
    "user": _l("User"),
    "position": _l("Approval position"),
    "line": _l("Compensation line"),
    "exec_status": _l("Execution"),
    "reference": _l("Reference"),
    "credit_due": _l("Credit due"),
    "on": _l("Due on"),
    "format": _l("Format"),
    "count": _l("Lines"),
    "total": _l("Total"),
    "lines": _l("Compensation lines"),
    "released": _l("Lines released"),
    "contact_data": _l("Contains contact data"),
    "escalated": _l("Escalated cases"),
    "to": _l("Notified"),
    "days": _l("Calendar days"),
    "added": _l("Days added"),
    "sku": _l("SKU"),
    "first_name": _l("Given name"),
    "last_name": _l("Name (surname first)"),
    "active": _l("Active"),
    "settings": _l("Settings"),
    "kind": _l("Kind"),
}

FIELD_LABELS = {
    **{s.name: s.label for s in CUSTOMER_FIELDS},
    **{s.name: s.label for s in CORE_FIELDS},
    **EXTRA_FIELDS,
}

# Values shown by their label, per recorded field; ``kind`` depends on the record type.
VALUE_LABELS = {
    "channel": CHANNELS,
    "demand": DEMANDS,
    "problem_stage": PROBLEM_STAGES,
    "priority": PRIORITIES,
    "priority_override": PRIORITIES,
    "deadlines_restarted": DEADLINES,
    "status": STAGE_LABELS,
    "held_from": STAGE_LABELS,
    "position": POSITIONS,
    "followup": VISIT_FOLLOWUPS,
    "exec_status": EXEC_STATES,
}
KIND_LABELS = {
    "evidence": EVIDENCE_KINDS,
    "customer": CUSTOMER_KINDS,
    "compensation_line": COMPENSATION_KINDS,
    "export_batch": EXPORT_KINDS,
    "case": COMPENSATION_KINDS,
}
ENTITY_VALUE_LABELS = {"case_visit": {"channel": VISIT_CHANNELS}}
MONEY_FIELDS = frozenset({"claim_amount", "amount", "total", "unit_price"})
CONTACT_FIELDS = frozenset({"phone", "email"})
# Recorded values never shown as text in the history (the integrity detail keeps them).
HIDDEN_FIELDS = frozenset({"sha256", "xlsx_sha256", "csv_sha256", "password"})


def value_labels(entity: str, key: str) -> dict | None:
    """The labels of the values of ``key`` on a record of type ``entity``, if it has them."""
    if key == "kind":
        return KIND_LABELS.get(entity)
    return ENTITY_VALUE_LABELS.get(entity, {}).get(key) or VALUE_LABELS.get(key)
