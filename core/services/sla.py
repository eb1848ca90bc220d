"""The SLA engine's shared part: its permissions and each line's working calendar.

The engine's jobs live beside it: line calendars (``sla_calendar``), recomputing open cases
after a change (``sla_refresh``), stored deadlines with hold and resume (``sla_deadlines``),
the overdue sweep (``sla_sweep``), repeat and at-risk customers (``sla_customers``), the
dashboard and attainment against DOMAIN.md section 6's targets (``sla_reports``) and the
manual priority (``sla_priority``)."""

from __future__ import annotations

import sqlalchemy as sa

from core.calendar import WorkCalendar, parse_hhmm
from core.extensions import db
from core.models import BusinessLine, CalendarDay
from core.settings import line_settings

SLA_VIEW = "SLA"
CAN_READ_SLA = "can_read"
CAN_SWEEP = "can_sweep"
CALENDAR_VIEW = "Calendar"
CAN_EDIT_CALENDAR = "can_edit"

# -- calendars -----------------------------------------------------------------------------


_CALENDARS: dict[tuple, WorkCalendar] = {}


def calendar_for(line: BusinessLine) -> WorkCalendar:
    """The line's working calendar, cached until its days or working hours change."""
    s = line_settings(line.settings)
    key = (
        str(db.engine.url),
        line.id,
        line.calendar_revision,
        line.timezone,
        s["work_week"],
        s["work_start"],
        s["work_end"],
    )
    cal = _CALENDARS.get(key)
    if cal is None:
        rows = db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.kind).where(
                CalendarDay.business_line_id == line.id
            )
        ).all()
        cal = WorkCalendar(
            timezone=line.timezone,
            week=s["work_week"],
            start=parse_hhmm(s["work_start"]),
            end=parse_hhmm(s["work_end"]),
            holidays=frozenset(d for d, kind in rows if kind == "holiday"),
            workdays=frozenset(d for d, kind in rows if kind == "workday"),
        )
        if len(_CALENDARS) > 256:
            _CALENDARS.clear()
        _CALENDARS[key] = cal
    return cal
