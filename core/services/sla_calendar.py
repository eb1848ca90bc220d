"""Line calendars: the holidays and make-up working days of a line, entered by hand, pasted
as a list, or seeded with China's official dates; each change refreshes the open cases."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.calendar import china_dates
from core.db import write_transaction
from core.extensions import db
from core.models import BusinessLine, CalendarDay
from core.models.sla import CALENDAR_KINDS
from core.services import audit
from core.services.access import require
from core.services.errors import Invalid
from core.services.sla import CALENDAR_VIEW, CAN_EDIT_CALENDAR
from core.services.sla_refresh import mark_refresh, refresh_open_cases


def _calendar_changed(actor, line: BusinessLine, action: str, changes: dict) -> None:
    """After a change of a line's calendar days (inside its write): a new revision for the
    cached calendars and the audit event. The caller then refreshes the open cases."""
    # A random revision, not a counter: cached calendars of other databases never collide.
    line.calendar_revision = secrets.randbelow(2**31 - 1) + 1
    mark_refresh(line)
    db.session.flush()
    audit.record(actor, action, entity="business_line", entity_id=line.id, changes=changes)


def seed_china(actor, line: BusinessLine, years: Iterable[int] | None = None) -> int:
    """Add China's official holidays and make-up working days to a line's calendar (for the
    years the ``chinese-calendar`` package knows, or ``years``); dates already on the calendar
    are kept as they are. Returns how many dates were added (audited when any)."""
    require(actor, CAN_EDIT_CALENDAR, CALENDAR_VIEW)
    holidays, workdays = china_dates(years)
    with write_transaction():
        existing = set(
            db.session.scalars(
                sa.select(CalendarDay.day).where(CalendarDay.business_line_id == line.id)
            )
        )
        added = 0
        for kind, table in (("holiday", holidays), ("workday", workdays)):
            for day, note in sorted(table.items()):
                if day in existing:
                    continue
                db.session.add(
                    CalendarDay(business_line_id=line.id, day=day, kind=kind, note=note[:100])
                )
                added += 1
        if added:
            _calendar_changed(actor, line, "calendar_seed", {"added": added})
    if added:
        refresh_open_cases(actor, line)
    return added


def calendar_years(line: BusinessLine) -> list[int]:
    """The years that have dates on the line's calendar."""
    days = db.session.scalars(
        sa.select(CalendarDay.day).where(CalendarDay.business_line_id == line.id)
    )
    return sorted({d.year for d in days})


def calendar_days(line: BusinessLine, year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            sa.select(CalendarDay)
            .where(
                CalendarDay.business_line_id == line.id,
                CalendarDay.day >= dt.date(year, 1, 1),
                CalendarDay.day <= dt.date(year, 12, 31),
            )
            .order_by(CalendarDay.day)
        )
    )


_KIND_WORDS = {
    "holiday": "holiday",
    "假": "holiday",
    "休": "holiday",
    "假日": "holiday",
    "节假日": "holiday",
    "workday": "workday",
    "班": "workday",
    "上班": "workday",
    "调休上班": "workday",
    "工作日": "workday",
}


@dataclass(frozen=True)
class DayEntry:
    day: dt.date
    kind: str
    note: str | None


