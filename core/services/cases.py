"""Creating, editing, listing and re-evaluating cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.contracts import (
    CaseEvent,
    CaseFacts,
    compensation_total,
)
from core.db import for_update, utcnow, write_transaction
from core.extensions import db
from core.models import Case, KesuUser, RootCause
from core.roles import CAN_CREATE, CAN_EDIT
from core.services import audit, sla_deadlines
from core.services.access import get_case, line_for_write, require
from core.services.case_facts import PRIORITY_ORDER as PRIORITY_ORDER
from core.services.case_facts import case_facts, recompute, recomputed
from core.services.case_facts import proposal_lines as proposal_lines
from core.services.case_hooks import case_caller, flatten
from core.services.case_hooks import display_field_specs as display_field_specs
from core.services.case_hooks import plugin_field_specs as plugin_field_specs
from core.services.case_input import CORE_FIELDS as CORE_FIELDS
from core.services.case_input import CUSTOMER_FIELDS as CUSTOMER_FIELDS
from core.services.case_input import (
    CaseInput,
    apply_core,
    check_category,
    core_values,
    resolve_customer,
    save_customer,
    start_input,
    validate_details,
)
from core.services.errors import Conflict, Invalid, invalid_if
from core.services.lines import line_facts
from core.services.numbers import next_case_number
from core.timeutil import in_zone
from core.workflow import FINAL

# Case attributes recorded in the audit trail (old -> new) on create and edit.
AUDITED = (
    "number",
    "business_line_id",
    "category",
    "channel",
    "status",
    "priority",
    "priority_override",
    "priority_override_reason",
    "is_major",
    "customer_id",
    "product_id",
    "batch_no",
    "quantity_purchased",
    "purchase_date",
    "goods_received_at",
    "received_at",
    "problem_stage",
    "purchasing_unit",
    "description",
    "demand",
    "claim_amount",
    "details",
    "department_id",
    "handler_id",
    "root_cause",
    "root_cause_id",
    "acceptance_override",
    "verified_effective",
    "held_from",
    "major_reasons",
    "deadlines",
)


# A new case's lists, set empty when it is made so that reading them loads nothing.
NEW_CASE_LISTS = ("evidence", "compensation", "deadline_rows", "approvals", "visits")


def snapshot(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in AUDITED}


# -- hooks for one case ------------------------------------------------------------------------


def panels(case: Case) -> list:
    """The sections the case's plugins add to its page."""
    line = line_facts(case.business_line)
    return flatten(
        case_caller("kesu_case_panels", line, case.category)(case=case_facts(case, line))
    )


def category_enabled(case: Case) -> bool:
    return case.category in case.business_line.enabled_plugin_keys


def require_writable(case: Case) -> None:
    """409 unless the case may still change: not closed or rejected, its category enabled."""
    if case.status in FINAL:
        raise Conflict(_l("A closed or rejected case cannot be edited."), status=case.status)
    if not category_enabled(case):
        raise Conflict(_l("This category is disabled on the business line; the case is read-only."))


def optional_version(data: Mapping[str, Any]) -> int | None:
    """The body's optional ``version`` (the one the caller last read): 400 unless whole."""
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise Invalid(_l("Must be a whole number."), field="version")
    return version


def require_version(case: Case, version: int | None) -> None:
    """409 when the caller read an older version of the case (``None``: not checked)."""
    if version is not None and version != case.version:
        raise Conflict(
            _l("The case was changed by someone else; reload it and try again."),
            field="version",
            current_version=case.version,
        )


def touch(case: Case) -> None:
    """Mark the case changed when only its lines or steps changed, so its version moves on."""
    case.updated_at = utcnow()


def emit(
    case: Case,
    action: str,
    old_status: str | None,
    actor: KesuUser,
    payload=None,
    *,
    facts: CaseFacts | None = None,
) -> None:
    """Tell the case's plugins what happened (inside the same transaction); ``facts``: the
    case's facts as they are now, when the caller has them (see :func:`recomputed`)."""
    line = facts.line if facts is not None else line_facts(case.business_line)
    facts = facts or case_facts(case, line)
    event = CaseEvent(
        action, old_status, case.status, actor.username, dict(payload or {}), actor.id
    )
    case_caller("kesu_case_event", line, case.category)(case=facts, event=event)


# -- input ------------------------------------------------------------------------------------


# -- create / edit ------------------------------------------------------------------------------


def create_case(actor: KesuUser, data: Any) -> Case:
    """Register a case (登记) from intake data; validates everything before writing anything."""
    require(actor, CAN_CREATE)
    data, out = start_input(data)
    code = data.get("business_line")
    if not isinstance(code, str) or not code:
        out.add("business_line", _l("This field is required."))
        invalid_if(out.errors)
    with write_transaction():
        line = line_for_write(actor, code)
        check_category(line, data.get("category"), out)
        clean = core_values(data, out, require=True)
        customer = resolve_customer(actor, line, data, out)
        details = {}
        if "category" not in out.errors:
            details = validate_details(line, data["category"], data.get("details"), out)
        case = Case(
            business_line=line,
            category=data.get("category"),
            status="new",
            details=details,
            **{name: [] for name in NEW_CASE_LISTS},  # known empty: never loaded
        )
        apply_core(case, line, clean, out)
        invalid_if(out.errors)
        if isinstance(customer, dict):
            customer = save_customer(actor, line, customer)
        case.customer = customer
        now = utcnow()
        case.number = next_case_number(in_zone(now, line.timezone))
        case.stage_times = {"new": now.isoformat()}
        case.created_by_id = actor.id
        db.session.add(case)
        facts = recompute(case)
        sla_deadlines.flush_new_case(case)
        audit.record(
            actor,
            "create",
            entity="case",
            entity_id=case.id,
            case_id=case.id,
            changes=audit.diff({}, snapshot(case)),
        )
        emit(case, "create", None, actor, facts=recomputed(facts, case))
    return case


