"""Product quality's own writes: QA's analysis and the CAPA actions, under the core's rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.contracts import CapaRow, FieldSpec, WorkRow
from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import BusinessLine, Case
from core.services import audit, cases, root_causes
from core.services.access import get_case, line_filter, require, require_department
from core.services.errors import Conflict, Invalid, NotFound, invalid_if
from core.timeutil import in_zone, iso_in_zone
from core.workflow import FINAL
from plugins.product_quality import DESCRIPTOR
from plugins.product_quality.models import CapaAction

ANALYSIS_VIEW, CAN_RECORD = "QualityAnalysis", "can_record"
CAPA_VIEW, CAN_ADD = "CapaAction", "can_add"

REMEDY_CHOICES = (
    ("recall_credit_reship", _l("Recall and credit note, then reship")),
    ("reship_then_recall", _l("Reship first (urgent), recall and credit within the month")),
    ("credit_to_zero", _l("Credit the unit price to zero")),
    ("free_goods", _l("Zero-price free-goods order")),
    ("explain", _l("Not the company's fault: explain to the customer")),
)
ANALYSIS_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("root_cause", "text", _l("Root cause"), required=True, max_length=4000),
    # The line's root-cause catalogue entry; none given: the entry the case's defect maps to.
    FieldSpec(
        "root_cause_category",
        "integer",
        _l("Root-cause category"),
        min_value=1,
        max_value=limits.ID,
    ),
    FieldSpec("responsible_unit", "string", _l("Responsible unit"), required=True, max_length=128),
    FieldSpec("engineering_change_no", "string", _l("Engineering change number"), max_length=64),
    # How the customer is compensated, decided with the analysis (the proposal follows it).
    FieldSpec("remedy", "choice", _l("Remedy"), choices=REMEDY_CHOICES),
)
KIND_CHOICES = (("corrective", _l("Corrective action")), ("preventive", _l("Preventive action")))
ACTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "kind",
        "choice",
        _l("Kind"),
        required=True,
        choices=KIND_CHOICES,
    ),
    FieldSpec("description", "text", _l("Measure"), required=True, max_length=2000),
    FieldSpec("responsible_unit", "string", _l("Responsible unit"), required=True, max_length=128),
    FieldSpec("due_date", "date", _l("Due date"), required=True, max_days_ahead=limits.DUE_DAYS),
)

DONE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("note", "text", _l("What was done"), required=True),
)


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    return data


def _checked(actor, case_id: int, permission: str, view: str, specs, data: Any):
    """The case and the body's values, once the case is the actor's to see (another line's
    case does not exist for them), the role may do this, and every field is valid (400 naming
    it). Writes read the case again, locked."""
    case = get_case(actor, case_id)
    require(actor, permission, view)
    clean, errors = fields.validate(specs, _body(data))
    invalid_if(errors, {spec.name: spec.label for spec in specs})
    return case, clean


def record_analysis(actor, case_id: int, data: Any):
    """QA's first reply: the root cause, the responsible unit and any engineering change."""
    case, clean = _checked(actor, case_id, CAN_RECORD, ANALYSIS_VIEW, ANALYSIS_FIELDS, data)
    if case.category != DESCRIPTOR.key:
        raise Conflict(_l("This is not a product-quality case."), field="category")
    # The root cause is the case's one (core), shared by every category; the rest are details.
    values = {k: clean.get(k) for k in ("responsible_unit", "engineering_change_no")}
    if clean.get("remedy"):
        values["remedy"] = clean["remedy"]  # left out: the remedy chosen before stands
    entry = root_causes.resolve(case.business_line_id, clean.get("root_cause_category"))
    if entry is None and case.details.get("defect"):
        entry = root_causes.for_plugin_code(
            case.business_line_id, DESCRIPTOR.key, case.details["defect"]
        )
    return cases.set_details(
        actor,
        case_id,
        values,
        permission=CAN_RECORD,
        view=ANALYSIS_VIEW,
        action="quality_analysis",
        root_cause=clean["root_cause"],
        root_cause_entry=entry,
    )


def add_action(actor, case_id: int, data: Any) -> CapaAction:
    """The responsible unit commits to a corrective or preventive action with a due date."""
    _, clean = _checked(actor, case_id, CAN_ADD, CAPA_VIEW, ACTION_FIELDS, data)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        require_department(actor, case)
        if case.category != DESCRIPTOR.key:
            raise Conflict(_l("This is not a product-quality case."), field="category")
        cases.require_writable(case)
        action = CapaAction(case_id=case.id, created_by=actor.username, **clean)
        db.session.add(action)
        cases.touch(case)
        db.session.flush()
        audit.record(
            actor,
            "capa_action",
            entity="quality_capa_action",
            entity_id=action.id,
            case_id=case.id,
            changes={k: [None, v] for k, v in clean.items()},
        )
    return action


