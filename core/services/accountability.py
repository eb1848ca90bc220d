"""Accountability (考核): losses and breaches per responsible department and per person for a
period (DOMAIN.md section 9, issue 11 item 5).

The cases of a period are those received in its local days (each line's own time zone), on one
business line or on every line the reader sees; archived cases count like any other. A case
with no responsible department counts for nobody; one with no handler for no person.

Definitions (every figure is about the period's cases):

* **cases**: cases whose responsible department (``Case.department_id``) is the department, or
  whose handler (``Case.handler_id``) is the person.
* **liable** (found liable): the case has a responsible department, a root cause was recorded
  (a catalogue entry, or free text only), and that entry is not the catalogue's ``customer``
  top-level entry or one under it (the customer's own fault). A root cause recorded as text
  with no entry counts as liable. A person is liable on the liable cases they handled.
* **compensation**: per kind, the approved (``approved_at`` set), not cancelled compensation
  lines of the liable cases, without the kinds that are charges rather than losses
  (freight charged to the customer, cost charged to the responsible person); ``compensation
  _total`` their sum.
* **charged** (people only): the approved, not cancelled "cost charged to the responsible
  person" lines naming the person (the line's note, which policy_returns fills from
  ``details.responsible_person``), whether the case is liable or not. A name is matched to a
  user by username or display name; an unmatched name is a row of its own.
* **deadlines_missed**: the case's deadlines of the stages after assignment (``DEADLINES``:
  the investigation, the solution and the proposal, the work of the responsible department)
  that were met late or are open past due, by sla_reports' rule (met exactly at the due
  minute is on time; a paused deadline is read when its clock stopped). They count for the
  case's current department and handler.
* **capa_overdue** / **capa_ineffective** (departments only): the corrective and preventive
  actions of the department's cases in the period (from the CAPA register) overdue or done
  after their due day, and those whose verification found them not effective.
* **repeats**: the catalogue entries on more than one of the department's (person's) cases in
  the period; ``repeats`` is the number of cases beyond the first of each such entry.

A fixed number of SQL aggregates, whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from core.contracts import CHARGE_KINDS
from core.db import UTCDateTime, utcnow
from core.extensions import db
from core.models import (
    BusinessLine,
    Case,
    CaseDeadline,
    CompensationLine,
    Department,
    KesuUser,
    RootCause,
)
from core.roles import CAN_READ, REPORT
from core.services import capa
from core.services.access import line_filter, require, visible_lines
from core.services.errors import Invalid
from core.services.sla_reports import period_bounds, validate_period
from core.vocab import COMPENSATION_KINDS

DEADLINES = ("investigation", "solution", "proposal")
CUSTOMER = "customer"  # the root-cause catalogue's top-level entry for the customer's own fault
CHARGE = "charge_responsible_person"
KINDS = tuple(k for k in COMPENSATION_KINDS if k not in CHARGE_KINDS)


def _money(value: Any) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def _lines(actor, code: Any) -> list[BusinessLine]:
    """The line ``code`` the actor sees, or every line it sees when no code is given; an
    unknown line or one of another line is a 400 naming ``business_line``."""
    require(actor, CAN_READ, REPORT)
    lines = visible_lines(actor)
    if code is None or (isinstance(code, str) and not code.strip()):
        return lines
    if isinstance(code, str):
        # A line the actor belongs to, even one no longer active: its past stays reportable.
        line = db.session.scalar(
            sa.select(BusinessLine).where(
                BusinessLine.code == code.strip()[:64], line_filter(actor, BusinessLine.id)
            )
        )
        if line is not None:
            return [line]
    raise Invalid(_l("Unknown business line."), field="business_line")


def _period(lines: list[BusinessLine], first: dt.date, last: dt.date) -> Any:
    """The WHERE clause of the cases received in ``first``..``last`` of their line's days."""
    terms = []
    for line in lines:
        start, end = period_bounds(line, first, last)
        terms.append(
            sa.and_(
                Case.business_line_id == line.id,
                Case.received_at >= start,
                Case.received_at < end,
            )
        )
    return sa.or_(*terms) if terms else sa.false()