def parse_day_list(text: str) -> list[DayEntry]:
    """Parse pasted calendar dates: one per line, ``date kind [note]``, separated by spaces,
    commas or tabs; the kind is ``holiday`` or ``workday`` (or 假/休, 班/上班). A range
    ``2027-01-01..2027-01-03`` gives every date in it. Errors name the line's number."""
    entries: list[DayEntry] = []
    errors: list[str] = []
    if len(text or "") > limits.CALENDAR_TEXT:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.CALENDAR_TEXT)), field="days"
        )
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p for p in re.split(r"[\s,，\t]+", line, maxsplit=2) if p]
        if len(parts) < 2:
            errors.append(str(_l("Line %(n)s: give a date and holiday or workday.", n=number)))
            continue
        kind = _KIND_WORDS.get(parts[1].lower())
        if kind is None:
            errors.append(str(_l("Line %(n)s: the kind must be holiday or workday.", n=number)))
            continue
        try:
            first, _, last = parts[0].partition("..")
            start = dt.date.fromisoformat(first)
            end = dt.date.fromisoformat(last) if last else start
        except ValueError:
            errors.append(str(_l("Line %(n)s: the date must look like 2027-01-01.", n=number)))
            continue
        if not (2000 <= start.year <= 2100 and 2000 <= end.year <= 2100):
            errors.append(str(_l("Line %(n)s: the date must be between 2000 and 2100.", n=number)))
            continue
        if end < start or (end - start).days > 31:
            errors.append(str(_l("Line %(n)s: a range covers at most 32 days.", n=number)))
            continue
        note = parts[2].strip()[:100] if len(parts) > 2 else None
        for offset in range((end - start).days + 1):
            entries.append(DayEntry(start + dt.timedelta(days=offset), kind, note))
    if errors:
        raise Invalid(errors[0], errors={"days": errors})
    if not entries:
        raise Invalid(_l("Give at least one date."), field="days")
    return entries


def set_calendar_days(
    actor, line: BusinessLine, entries: Iterable[DayEntry], *, replace_year: int | None = None
) -> int:
    """Write dates onto a line's calendar (an existing date takes the new kind and note).

    With ``replace_year``, the year's other dates are removed first, as when an admin enters
    the official calendar announced for the next year; every date must then be in that year.
    Open cases of the line get their deadlines recomputed. Audited; returns the dates written.
    """
    require(actor, CAN_EDIT_CALENDAR, CALENDAR_VIEW)
    entries = list({e.day: e for e in entries}.values())
    if replace_year is not None:
        outside = [e.day for e in entries if e.day.year != replace_year]
        if outside:
            raise Invalid(
                str(
                    _l("%(day)s is not in %(year)s.", day=outside[0].isoformat(), year=replace_year)
                ),
                field="days",
            )
    for e in entries:
        if e.kind not in CALENDAR_KINDS:
            raise Invalid(_l("The kind must be holiday or workday."), field="kind")
    with write_transaction():
        removed: list[str] = []
        if replace_year is not None:
            for row in calendar_days(line, replace_year):
                if row.day not in {e.day for e in entries}:
                    removed.append(row.day.isoformat())
                    db.session.delete(row)
        existing = {
            row.day: row
            for row in db.session.scalars(
                sa.select(CalendarDay).where(
                    CalendarDay.business_line_id == line.id,
                    CalendarDay.day.in_([e.day for e in entries]),
                )
            )
        }
        changed = []
        for e in sorted(entries, key=lambda e: e.day):
            row = existing.get(e.day)
            if row is None:
                db.session.add(
                    CalendarDay(business_line_id=line.id, day=e.day, kind=e.kind, note=e.note)
                )
            elif (row.kind, row.note) == (e.kind, e.note or row.note):
                continue
            else:
                row.kind, row.note = e.kind, e.note or row.note
            changed.append(f"{e.day.isoformat()} {e.kind}")
        if changed or removed:
            _calendar_changed(actor, line, "calendar", {"days": [removed or None, changed or None]})
    if changed or removed:
        refresh_open_cases(actor, line)
    return len(changed)


def delete_calendar_day(actor, line: BusinessLine, day: dt.date) -> bool:
    """Remove a date from a line's calendar (it follows the working week again). Audited."""
    require(actor, CAN_EDIT_CALENDAR, CALENDAR_VIEW)
    with write_transaction():
        row = db.session.scalar(
            sa.select(CalendarDay).where(
                CalendarDay.business_line_id == line.id, CalendarDay.day == day
            )
        )
        if row is None:
            return False
        db.session.delete(row)
        _calendar_changed(
            actor, line, "calendar", {"days": [f"{day.isoformat()} {row.kind}", None]}
        )
    refresh_open_cases(actor, line)
    return True