def complete_action(actor, case_id: int, action_id: int, data: Any) -> CapaAction:
    """The responsible unit reports an action carried out, saying what was done; QA then
    verifies its effect. An action is reported done once."""
    _, clean = _checked(actor, case_id, CAN_ADD, CAPA_VIEW, DONE_FIELDS, data)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        require_department(actor, case)
        cases.require_writable(case)
        action = db.session.get(CapaAction, action_id)
        if action is None or action.case_id != case.id:
            raise NotFound(_l("This case has no such action."), field="action")
        if action.done_at is not None:
            raise Conflict(_l("This action is already reported done."), field="action")
        action.done_at = utcnow()
        action.done_by = actor.username
        action.done_note = clean["note"]
        cases.touch(case)
        db.session.flush()
        audit.record(
            actor,
            "capa_done",
            entity="quality_capa_action",
            entity_id=action.id,
            case_id=case.id,
            changes={
                "kind": action.kind,
                "description": action.description,
                "note": [None, clean["note"]],
            },
        )
    return action


def actions_of(case_id: int) -> list[CapaAction]:
    """A case's actions in the order they were recorded (call after the case's access check)."""
    return list(
        db.session.scalars(
            sa.select(CapaAction).where(CapaAction.case_id == case_id).order_by(CapaAction.id)
        )
    )


def action_json(action: CapaAction, tz: str) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind,
        "description": action.description,
        "responsible_unit": action.responsible_unit,
        "due_date": action.due_date.isoformat(),
        "created_by": action.created_by,
        "created_at": iso_in_zone(action.created_at, tz),
        "done_at": iso_in_zone(action.done_at, tz),
        "done_by": action.done_by,
        "done_note": action.done_note,
    }


def capa_rows(line_ids: frozenset[int], now: dt.datetime) -> list[CapaRow]:
    """Every action of the cases on ``line_ids`` for the CAPA register (one query)."""
    stmt = (
        sa.select(CapaAction, Case.number, Case.business_line_id, Case.department_id)
        .add_columns(Case.verified_effective, Case.status, BusinessLine.timezone)
        .join(Case, Case.id == CapaAction.case_id)
        .join(BusinessLine, BusinessLine.id == Case.business_line_id)
        .where(Case.business_line_id.in_(line_ids))
    )
    rows = []
    for action, number, line_id, department_id, effective, status, tz in db.session.execute(stmt):
        today = in_zone(now, tz).date()
        done_day = in_zone(action.done_at, tz).date() if action.done_at else None
        rows.append(
            CapaRow(
                plugin=DESCRIPTOR.key,
                id=action.id,
                case_id=action.case_id,
                case_number=number,
                business_line_id=line_id,
                department_id=department_id,
                kind=action.kind,
                description=action.description,
                responsible_unit=action.responsible_unit,
                due_date=action.due_date,
                done_at=action.done_at,
                overdue=done_day is None and action.due_date < today and status not in FINAL,
                done_late=done_day is not None and done_day > action.due_date,
                # QA verifies the case's actions together (the verify action).
                effective=effective if done_day is not None else None,
            )
        )
    return rows


def department_actions(user, now: dt.datetime) -> list[WorkRow]:
    """The actions of the open cases assigned to the user's department, with their due days;
    a day past in the case line's time zone is overdue (the work list of My work)."""
    if user.department_id is None:
        return []
    stmt = (
        sa.select(
            Case.id,
            Case.number,
            CapaAction.kind,
            CapaAction.description,
            CapaAction.due_date,
            BusinessLine.timezone,
        )
        .join(Case, Case.id == CapaAction.case_id)
        .join(BusinessLine, BusinessLine.id == Case.business_line_id)
        .where(
            line_filter(user, Case.business_line_id),
            Case.department_id == user.department_id,
            Case.status.not_in(sorted(FINAL)),
            CapaAction.done_at.is_(None),
        )
    )
    return [
        WorkRow(
            number=number,
            title=description,
            link=f"/cases/{case_id}",
            due=due,
            overdue=due < in_zone(now, tz).date(),
            note=str(dict(KIND_CHOICES).get(kind, kind)),
        )
        for case_id, number, kind, description, due, tz in db.session.execute(stmt)
    ]
