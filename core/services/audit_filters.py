"""The audit screen's filters: choices offered, query parameters checked, one page of events.

Filters are chosen, not typed: record type (entity), action, person and a period of whole days
in the reader's time zone. A value that is not among the choices is refused naming its field
(400). The count is that of the filtered events, so it always agrees with the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.extensions import db
from core.models import AuditEvent, Case, KesuUser
from core.models.user import user_business_line
from core.roles import AUDIT, CAN_READ_AUDIT
from core.services import history
from core.services.access import is_admin, line_filter, line_ids, require
from core.services.errors import Invalid
from core.timeutil import zone

SYSTEM_PERSON = "system"  # the person choice for events without a user (sweeps, the shell)
PARAMS = ("case", "entity", "action", "person", "from", "to", "page")


@dataclass(frozen=True)
class Filters:
    case: str = ""
    entity: str = ""
    action: str = ""
    person: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = 1
    args: dict[str, str] = field(default_factory=dict)  # the accepted parameters, for links


@dataclass(frozen=True)
class Choices:
    entities: list[tuple[str, str]]
    actions: list[tuple[str, str]]
    people: list[tuple[str, str]]


def _visible(actor) -> sa.Select:
    """The events the actor may read: those of their lines' cases (every event for admins)."""
    stmt = sa.select(AuditEvent)
    if not is_admin(actor):
        cases = sa.select(Case.id).where(line_filter(actor, Case.business_line_id))
        stmt = stmt.where(AuditEvent.case_id.in_(cases))
    return stmt


def choices(actor) -> Choices:
    """What the reader may filter by: the record types and actions of the trail (labelled)
    and the people of their business lines (every user for an admin), by display name."""
    require(actor, CAN_READ_AUDIT, AUDIT)
    entities = db.session.scalars(sa.select(AuditEvent.entity).distinct())
    actions = db.session.scalars(sa.select(AuditEvent.action).distinct())
    users = sa.select(KesuUser)
    if line_ids(actor) is not None:
        members = sa.select(user_business_line.c.user_id).where(
            line_filter(actor, user_business_line.c.business_line_id)
        )
        users = users.where(KesuUser.id.in_(members))
    people = sorted(
        ((str(u.id), u.display_name) for u in db.session.scalars(users)), key=lambda p: p[1]
    )
    return Choices(
        entities=history.entity_choices(entities),
        actions=history.action_choices(actions),
        people=[(SYSTEM_PERSON, str(_l("The system"))), *people],
    )


def _date(args: Mapping[str, str], key: str) -> dt.date | None:
    text = (args.get(key) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[: limits.SEARCH])
    except ValueError:
        raise Invalid(_l("Give a date as YYYY-MM-DD."), field=key) from None


def parse(actor, args: Mapping[str, str], offered: Choices) -> Filters:
    """The filters of a request's query parameters, each checked against what is offered."""
    accepted: dict[str, str] = {}
    values: dict[str, str] = {}
    for key, options in (
        ("entity", offered.entities),
        ("action", offered.actions),
        ("person", offered.people),
    ):
        value = (args.get(key) or "").strip()
        if value and value not in {code for code, _label in options}:
            raise Invalid(_l("Choose one of the offered values."), field=key)
        values[key] = value
    case = (args.get("case") or "").strip()
    if len(case) > limits.SEARCH:
        raise Invalid(_l("This text is too long."), field="case")
    since, until = _date(args, "from"), _date(args, "to")
    if since and until and since > until:
        raise Invalid(_l("The start date is after the end date."), field="from")
    page_text = (args.get("page") or "1").strip()
    if not page_text.isdigit() or not 1 <= int(page_text) <= 100000:
        raise Invalid(_l("Give a page number."), field="page")
    for key in ("case", "entity", "action", "person", "from", "to"):
        if (args.get(key) or "").strip():
            accepted[key] = args[key].strip()
    return Filters(
        case=case, since=since, until=until, page=int(page_text), args=accepted, **values
    )


def _bounds(day: dt.date, tz: str) -> dt.datetime:
    """The moment a local day starts, in UTC."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone(tz))
    return start.astimezone(dt.UTC)


def page(actor, filters: Filters, tz: str, page_size: int = 50) -> tuple[list[AuditEvent], int]:
    """One page of the filtered events, newest first, and the count of all filtered events."""
    require(actor, CAN_READ_AUDIT, AUDIT)
    stmt = _visible(actor)
    if filters.case:
        stmt = stmt.where(
            AuditEvent.case_id.in_(sa.select(Case.id).where(Case.number == filters.case))
        )
    if filters.entity:
        stmt = stmt.where(AuditEvent.entity == filters.entity)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.person == SYSTEM_PERSON:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif filters.person:
        stmt = stmt.where(AuditEvent.actor_id == int(filters.person))
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= _bounds(filters.since, tz))
    if filters.until:
        stmt = stmt.where(AuditEvent.at < _bounds(filters.until + dt.timedelta(days=1), tz))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(AuditEvent.id.desc()).limit(page_size).offset((filters.page - 1) * page_size)
    )
    return list(rows), total
