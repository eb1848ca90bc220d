"""The CAPA register (纠正与预防措施): every corrective and preventive action of every case.

Plugins own the actions (product_quality's QA loop) and hand them over through
``kesu_capa_actions``; the register filters them, pages them and exports them, and the overdue
sweep tells each action's department head once it is past due. An action's owner is its case's
responsible department; a department-bound reader (Responsible Dept) sees only its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core.contracts import CapaRow
from core.db import utcnow
from core.extensions import db
from core.models import BusinessLine, Department, KesuUser, LinePlugin, Notification
from core.roles import CAPA
from core.services.access import SYSTEM, department_scoped, require, visible_line_ids
from core.services.errors import Invalid

CAN_READ = "can_read"
STATUSES = ("open", "done", "effective", "ineffective")
KINDS = ("corrective", "preventive")
FILTERS = ("business_line", "department", "kind", "status", "overdue", "due_from", "due_to")
STATUS_LABELS = {
    "open": _l("Open"),
    "done": _l("Done, not verified yet"),
    "effective": _l("Verified effective"),
    "ineffective": _l("Found not effective"),
}
KIND_LABELS = {"corrective": _l("Corrective action"), "preventive": _l("Preventive action")}


@dataclass(frozen=True)
class Filters:
    line_ids: frozenset[int]
    department_id: int | None = None
    kind: str | None = None
    status: str | None = None
    overdue: bool = False
    due_from: dt.date | None = None
    due_to: dt.date | None = None

    def keep(self, row: CapaRow) -> bool:
        return (
            row.business_line_id in self.line_ids
            and (self.department_id is None or row.department_id == self.department_id)
            and (self.kind is None or row.kind == self.kind)
            and (self.status is None or row.status == self.status)
            and (not self.overdue or row.overdue)
            and (self.due_from is None or row.due_date >= self.due_from)
            and (self.due_to is None or row.due_date <= self.due_to)
        )


def _date(field: str, raw: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise Invalid(_l("Must be a date such as 2026-11-01."), field=field)
    return day


def clean_filters(actor, args: Mapping[str, Any]) -> Filters:
    """The register's filters from a query string; 400 naming the parameter on a bad value."""
    require(actor, CAN_READ, CAPA)
    raw = {k: str(args.get(k) or "").strip() for k in FILTERS}
    lines = visible_line_ids(actor)
    if raw["business_line"]:
        line = db.session.scalar(
            sa.select(BusinessLine.id).where(BusinessLine.code == raw["business_line"][:64])
        )
        if line is None or line not in lines:
            raise Invalid(_l("Unknown business line."), field="business_line")
        lines = {line}
    department = None
    if raw["department"]:
        department = db.session.scalar(
            sa.select(Department.id).where(Department.code == raw["department"][:64])
        )
        if department is None:
            raise Invalid(_l("Unknown department."), field="department")
    for key, allowed in (("kind", KINDS), ("status", STATUSES), ("overdue", ("1", "true"))):
        if raw[key] and raw[key] not in allowed:
            raise Invalid(_l("Not one of the choices."), field=key)
    due_from = _date("due_from", raw["due_from"]) if raw["due_from"] else None
    due_to = _date("due_to", raw["due_to"]) if raw["due_to"] else None
    if due_from and due_to and due_to < due_from:
        raise Invalid(_l("The last day is before the first day."), field="due_to")
    return Filters(
        frozenset(lines),
        department,
        raw["kind"] or None,
        raw["status"] or None,
        bool(raw["overdue"]),
        due_from,
        due_to,
    )


def _plugin_keys(line_ids: frozenset[int]) -> frozenset[str]:
    if not line_ids:
        return frozenset()
    stmt = sa.select(LinePlugin.plugin_key).where(LinePlugin.business_line_id.in_(line_ids))
    return frozenset(db.session.scalars(stmt.distinct()))


def all_rows(actor, line_ids: frozenset[int], now: dt.datetime | None = None) -> list[CapaRow]:
    """Every action on ``line_ids`` the actor may see (no permission check: callers check)."""
    now = now or utcnow()
    registry = current_app.extensions["kesu_plugins"]
    rows: list[CapaRow] = []
    caller = registry.caller("kesu_capa_actions", _plugin_keys(line_ids))
    for result in caller(user=actor, line_ids=line_ids, now=now):
        rows.extend(r for r in result or () if r.business_line_id in line_ids)
    if department_scoped(actor):
        mine = getattr(actor, "department_id", None)
        rows = [r for r in rows if mine is not None and r.department_id == mine]
    # Overdue first, then by due date; the case number keeps a day's actions in order.
    rows.sort(key=lambda r: (not r.overdue, r.due_date, r.case_number, r.id))
    return rows


def register(actor, filters: Filters, now: dt.datetime | None = None) -> list[CapaRow]:
    require(actor, CAN_READ, CAPA)
    return [r for r in all_rows(actor, filters.line_ids, now) if filters.keep(r)]


def department_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(Department.id, Department.name)).all())


def line_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(BusinessLine.id, BusinessLine.name)).all())


# -- overdue actions reach the department head ---------------------------------------------


def notify_overdue(now: dt.datetime | None = None) -> int:
    """Tell each overdue action's department head, once per action (run by the overdue sweep,
    inside its write transaction); returns how many heads were told. An action whose case has
    no department, or whose department has no active head, goes to nobody here: the case's
    own deadlines already escalate to the supervisors."""
    from core.services.notifications import N_, notify

    now = now or utcnow()
    line_ids = frozenset(db.session.scalars(sa.select(BusinessLine.id)))
    overdue = [r for r in all_rows(SYSTEM, line_ids, now) if r.overdue]
    if not overdue:
        return 0
    links = {_link(r): r for r in overdue}
    told = set(
        db.session.scalars(
            sa.select(Notification.link).where(
                Notification.kind == "capa_overdue", Notification.link.in_(list(links))
            )
        )
    )
    heads = dict(
        db.session.execute(
            sa.select(Department.id, KesuUser)
            .join(KesuUser, KesuUser.id == Department.head_id)
            .where(KesuUser.active.is_(True))
        ).all()
    )
    count = 0
    for link, row in links.items():
        head = heads.get(row.department_id)
        if link in told or head is None:
            continue
        message = N_(
            "A corrective or preventive action of %(number)s is overdue (due %(due)s): %(action)s"
        )
        params = {
            "number": row.case_number,
            "due": row.due_date.isoformat(),
            "action": row.description[:200],
        }
        notify([head], "capa_overdue", message, params, link=link)
        count += 1
    return count


def _link(row: CapaRow) -> str:
    return f"/cases/{row.case_id}#capa-{row.plugin}-{row.id}"
