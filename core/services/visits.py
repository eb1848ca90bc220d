"""Return visits (回访) after closing, and what a poor score sets in motion.

After ``close``, customer service calls on the customer and records the visit: when, how
(a channel of core.vocab.VISIT_CHANNELS), the satisfaction score 1-5 and a comment. A score of
``FOLLOWUP_AT_MOST`` (2) or lower puts the case on the supervisor's reopen list
(``followup = "pending"``) until the case is reopened (the ``reopen`` workflow action marks the
visit ``reopened``) or a CS supervisor dismisses the visit with a reason (``dismissed``).

A closed case waits for its visit from its latest closing (``stage_times["closed"]``) until a
visit is recorded after it; the visit is due the line's ``visit_due_days`` working days after
closing (end of business of that working day, the line's working calendar).

Input rules: ``visited_at`` is a date and time (naive values in the line's timezone), neither
in the future nor before the minute the case was (last) closed — both answered 400 naming
``visited_at``,
since they are facts about the value given; recording on a case that is not closed is 409.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import fields, limits
from core.contracts import FieldSpec
from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import Case, CaseVisit
from core.roles import CAN_DISMISS_VISIT, CAN_RECORD_VISIT, VISIT
from core.services import audit
from core.services.access import can, get_case, line_filter, require
from core.services.bodies import json_object, one_text
from core.services.cases import touch
from core.services.errors import Conflict, Forbidden, Invalid, NotFound, invalid_if
from core.services.sla import calendar_for
from core.settings import line_settings
from core.timeutil import iso_in_zone, localize
from core.vocab import VISIT_CHANNELS, choices

# A score at or below this puts the case on the supervisor's reopen list.
FOLLOWUP_AT_MOST = 2
SCORES = (1, 5)
VISIT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("visited_at", "datetime", _l("Visited at"), required=True),
    FieldSpec(
        "channel", "choice", _l("Visit channel"), required=True, choices=choices(VISIT_CHANNELS)
    ),
    FieldSpec(
        "satisfaction",
        "integer",
        _l("Satisfaction (1-5)"),
        required=True,
        min_value=SCORES[0],
        max_value=SCORES[1],
    ),
    FieldSpec("comment", "text", _l("Comment"), max_length=limits.TEXT_LONG),
)


def closed_at(case: Case) -> dt.datetime | None:
    """When the case last entered ``closed`` (aware UTC), if it ever did."""
    when = (case.stage_times or {}).get("closed")
    if not when:
        return None
    moment = dt.datetime.fromisoformat(when)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _minute(moment: dt.datetime) -> dt.datetime:
    """Minutes are what a person enters: a visit in the minute of closing is after it."""
    return moment.replace(second=0, microsecond=0)


def _who(actor):
    return actor if getattr(actor, "id", None) else None


def record(actor, case_id: int, data: Any) -> Case:
    """Record a return visit on a closed case (CS agent or supervisor); returns the case."""
    clean, errors = fields.validate(VISIT_FIELDS, json_object(data))
    invalid_if(errors)
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if not can(actor, CAN_RECORD_VISIT, VISIT):
            raise Forbidden(_l("Your role may not record a return visit."))
        if case.status != "closed":
            raise Conflict(
                _l("A return visit is recorded once the case is closed."), status=case.status
            )
        tz = case.business_line.timezone
        visited = localize(clean["visited_at"], tz).astimezone(dt.UTC)
        now = utcnow()
        if visited > now:
            raise Invalid(_l("The visit cannot be in the future."), field="visited_at")
        closed = closed_at(case)
        if closed is not None and visited < _minute(closed):
            raise Invalid(
                str(
                    _l(
                        "The visit cannot be before the case was closed (%(when)s).",
                        when=iso_in_zone(closed, tz),
                    )
                ),
                field="visited_at",
            )
        score = clean["satisfaction"]
        visit = CaseVisit(
            visited_at=visited,
            channel=clean["channel"],
            satisfaction=score,
            comment=clean.get("comment"),
            by=_who(actor),
            created_at=now,
            followup="pending" if score <= FOLLOWUP_AT_MOST else None,
        )
        case.visits.append(visit)
        touch(case)
        db.session.flush()
        audit.record(
            actor,
            "visit",
            entity="case_visit",
            entity_id=visit.id,
            case_id=case.id,
            changes={
                "visited_at": visited,
                "channel": visit.channel,
                "satisfaction": score,
                "comment": visit.comment,
                "followup": visit.followup,
            },
        )
    return case


def dismiss(actor, visit_id: int, data: Any) -> CaseVisit:
    """Take a poor visit off the reopen list without reopening, with the reason (CS supervisor)."""
    reason = one_text(
        data, "reason", limits.TEXT_LONG, _l("Give the reason for not reopening the case.")
    )
    with write_transaction():
        require(actor, CAN_DISMISS_VISIT, VISIT)
        case_id = db.session.scalar(sa.select(CaseVisit.case_id).where(CaseVisit.id == visit_id))
        if case_id is None:
            raise NotFound()
        case = get_case(actor, case_id, lock=True)  # another line's visit: 404
        visit = next(v for v in case.visits if v.id == visit_id)
        if visit.followup != "pending":
            raise Conflict(
                _l("This visit is not waiting for the supervisor."), status=visit.followup
            )
        visit.followup = "dismissed"
        visit.followup_reason = reason
        visit.followup_by = _who(actor)
        visit.followup_at = utcnow()
        touch(case)
        db.session.flush()
        audit.record(
            actor,
            "visit_dismissed",
            entity="case_visit",
            entity_id=visit.id,
            case_id=case.id,
            changes={"followup": ["pending", "dismissed"], "reason": reason},
        )
    return visit


def mark_reopened(actor, case: Case) -> list[int]:
    """Inside the ``reopen`` action: the case's visits waiting for the supervisor are settled."""
    out = []
    for visit in case.visits:
        if visit.followup == "pending":
            visit.followup = "reopened"
            visit.followup_by = _who(actor)
            visit.followup_at = utcnow()
            out.append(visit.id)
    return out