def update_case(actor: KesuUser, case_id: int, data: Any) -> Case:
    """Edit a case's intake data and plugin fields; ``version`` must be the one last seen.

    The business line and the category can change only while the case is ``new``; the
    customer and product must then be given again in the new line.
    """
    require(actor, CAN_EDIT)
    data, out = start_input(data)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        out.add(
            "version",
            _l("This field is required.") if version is None else _l("Must be a whole number."),
        )
    invalid_if(out.errors)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        require_version(case, version)
        require_writable(case)
        before = snapshot(case)
        line, category = case.business_line, case.category
        if data.get("business_line", line.code) != line.code:
            line = line_for_write(actor, data["business_line"])
        category = data.get("category", category)
        for key, changed in (
            ("business_line", line is not case.business_line),
            ("category", category != case.category),
        ):
            if changed and case.status != "new":
                out.add(key, _l("Can only be changed before the case is accepted."))
        if line is not case.business_line or category != case.category:
            check_category(line, category, out)
        clean = core_values(data, out, require=False)
        customer = None
        if "customer" in data or "customer_id" in data:
            customer = resolve_customer(actor, line, data, out)
        elif line is not case.business_line:
            out.add("customer", _l("Give the customer again for the new business line."))
        if line is not case.business_line and case.product_id and "product" not in clean:
            out.add("product", _l("Give the product again for the new business line."))
        details_in = data.get("details", {})
        if not isinstance(details_in, Mapping):
            out.add("details", _l("Must be an object."))
            details_in = {}
        kept = case.details if category == case.category else {}
        details = {}
        if "category" not in out.errors:
            details = validate_details(line, category, {**(kept or {}), **details_in}, out)
        invalid_if(out.errors)
        case.business_line = line
        case.category = category
        case.details = details
        apply_core(case, line, clean, out)
        invalid_if(out.errors)
        if isinstance(customer, dict):
            customer = save_customer(actor, line, customer)
        if customer is not None:
            case.customer = customer
        recompute(case)
        changes = audit.diff(before, snapshot(case))
        if changes:
            db.session.flush()
            audit.record(
                actor, "update", entity="case", entity_id=case.id, case_id=case.id, changes=changes
            )
            emit(case, "update", case.status, actor)
    return case


def money_total(lines: Iterable[Any]) -> Decimal:
    """The compensation total of a case's lines (charges and cancelled lines left out)."""
    return compensation_total(lines)


def refresh(actor, case_ids: Iterable[int]) -> None:
    """Re-evaluate cases that another change affects (a batch outbreak joins earlier cases).

    For plugins' ``kesu_case_event`` reactions: runs in the current write transaction, skips
    no record rule because the change that triggers it already passed its own, and audits
    what changed on each case as ``recompute``.
    """
    with write_transaction():
        for case_id in sorted(set(case_ids)):
            case = db.session.scalar(for_update(sa.select(Case).where(Case.id == case_id), of=Case))
            if case is None:
                continue
            before = snapshot(case)
            recompute(case)
            changes = audit.diff(before, snapshot(case))
            if changes:
                db.session.flush()
                audit.record(
                    actor,
                    "recompute",
                    entity="case",
                    entity_id=case.id,
                    case_id=case.id,
                    changes=changes,
                )


def set_details(
    actor,
    case_id: int,
    values: Mapping[str, Any],
    *,
    permission: str,
    view: str = "Case",
    action: str = "update",
    root_cause: str | None = None,
    root_cause_entry: RootCause | None = None,
) -> Case:
    """Change some of a case's plugin fields under a plugin's own permission.

    For plugin screens such as QA's analysis: the values are validated like the API's
    ``details`` (errors name ``details.<field>``), the change is audited under ``action``.
    ``root_cause``, when given, becomes the case's root cause too (the one ``propose`` uses);
    ``root_cause_entry`` its catalogue entry (checked by the caller: core.services.root_causes).
    """
    require(actor, permission, view)
    if not isinstance(values, Mapping):
        raise Invalid(_l("Must be an object."), field="details")
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        require_writable(case)
        out = CaseInput({})
        details = validate_details(
            case.business_line, case.category, {**(case.details or {}), **values}, out
        )
        invalid_if(out.errors)
        before = snapshot(case)
        case.details = details
        if root_cause:
            case.root_cause = root_cause
        if root_cause_entry is not None:
            case.root_cause_id, case.root_cause_entry = root_cause_entry.id, root_cause_entry
        recompute(case)
        changes = audit.diff(before, snapshot(case))
        if changes:
            db.session.flush()
            audit.record(
                actor, action, entity="case", entity_id=case.id, case_id=case.id, changes=changes
            )
            emit(case, action, case.status, actor)
    return case