def _liable():
    """SQL: the case was found liable (see the module's docstring)."""
    entry = aliased(RootCause)
    customer_fault = (
        sa.select(entry.id)
        .where(
            entry.id == Case.root_cause_id,
            sa.or_(entry.code == CUSTOMER, entry.code.like(f"{CUSTOMER}.%")),
        )
        .exists()
    )
    recorded = sa.or_(
        Case.root_cause_id.is_not(None),
        sa.func.coalesce(sa.func.length(sa.func.trim(Case.root_cause)), 0) > 0,
    )
    return sa.and_(Case.department_id.is_not(None), recorded, sa.not_(customer_fault))


def _missed(now: dt.datetime):
    d = CaseDeadline
    now_ = sa.literal(now, UTCDateTime)
    read_at = sa.case((d.state == "paused", sa.func.coalesce(Case.held_at, now_)), else_=now_)
    return sa.or_(
        sa.and_(d.state == "met", d.met_at > d.due_at),
        sa.and_(d.state.in_(("running", "paused")), d.due_at < read_at),
    )


def _row(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "cases": 0,
        "liable": 0,
        "compensation": dict.fromkeys(KINDS, 0.0),
        "compensation_total": 0.0,
        "deadlines_missed": 0,
        "repeats": 0,
        "repeat_root_causes": [],
        "_causes": {},
    }


def _order(row: dict[str, Any]) -> tuple:
    """The costliest first, then the most cases found liable, then by name."""
    cost = row["compensation_total"] + row.get("charged", 0.0)
    return (-cost, -row["liable"], row["name"], str(row.get("key", row.get("department_id"))))


