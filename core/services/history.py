"""The history as people read it: audit events told as sentences in the reader's language.

Pure presentation of :class:`~core.models.AuditEvent` rows (it writes nothing). Everything the
events refer to — their actors, handlers, departments, products, customers, lines, cases, the
cases' category fields and approval steps — is loaded once per page, one query per kind of
record, so a page costs the same number of statements for 1 event as for 50.

Hashes and the recorded JSON are an "integrity" detail only auditors (and admins) see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import get_locale

from core.extensions import db
from core.models import (
    ApprovalStep,
    AuditEvent,
    BusinessLine,
    Case,
    Customer,
    Department,
    KesuUser,
    Product,
    RootCause,
)
from core.roles import ADMIN, AUDITOR
from core.services.access import can_view_contact
from core.services.cases import display_field_specs
from core.services.history_labels import ENTITY_LABELS
from core.services.history_text import ACTION_LABELS, Context, action_labels, sentence
from core.services.lines import line_facts, registry
from core.timeutil import local_time

# Recorded id fields and the record whose name shows for them.
REFERENCES = {
    "business_line_id": (BusinessLine, BusinessLine.name),
    "customer_id": (Customer, Customer.name),
    "product_id": (Product, Product.name),
    "department_id": (Department, Department.name),
    "root_cause_id": (RootCause, RootCause.name),
}
# Recorded fields holding user names (not ids).
USERNAME_FIELDS = ("to", "user")


@dataclass(frozen=True)
class Integrity:
    """What the chain check rests on: the event's hashes and its recorded changes as JSON."""

    hash: str
    prev_hash: str
    actor: str
    changes: str


@dataclass(frozen=True)
class Entry:
    """One event as a line of the history."""

    id: int
    action: str
    entity: str
    entity_id: int | None
    case_id: int | None
    case_number: str | None
    when: str
    who: str
    text: str
    details: tuple[str, ...]
    integrity: Integrity | None


def sees_integrity(reader) -> bool:
    """Whether the reader is shown hashes and raw JSON: auditors and admins only."""
    return any(role.name in (ADMIN, AUDITOR) for role in getattr(reader, "roles", None) or ())


def event_labels() -> dict:
    """Labels of audit codes the plugins name (their actions and deadlines), core's first."""
    labels: dict = {}
    for result in registry().call_all("kesu_event_labels"):
        labels.update(result or {})
    return labels


def _ids(events: Sequence[AuditEvent], key: str) -> set[int]:
    out: set[int] = set()
    for event in events:
        change = (event.changes or {}).get(key)
        values = change if isinstance(change, list) else [change]
        out.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    return out


def _usernames(events: Sequence[AuditEvent]) -> set[str]:
    out: set[str] = set()
    for event in events:
        for key in USERNAME_FIELDS:
            change = (event.changes or {}).get(key)
            values = change if isinstance(change, list) else [change]
            out.update(v for v in values if isinstance(v, str))
    return out


def _people(events: Sequence[AuditEvent]) -> tuple[dict[int, str], dict[str, str]]:
    """Display names by user id and by user name, in one query."""
    ids = {e.actor_id for e in events if e.actor_id} | _ids(events, "handler_id")
    names = _usernames(events) | {e.actor for e in events if not e.actor_id and e.actor}
    if not ids and not names:
        return {}, {}
    rows = db.session.execute(
        sa.select(KesuUser.id, KesuUser.username, KesuUser.first_name, KesuUser.last_name).where(
            sa.or_(KesuUser.id.in_(ids), KesuUser.username.in_(names))
        )
    ).all()
    by_id, by_name = {}, {}
    for pk, username, first, last in rows:
        shown = f"{last or ''}{first or ''}".strip() or username
        by_id[pk], by_name[username] = shown, shown
    return by_id, by_name


def _names(events: Sequence[AuditEvent], case_lines: set[int]) -> dict[tuple[str, int], str]:
    names: dict[tuple[str, int], str] = {}
    for key, (model, column) in REFERENCES.items():
        wanted = _ids(events, key)
        if key == "business_line_id":
            wanted |= case_lines
            wanted |= {e.entity_id for e in events if e.entity == "business_line" and e.entity_id}
        if not wanted:
            continue
        for pk, name in db.session.execute(sa.select(model.id, column).where(model.id.in_(wanted))):
            names[(key, pk)] = name
    return names


