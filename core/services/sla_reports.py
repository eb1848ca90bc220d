"""The SLA dashboard and attainment: overdue cases per stage and department, and attainment
against DOMAIN.md section 6's targets for a period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import UTCDateTime, utcnow
from core.deadlines import TARGETS
from core.extensions import db
from core.models import BusinessLine, Case, CaseDeadline, Department
from core.services.access import line_filter, require, visible_line_ids
from core.services.errors import Invalid, invalid_if
from core.services.sla import CAN_READ_SLA, SLA_VIEW
from core.services.sla_deadlines import overdue_clause
from core.timeutil import zone

# -- dashboard and attainment -------------------------------------------------------------


def overdue_counts(actor, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Cases with a passed running deadline, counted per stage and per responsible department
    (on the lines the actor may see)."""
    require(actor, CAN_READ_SLA, SLA_VIEW)
    now = now or utcnow()
    base = sa.select(Case.id, Case.status, Case.department_id).where(
        line_filter(actor, Case.business_line_id), overdue_clause(now)
    )
    sub = base.subquery()
    per_stage = dict(
        db.session.execute(sa.select(sub.c.status, sa.func.count()).group_by(sub.c.status)).all()
    )
    per_department = {
        (name or ""): n
        for name, n in db.session.execute(
            sa.select(Department.name, sa.func.count())
            .select_from(sub)
            .outerjoin(Department, Department.id == sub.c.department_id)
            .group_by(Department.name)
        ).all()
    }
    return {"stage": per_stage, "department": per_department}


@dataclass(frozen=True)
class TargetResult:
    name: str
    target: float
    on_time: int
    missed: int
    pending: int
    missed_cases: list[dict[str, Any]]

    @property
    def rate(self) -> float | None:
        done = self.on_time + self.missed
        return None if done == 0 else self.on_time / done

    @property
    def attained(self) -> bool | None:
        return None if self.rate is None else self.rate + 1e-9 >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "on_time": self.on_time,
            "missed": self.missed,
            "pending": self.pending,
            "rate": None if self.rate is None else round(self.rate, 4),
            "attained": self.attained,
            "missed_cases": self.missed_cases,
        }


def period_bounds(
    line: BusinessLine, first: dt.date, last: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments bounding local days ``first`` to ``last`` (inclusive) of a line."""
    tz = zone(line.timezone)
    start = dt.datetime.combine(first, dt.time(), tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def attainment(
    actor, line: BusinessLine, first: dt.date, last: dt.date, now: dt.datetime | None = None
) -> list[TargetResult]:
    """Section 6's targets for the cases of a line received in ``first``..``last`` (its local
    days): per target, the cases that met it on time, missed it (met late, or still open past
    due), and are still within it; computed in SQL."""
    require(actor, CAN_READ_SLA, SLA_VIEW)
    if line.id not in visible_line_ids(actor):
        raise Invalid(_l("Unknown business line."), field="business_line")
    start, end = period_bounds(line, first, last)
    return attainment_between(line, start, end, now)


def attainment_between(
    line: BusinessLine, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> list[TargetResult]:
    """:func:`attainment` for the cases received in ``start``..``end`` (UTC, end excluded),
    without the permission check (the caller's own: the SLA dashboard, the monthly report)."""
    now = now or utcnow()
    d = CaseDeadline
    on_time = sa.and_(d.state == "met", d.met_at <= d.due_at)
    # An open deadline is read now; a paused one when its clock stopped (the hold's start).
    now_ = sa.literal(now, UTCDateTime)  # typed: compared as UTC on every engine
    read_at = sa.case((d.state == "paused", sa.func.coalesce(Case.held_at, now_)), else_=now_)
    is_open = d.state.in_(("running", "paused"))
    missed = sa.or_(
        sa.and_(d.state == "met", d.met_at > d.due_at),
        sa.and_(is_open, d.due_at < read_at),
    )
    pending = sa.and_(is_open, d.due_at >= read_at)
    # The line's cases received in the period (ix_case_line_received), then each one's target
    # deadlines by (case_id, name): never a walk over every deadline of the line.
    where = (
        Case.business_line_id == line.id,
        d.name.in_(list(TARGETS)),
        Case.received_at >= start,
        Case.received_at < end,
    )
    totals = {
        name: (int(a or 0), int(b or 0), int(c or 0))
        for name, a, b, c in db.session.execute(
            sa.select(
                d.name,
                sa.func.sum(sa.case((on_time, 1), else_=0)),
                sa.func.sum(sa.case((missed, 1), else_=0)),
                sa.func.sum(sa.case((pending, 1), else_=0)),
            )
            .join(Case, Case.id == d.case_id)
            .where(*where)
            .group_by(d.name)
        ).all()
    }
    misses: dict[str, list[dict[str, Any]]] = {name: [] for name in TARGETS}
    tz = zone(line.timezone)
    for name, case_id, number, due, met, state, held_at in db.session.execute(
        sa.select(d.name, Case.id, Case.number, d.due_at, d.met_at, d.state, Case.held_at)
        .join(Case, Case.id == d.case_id)
        .where(*where, missed)
        .order_by(d.name, Case.number)
    ).all():
        late_to = met or (held_at if state == "paused" and held_at else now)
        misses[name].append(
            {
                "case_id": case_id,
                "number": number,
                "due_at": due.astimezone(tz).isoformat(),
                "met_at": met.astimezone(tz).isoformat() if met else None,
                "late_minutes": int((late_to - due).total_seconds()) // 60,
            }
        )
    return [
        TargetResult(name, target, *totals.get(name, (0, 0, 0)), misses[name])
        for name, target in TARGETS.items()
    ]


def validate_period(raw_first: Any, raw_last: Any) -> tuple[dt.date, dt.date]:
    errors: dict[str, list[str]] = {}
    dates: dict[str, dt.date] = {}
    for key, raw in (("from", raw_first), ("to", raw_last)):
        try:
            dates[key] = dt.date.fromisoformat(str(raw or "").strip())
        except ValueError:
            errors[key] = [str(_l("Must be a date such as 2026-11-01."))]
    for key, day in dates.items():
        if not 2000 <= day.year <= 2100:
            errors[key] = [str(_l("Must be a date between 2000 and 2100."))]
    invalid_if(errors)
    if dates["to"] < dates["from"]:
        raise Invalid(_l("The period must end on or after its first day."), field="to")
    return dates["from"], dates["to"]