# -- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueVisit:
    case: Case
    closed_at: dt.datetime
    due_at: dt.datetime
    overdue: bool


def due_at(case: Case, closed: dt.datetime) -> dt.datetime:
    """End of business of the line's ``visit_due_days``-th working day after closing (UTC)."""
    line = case.business_line
    days = line_settings(line.settings)["visit_due_days"]
    return calendar_for(line).end_of_working_days(closed, days).astimezone(dt.UTC)


def waiting(case: Case) -> bool:
    """Whether a closed case still waits for a visit recorded after its latest closing."""
    closed = closed_at(case)
    if case.status != "closed" or closed is None:
        return False
    return not any(v.visited_at >= _minute(closed) for v in case.visits)


def due(actor, now: dt.datetime | None = None) -> list[DueVisit]:
    """Closed cases of the actor's lines still waiting for their visit: overdue first, then
    by due time."""
    require(actor, "can_read", VISIT)
    now = now or utcnow()
    cases = db.session.scalars(
        sa.select(Case)
        .where(line_filter(actor, Case.business_line_id), Case.status == "closed")
        .order_by(Case.id)
    )
    out = []
    for case in cases:
        if not waiting(case):
            continue
        closed = closed_at(case)
        when = due_at(case, closed)
        out.append(DueVisit(case, closed, when, now > when))
    out.sort(key=lambda d: (not d.overdue, d.due_at, d.case.id))
    return out


def reopen_list(actor) -> list[CaseVisit]:
    """Visits of the actor's lines waiting for the supervisor (score 2 or lower), oldest first."""
    require(actor, CAN_DISMISS_VISIT, VISIT)
    return list(
        db.session.scalars(
            sa.select(CaseVisit)
            .join(Case, Case.id == CaseVisit.case_id)
            .where(line_filter(actor, Case.business_line_id), CaseVisit.followup == "pending")
            .order_by(CaseVisit.visited_at, CaseVisit.id)
        )
    )


# -- JSON ----------------------------------------------------------------------------------


def visit_json(visit: CaseVisit, tz: str) -> dict[str, Any]:
    return {
        "id": visit.id,
        "visited_at": iso_in_zone(visit.visited_at, tz),
        "channel": visit.channel,
        "satisfaction": visit.satisfaction,
        "comment": visit.comment,
        "by": visit.by.username if visit.by else None,
        "followup": visit.followup,
        "followup_reason": visit.followup_reason,
        "followup_by": visit.followup_by.username if visit.followup_by else None,
        "followup_at": iso_in_zone(visit.followup_at, tz),
    }


def in_order(case: Case) -> list[CaseVisit]:
    """The case's visits by visit time, then recording order (also right after a new one)."""
    return sorted(case.visits, key=lambda v: (v.visited_at, v.id))


def satisfaction(case: Case) -> int | None:
    """The latest visit's score (by visit time, then recording order), or None."""
    ordered = in_order(case)
    return ordered[-1].satisfaction if ordered else None


def case_ref(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "business_line": case.business_line.code,
        "customer": case.customer.name if case.customer else None,
    }


def due_json(item: DueVisit) -> dict[str, Any]:
    tz = item.case.business_line.timezone
    return {
        "case": case_ref(item.case),
        "closed_at": iso_in_zone(item.closed_at, tz),
        "due_at": iso_in_zone(item.due_at, tz),
        "overdue": item.overdue,
    }


def reopen_json(visit: CaseVisit) -> dict[str, Any]:
    tz = visit.case.business_line.timezone
    return {**visit_json(visit, tz), "case": case_ref(visit.case)}