def _cases(events: Sequence[AuditEvent]) -> dict[int, Case]:
    ids = {e.case_id for e in events if e.case_id}
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(Case)
        .where(Case.id.in_(ids))
        .options(sa.orm.load_only(Case.id, Case.number, Case.business_line_id, Case.category))
    )
    return {case.id: case for case in rows}


def _field_specs(cases: Iterable[Case]) -> dict[int, dict]:
    """The category fields of each case, computed once per business line and category."""
    wanted = {(c.business_line_id, c.category) for c in cases}
    if not wanted:
        return {}
    lines = {
        line.id: line
        for line in db.session.scalars(
            sa.select(BusinessLine)
            .where(BusinessLine.id.in_({line_id for line_id, _ in wanted}))
            .options(sa.orm.selectinload(BusinessLine.plugins))
        )
    }
    specs = {
        (line_id, category): {
            s.name: s for s in display_field_specs(line_facts(lines[line_id]), category)
        }
        for line_id, category in wanted
        if line_id in lines
    }
    return {c.id: specs.get((c.business_line_id, c.category), {}) for c in cases}


def _steps(events: Sequence[AuditEvent]) -> dict[tuple[int, str], str]:
    """The positions of the approval steps the events name, by (case, step)."""
    ids = {
        e.case_id for e in events if e.case_id and {"step", "approval_steps"} & set(e.changes or {})
    }
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(ApprovalStep.case_id, ApprovalStep.step, ApprovalStep.role).where(
            ApprovalStep.case_id.in_(ids)
        )
    )
    return {(case_id, step): role for case_id, step, role in rows}


def context(reader, events: Sequence[AuditEvent], tz: str) -> Context:
    """Everything the events' sentences need, loaded in a fixed number of queries."""
    cases = _cases(events)
    users, by_username = _people(events)
    categories = {
        key: descriptor.name(_locale()) for key, descriptor in registry().descriptors.items()
    }
    return Context(
        tz=tz,
        users=users,
        by_username=by_username,
        names=_names(events, {c.business_line_id for c in cases.values()}),
        fields=_field_specs(cases.values()),
        step_roles=_steps(events),
        event_labels=event_labels(),
        categories=categories,
        contact=can_view_contact(reader),
        numbers={pk: case.number for pk, case in cases.items()},
    )


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _integrity(event: AuditEvent) -> Integrity:
    return Integrity(
        hash=event.hash,
        prev_hash=event.prev_hash,
        actor=event.actor,
        changes=json.dumps(event.changes, ensure_ascii=False, sort_keys=True, indent=1),
    )


def entries(reader, events: Sequence[AuditEvent], tz: str) -> list[Entry]:
    """The events as lines of the history, in the order given."""
    ctx = context(reader, events, tz)
    integrity = sees_integrity(reader)
    out = []
    for event in events:
        text, details = sentence(ctx, event)
        out.append(
            Entry(
                id=event.id,
                action=event.action,
                entity=event.entity,
                entity_id=event.entity_id,
                case_id=event.case_id,
                case_number=ctx.numbers.get(event.case_id),
                when=local_time(event.at, tz),
                who=ctx.who(event),
                text=text,
                details=tuple(details),
                integrity=_integrity(event) if integrity else None,
            )
        )
    return out


def entity_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """Record types (the core's and ``codes`` found in the trail) with labels, by label."""
    labels = {**ENTITY_LABELS, **event_labels()}
    keys = set(ENTITY_LABELS) | set(codes)
    return sorted(((k, str(labels.get(k, k))) for k in keys), key=lambda kv: kv[1])


def action_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """Audit actions (the core's and ``codes`` found in the trail) with labels, by label."""
    labels = action_labels(event_labels())
    keys = set(ACTION_LABELS) | set(codes)
    return sorted(((k, str(labels.get(k, k))) for k in keys), key=lambda kv: kv[1])