def report(
    actor, line_code: Any, raw_from: Any, raw_to: Any, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The accountability figures of a line (or every line the actor sees) for a period."""
    lines = _lines(actor, line_code)
    first, last = validate_period(raw_from, raw_to)
    now = now or utcnow()
    where = _period(lines, first, last)
    liable = _liable().label("liable")
    departments: dict[int, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}

    def dept(did: int) -> dict[str, Any]:
        if did not in departments:
            departments[did] = _row({"department_id": did, "code": "", "name": ""})
            departments[did].update(capa_overdue=0, capa_ineffective=0)
        return departments[did]

    def person(key: str) -> dict[str, Any]:
        if key not in people:
            people[key] = _row({"key": key, "user_id": None, "name": "", "department": ""})
            people[key].update(charged=0.0, charged_cases=0)
        return people[key]

    # 1. cases, liable, root causes per department and handler
    cause_ids: set[int] = set()
    group = (Case.department_id, Case.handler_id, Case.root_cause_id)
    for did, hid, rid, is_liable, n in db.session.execute(
        sa.select(*group, liable, sa.func.count()).where(where).group_by(*group, liable)
    ).all():
        targets = ([dept(did)] if did else []) + ([person(f"u{hid}")] if hid else [])
        for row in targets:
            row["cases"] += n
            row["liable"] += n if is_liable else 0
            if rid is not None:
                row["_causes"][rid] = row["_causes"].get(rid, 0) + n
                cause_ids.add(rid)

    # 2. compensation of the liable cases, by kind
    comp = CompensationLine
    approved = (comp.approved_at.is_not(None), comp.exec_status != "cancelled")
    for did, hid, kind, amount in db.session.execute(
        sa.select(Case.department_id, Case.handler_id, comp.kind, sa.func.sum(comp.amount))
        .select_from(comp)
        .join(Case, Case.id == comp.case_id)
        .where(where, _liable(), *approved, comp.kind.in_(KINDS))
        .group_by(Case.department_id, Case.handler_id, comp.kind)
    ).all():
        for row in ([dept(did)] if did else []) + ([person(f"u{hid}")] if hid else []):
            row["compensation"][kind] = round(row["compensation"][kind] + _money(amount), 2)

    # 3. costs charged to a responsible person, by the name on the line
    charges = db.session.execute(
        sa.select(
            sa.func.trim(comp.note),
            sa.func.sum(comp.amount),
            sa.func.count(comp.case_id.distinct()),
        )
        .join(Case, Case.id == comp.case_id)
        .where(where, *approved, comp.kind == CHARGE)
        .group_by(sa.func.trim(comp.note))
    ).all()

    # 4. deadlines missed after assignment
    d = CaseDeadline
    for did, hid, n in db.session.execute(
        sa.select(Case.department_id, Case.handler_id, sa.func.count())
        .select_from(d)
        .join(Case, Case.id == d.case_id)
        .where(where, d.name.in_(DEADLINES), _missed(now))
        .group_by(Case.department_id, Case.handler_id)
    ).all():
        for row in ([dept(did)] if did else []) + ([person(f"u{hid}")] if hid else []):
            row["deadlines_missed"] += n

    # 5. corrective actions of the period's cases (the CAPA register)
    actions = capa.all_rows(actor, frozenset(line.id for line in lines), now)
    if actions:
        in_period = set(
            db.session.scalars(
                sa.select(Case.id).where(where, Case.id.in_({a.case_id for a in actions}))
            )
        )
        for action in actions:
            if action.case_id not in in_period or action.department_id is None:
                continue
            row = dept(action.department_id)
            row["capa_overdue"] += 1 if (action.overdue or action.done_late) else 0
            row["capa_ineffective"] += 1 if action.status == "ineffective" else 0

    # 6. names: departments, users (handlers and the people charged), root-cause entries
    for did, code, name in db.session.execute(
        sa.select(Department.id, Department.code, Department.name).where(
            Department.id.in_(list(departments))
        )
    ).all():
        departments[did].update(code=code, name=name)
    names = [name for name, _, _ in charges if name]
    display = sa.func.coalesce(KesuUser.last_name, "") + sa.func.coalesce(KesuUser.first_name, "")
    users = db.session.execute(
        sa.select(KesuUser.id, KesuUser.username, display, Department.name)
        .outerjoin(Department, Department.id == KesuUser.department_id)
        .where(
            sa.or_(
                KesuUser.id.in_([int(k[1:]) for k in people]),
                KesuUser.username.in_(names),
                display.in_(names),
            )
        )
    ).all()
    by_name: dict[str, str] = {}
    for uid, username, shown, department in users:
        by_name.setdefault(username, f"u{uid}")
        by_name.setdefault(shown.strip() or username, f"u{uid}")
        if f"u{uid}" in people or any(n in (username, shown) for n in names):
            person(f"u{uid}").update(
                user_id=uid, name=shown.strip() or username, department=department or ""
            )
    for name, amount, n in charges:
        if not name:
            continue
        row = person(by_name.get(name, f"n:{name}"))
        row["name"] = row["name"] or name
        row["charged"] = round(row["charged"] + _money(amount), 2)
        row["charged_cases"] += n
    entry, parent = aliased(RootCause), aliased(RootCause)
    labels = {
        rid: (f"{top} / {child}" if top else child)
        for rid, child, top in db.session.execute(
            sa.select(entry.id, entry.name, parent.name)
            .outerjoin(parent, parent.id == entry.parent_id)
            .where(entry.id.in_(cause_ids))
        ).all()
    }
    for row in [*departments.values(), *people.values()]:
        causes = row.pop("_causes")
        repeated = sorted(
            ((rid, n) for rid, n in causes.items() if n > 1),
            key=lambda item: (-item[1], labels.get(item[0], "")),
        )
        row["repeats"] = sum(n - 1 for _, n in repeated)
        row["repeat_root_causes"] = [
            {"id": rid, "label": labels.get(rid, ""), "cases": n} for rid, n in repeated
        ]
        row["compensation_total"] = round(sum(row["compensation"].values()), 2)
    single = lines[0] if len(lines) == 1 and line_code else None
    return {
        "business_line": single.code if single else None,
        "business_line_name": single.name if single else None,
        "lines": [each.code for each in lines],
        "from": first.isoformat(),
        "to": last.isoformat(),
        "deadlines": list(DEADLINES),
        "departments": sorted(departments.values(), key=_order),
        "people": sorted(people.values(), key=_order),
    }
