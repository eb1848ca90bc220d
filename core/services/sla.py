"""The SLA engine: line calendars, stored deadlines, hold and resume, the overdue sweep,
repeat and at-risk customers, and attainment against DOMAIN.md section 6's targets."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.calendar import WorkCalendar, china_dates, parse_hhmm
from core.db import UTCDateTime, in_write_transaction, utcnow, write_transaction
from core.deadlines import RULES, RULES_BY_NAME, TARGETS, Duration, parse_spec
from core.extensions import db
from core.models import BusinessLine, CalendarDay, Case, CaseDeadline, Customer, Department
from core.models.sla import CALENDAR_KINDS
from core.roles import CS_SUPERVISOR
from core.services import audit
from core.services.access import line_filter, require, visible_line_ids
from core.services.errors import Invalid, invalid_if
from core.settings import CORE_SETTINGS, line_settings
from core.timeutil import zone
from core.workflow import MAIN_PATH

log = logging.getLogger(__name__)

SLA_VIEW = "SLA"
CAN_READ_SLA = "can_read"
CAN_SWEEP = "can_sweep"
CALENDAR_VIEW = "Calendar"
CAN_EDIT_CALENDAR = "can_edit"

# The sweep's condition, written out literally so that SQLite and PostgreSQL use the partial
# index ix_case_deadline_sweep (a bound parameter would not match the index's predicate).
_SWEEPABLE = "state = 'running' AND escalated_at IS NULL AND due_at < :now"
SWEEP_UPDATE_SQL = (
    f"UPDATE case_deadline SET overdue_at = :now, escalated_at = :now WHERE {_SWEEPABLE} "
    "RETURNING business_line_id"
)

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


def mark_refresh(line: BusinessLine) -> None:
    """Note, inside the change's own write, that the line's open cases need recomputing."""
    line.sla_refresh_pending = True


def refresh_open_cases(actor, line: BusinessLine, batch: int = 200) -> int:
    """Recompute the priority and deadlines of a line's open cases after its calendar or
    settings changed, ``batch`` cases per write transaction (so that a large line does not
    hold the write lock for long); what changes on a case is audited on it as ``recompute``.

    Runs after the change committed, which marked the line (:func:`mark_refresh`); the mark is
    cleared at the end. If the refresh stops half-way, the line stays marked and the next
    sweep finishes it. Returns how many cases were looked at, or -1 when it failed.
    """
    from core.services.cases import refresh

    open_ids = db.session.scalars(
        sa.select(Case.id)
        .where(Case.business_line_id == line.id, Case.status.notin_(("closed", "rejected")))
        .order_by(Case.id)
    ).all()

    def run() -> None:
        for first in range(0, len(open_ids), batch):
            refresh(actor, open_ids[first : first + batch])
        with write_transaction():
            db.session.execute(
                sa.update(BusinessLine)
                .where(BusinessLine.id == line.id)
                .values(sla_refresh_pending=False)
            )

    if in_write_transaction():  # part of a larger change (a new line): it stands or falls with it
        run()
        return len(open_ids)
    try:
        run()
    except Exception:  # noqa: BLE001 - the change itself is saved; the sweep will finish this
        db.session.rollback()
        log.exception("deadlines of business line %s not refreshed; the sweep will", line.code)
        return -1
    return len(open_ids)


def finish_pending_refreshes(actor) -> list[str]:
    """Refresh the lines whose refresh did not finish (run by the sweep before it looks)."""
    pending = db.session.scalars(
        sa.select(BusinessLine).where(BusinessLine.sla_refresh_pending.is_(True))
    ).all()
    for line in pending:
        refresh_open_cases(actor, line)
    return [line.code for line in pending]


# -- deadlines -----------------------------------------------------------------------------

_RANK = {stage: n for n, stage in enumerate(MAIN_PATH)}


@lru_cache(maxsize=512)
def _spec(text: str, default: str) -> dict[str, Duration]:
    try:
        return parse_spec(text)
    except ValueError:
        return parse_spec(default)


def _reached(case: Case, stage: str) -> bool:
    status = case.held_from if case.status == "on_hold" else case.status
    if status not in _RANK:
        return False
    return _RANK[status] >= _RANK[stage]


def _reached_at(case: Case, stage: str, since: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When the case got to ``stage`` or beyond (after ``since``), as its stage times tell."""
    times = case.stage_times or {}
    seen = [dt.datetime.fromisoformat(times[s]) for s in MAIN_PATH[_RANK[stage] :] if s in times]
    return min((t for t in seen if t >= since), default=now)


def _anchor(case: Case, rule, row: CaseDeadline | None) -> dt.datetime | None:
    """When the rule's deadline runs from: its restart, the receipt, or (for a deadline that
    runs from a stage) when the case entered that stage, once it has got there."""
    if row is not None and row.started_at is not None:
        return row.started_at
    if rule.anchor == "received":
        return case.received_at
    when = (case.stage_times or {}).get(rule.anchor)
    if not when or not _reached(case, rule.anchor):
        return None
    return dt.datetime.fromisoformat(when)


_PLUGIN_DURATION = Duration(1, "m")  # a plugin's deadline is a moment: it moves on the clock


def sync_deadlines(
    case: Case, plugin_deadlines: Mapping[str, dt.datetime], now: dt.datetime | None = None
) -> None:
    """Bring the case's stored deadlines up to date (inside the caller's write).

    Each rule's deadline is computed from the case's priority on the line's calendar, moved
    later by the time its case spent on hold; it is met when the case reaches its stage (once
    met it stays met until the case goes back, see :func:`restart`), void while the case is
    rejected, paused while it is on hold. A plugin deadline is met when the plugin no longer
    returns it.
    """
    now = now or utcnow()
    line = case.business_line
    cal = calendar_for(line)
    settings = line_settings(line.settings)
    rows = {row.name: row for row in case.deadline_rows}
    wanted: dict[str, tuple[dt.datetime, Duration, str | None, dt.datetime | None]] = {}
    for rule in RULES:
        anchor = _anchor(case, rule, rows.get(rule.name))
        if anchor is None:
            continue
        duration = _spec(settings[rule.setting], CORE_SETTINGS[rule.setting])[case.priority]
        wanted[rule.name] = (duration.due(cal, anchor), duration, rule.met_at, anchor)
    for name, when in plugin_deadlines.items():
        if name not in RULES_BY_NAME:
            wanted[name] = (when.astimezone(dt.UTC), _PLUGIN_DURATION, None, None)

    for row in rows.values():
        row.business_line_id = line.id  # the line may change before the case is accepted
    for name, (base, duration, met_stage, anchor) in wanted.items():
        row = rows.get(name)
        if row is not None and row.state == "met":
            continue
        if row is None:
            row = CaseDeadline(
                name=name,
                business_line_id=line.id,
                hold_seconds=0,
                hold_clock_seconds=0,
                due_at=base,
                state="running",
            )
            case.deadline_rows.append(row)
            rows[name] = row
        due = duration.shift(cal, base, row.hold_seconds or 0, row.hold_clock_seconds or 0)
        if row.due_at != due:
            if row.escalated_at is not None and due > now:
                # Moved into the future (a lower priority, a restart): it may pass, and be
                # escalated, again; one still past due stays escalated.
                row.overdue_at = row.escalated_at = None
            row.due_at = due
        if met_stage == "created":
            row.state, row.met_at = "met", case.created_at or now
        elif met_stage is not None and _reached(case, met_stage):
            since = anchor or case.received_at  # a stage time before it started is older
            row.state, row.met_at = "met", _reached_at(case, met_stage, since, now)
        else:
            row.state = _open_state(case)
    for name, row in rows.items():
        if name not in wanted and row.state != "met":
            if name in RULES_BY_NAME:
                row.state = _open_state(case)
            elif case.status in ("rejected",):
                row.state = "void"
            else:  # the plugin no longer returns it: its condition is satisfied
                row.state, row.met_at = "met", now
    case.deadlines = {
        row.name: row.due_at.astimezone(dt.UTC).isoformat()
        for row in sorted(rows.values(), key=lambda r: (r.due_at, r.name))
    }


def _open_state(case: Case) -> str:
    if case.status == "rejected":
        return "void"
    if case.status == "on_hold":
        return "paused"
    if case.status == "closed":
        return "met"
    return "running"


def restart(case: Case, stage: str, now: dt.datetime | None = None) -> list[str]:
    """The case went back to ``stage`` (reopened, or a corrective action found ineffective):
    the deadlines of the stages it must go through again run anew from now (those that run
    from a stage, from when it gets there again). Returns the names restarted."""
    now = now or utcnow()
    rank = _RANK.get(stage, 0)
    names = []
    for row in list(case.deadline_rows):
        rule = RULES_BY_NAME.get(row.name)
        if rule is None or rule.met_at == "created" or _RANK[rule.met_at] <= rank:
            continue
        names.append(row.name)
        if rule.anchor != "received":
            case.deadline_rows.remove(row)  # made again when the case gets to its stage
            continue
        row.started_at, row.met_at, row.state = now, None, "running"
        row.hold_seconds = row.hold_clock_seconds = 0
        row.overdue_at = row.escalated_at = None
    return sorted(names)


def start_hold(case: Case, now: dt.datetime | None = None) -> None:
    case.held_at = now or utcnow()


def end_hold(case: Case, now: dt.datetime | None = None) -> int:
    """Add the time spent on hold to every open deadline (working time, and time on the
    clock); returns the working seconds."""
    now = now or utcnow()
    if case.held_at is None:
        return 0
    working = int(
        calendar_for(case.business_line).working_time_between(case.held_at, now).total_seconds()
    )
    clock = max(int((now - case.held_at).total_seconds()), 0)
    for row in case.deadline_rows:
        if row.state in ("running", "paused"):
            row.hold_seconds = (row.hold_seconds or 0) + working
            row.hold_clock_seconds = (row.hold_clock_seconds or 0) + clock
    case.held_at = None
    return working


@dataclass(frozen=True)
class DeadlineView:
    name: str
    due_at: dt.datetime
    state: str
    met_at: dt.datetime | None
    late_seconds: int | None  # met: how late (0 on time)
    overdue_seconds: int | None  # open and past due: by how much
    left_seconds: int | None  # open and not yet due: how long is left
    hold_seconds: int

    @property
    def missed(self) -> bool:
        return bool(self.late_seconds) or bool(self.overdue_seconds)

    def as_dict(self, tz: str) -> dict[str, Any]:
        return {
            "due_at": self.due_at.astimezone(zone(tz)).isoformat(),
            "state": self.state,
            "met_at": self.met_at.astimezone(zone(tz)).isoformat() if self.met_at else None,
            "missed": self.missed,
            "late_minutes": _minutes(self.late_seconds),
            "overdue_minutes": _minutes(self.overdue_seconds),
            "left_minutes": _minutes(self.left_seconds),
            "hold_minutes": _minutes(self.hold_seconds),
        }


def _minutes(seconds: int | None) -> int | None:
    return None if seconds is None else seconds // 60


def deadline_views(case: Case, now: dt.datetime | None = None) -> list[DeadlineView]:
    """The case's deadlines as a reader sees them now, soonest first. A paused deadline is
    read at the moment its clock stopped (the hold's start)."""
    now = now or utcnow()
    out = []
    for row in sorted(case.deadline_rows, key=lambda r: (r.due_at, r.name)):
        late = overdue = left = None
        if row.state == "met" and row.met_at is not None:
            late = max(int((row.met_at - row.due_at).total_seconds()), 0)
        elif row.state in ("running", "paused"):
            at = (case.held_at or now) if row.state == "paused" else now
            delta = int((row.due_at - at).total_seconds())
            if delta < 0:
                overdue = -delta
            else:
                left = delta
        out.append(
            DeadlineView(
                row.name,
                row.due_at,
                row.state,
                row.met_at,
                late,
                overdue,
                left,
                row.hold_seconds or 0,
            )
        )
    return out


def next_due_subquery() -> sa.Subquery:
    """Per case: its soonest running deadline."""
    return (
        sa.select(CaseDeadline.case_id, sa.func.min(CaseDeadline.due_at).label("next_due"))
        .where(CaseDeadline.state == "running")
        .group_by(CaseDeadline.case_id)
        .subquery("next_deadline")
    )


def overdue_clause(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The case has a running deadline that has passed."""
    return sa.exists().where(
        CaseDeadline.case_id == Case.id,
        CaseDeadline.state == "running",
        CaseDeadline.due_at < now,
    )


# -- priority -----------------------------------------------------------------------------


def is_repeat(
    customer_id: int | None,
    case_id: int | None,
    received_at: dt.datetime,
    line: BusinessLine,
) -> bool:
    """Whether the customer complained before this case within the line's repeat window:
    a complaint received on any of the ``repeat_days`` calendar days before this one's day
    (in the line's timezone; the window's last day counts) or earlier the same day."""
    if customer_id is None:
        return False
    days = int(line_settings(line.settings)["repeat_days"])
    local = received_at.astimezone(zone(line.timezone))
    start = dt.datetime.combine(local.date() - dt.timedelta(days=days), dt.time(), local.tzinfo)
    earlier = Case.received_at < received_at
    if case_id is not None:
        earlier = sa.or_(earlier, sa.and_(Case.received_at == received_at, Case.id < case_id))
    stmt = sa.select(Case.id).where(
        Case.customer_id == customer_id,
        Case.received_at >= start.astimezone(dt.UTC),
        earlier,
    )
    if case_id is not None:
        stmt = stmt.where(Case.id != case_id)
    return db.session.scalar(stmt.limit(1)) is not None


# -- at-risk customers ----------------------------------------------------------------------


@dataclass(frozen=True)
class AtRisk:
    customer_id: int
    name: str
    line_code: str
    line_name: str
    count: int
    last_received_at: dt.datetime


def at_risk_customers(actor, now: dt.datetime | None = None, line_code: str | None = None):
    """Customers with at least ``at_risk_count`` complaints or returns received within the
    last ``at_risk_days`` days (each line's settings), on the lines the actor may see."""
    require(actor, CAN_READ_SLA, SLA_VIEW)
    now = now or utcnow()
    lines = db.session.scalars(
        sa.select(BusinessLine)
        .where(line_filter(actor, BusinessLine.id))
        .order_by(BusinessLine.code)
    ).all()
    out: list[AtRisk] = []
    for line in lines:
        if line_code and line.code != line_code:
            continue
        s = line_settings(line.settings)
        since = now - dt.timedelta(days=int(s["at_risk_days"]))
        rows = db.session.execute(
            sa.select(
                Customer.id,
                Customer.name,
                sa.func.count(Case.id),
                sa.func.max(Case.received_at),
            )
            .join(Case, Case.customer_id == Customer.id)
            .where(Case.business_line_id == line.id, Case.received_at >= since)
            .group_by(Customer.id, Customer.name)
            .having(sa.func.count(Case.id) >= int(s["at_risk_count"]))
            .order_by(sa.func.count(Case.id).desc(), Customer.name)
        ).all()
        for cid, name, count, last in rows:
            last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
            out.append(AtRisk(cid, name, line.code, line.name, count, last))
    return out


def customer_risk(case: Case, now: dt.datetime | None = None) -> tuple[bool, int]:
    """Whether the case's customer is at risk now, and its complaints in the window."""
    now = now or utcnow()
    s = line_settings(case.business_line.settings)
    since = now - dt.timedelta(days=int(s["at_risk_days"]))
    count = db.session.scalar(
        sa.select(sa.func.count(Case.id)).where(
            Case.customer_id == case.customer_id, Case.received_at >= since
        )
    )
    return count >= int(s["at_risk_count"]), int(count or 0)


# -- the sweep -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    now: dt.datetime
    per_line: dict[str, int]  # line code -> deadlines escalated now

    @property
    def total(self) -> int:
        return sum(self.per_line.values())


def sweep(actor=None, now: dt.datetime | None = None) -> SweepResult:
    """Flag every running deadline that has passed and escalate it, once, to the CS
    supervisors of its line: one in-app digest per line and, when SMTP is configured, one
    e-mail per supervisor. Set-based; running it again at once changes nothing."""
    from core.services import mail
    from core.services.notifications import N_, notify

    now = now or utcnow()
    finish_pending_refreshes(actor)
    statement = sa.text(SWEEP_UPDATE_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime))
    with write_transaction():
        # One statement flags the rows and names their lines: what is counted is exactly what
        # was escalated, even with two sweeps at once.
        escalated = Counter(db.session.execute(statement, {"now": now}).scalars())
        per_line: dict[str, int] = {}
        outbox = []
        for line_id, count in sorted(escalated.items()):
            line = db.session.get(BusinessLine, line_id)
            per_line[line.code] = count
            recipients = escalation_recipients(line)
            message = N_("%(count)s deadlines passed on %(line)s; the cases are escalated to you.")
            link = f"/cases/?business_line={line.code}&overdue=true"
            notify(recipients, "overdue", message, {"count": count, "line": line.name}, link=link)
            audit.record(
                actor,
                "sweep",
                entity="business_line",
                entity_id=line.id,
                changes={"escalated": count, "to": [u.username for u in recipients]},
            )
            outbox.append((line, count, recipients, link))
    for line, count, recipients, link in outbox:
        mail.send_overdue_digest(line, count, recipients, link)
    return SweepResult(now, per_line)


def escalation_recipients(line: BusinessLine) -> list:
    """Who hears of a line's overdue cases: its CS supervisors; if it has none, its managers;
    if none either, the administrators (an escalation never goes nowhere)."""
    from core.models import KesuUser
    from core.roles import ADMIN, MANAGER
    from core.services.notifications import line_staff

    for roles in ([CS_SUPERVISOR], [MANAGER]):
        staff = line_staff(line.id, roles)
        if staff:
            return staff
    return list(
        db.session.scalars(
            sa.select(KesuUser)
            .where(KesuUser.active.is_(True), KesuUser.roles.any(name=ADMIN))
            .order_by(KesuUser.username)
        )
    )


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
    now = now or utcnow()
    start, end = period_bounds(line, first, last)
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
    where = (
        d.business_line_id == line.id,
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


# -- manual priority -----------------------------------------------------------------------


def set_priority(actor, case_id: int, data: Any):
    """Set a case's priority by hand, or give it back to the rules (``priority: null``):
    ``{"priority": "P1", "reason": "...", "version": n}``. The reason is required; the change
    is audited and the deadlines follow the new priority."""
    from core.roles import CAN_SET_PRIORITY
    from core.services.access import can, get_case
    from core.services.cases import (
        emit,
        optional_version,
        recompute,
        require_version,
        require_writable,
        snapshot,
        touch,
    )
    from core.services.errors import Forbidden, PreconditionFailed

    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    unknown = set(data) - {"priority", "reason", "version"}
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in sorted(unknown)}
        )
    if "priority" not in data:
        raise Invalid(_l("This field is required."), field="priority")
    priority = data.get("priority")
    if priority is not None and priority not in ("P1", "P2", "P3"):
        raise Invalid(_l("Must be P1, P2, P3 or null."), field="priority")
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid(_l("Must be text."), field="reason")
    reason = (reason or "").strip()
    if len(reason) > limits.TEXT_LONG:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.TEXT_LONG)), field="reason"
        )
    version = optional_version(data)
    if not reason:
        raise PreconditionFailed(_l("Give the reason for changing the priority."), field="reason")
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if not can(actor, CAN_SET_PRIORITY):
            raise Forbidden(_l("Your role may not change a case's priority."), field="priority")
        require_writable(case)
        require_version(case, version)
        before = snapshot(case)
        old = case.priority
        case.priority_override = priority
        case.priority_override_reason = reason if priority else None
        touch(case)
        recompute(case)
        db.session.flush()
        changes = audit.diff(before, snapshot(case))
        changes["priority"] = [old, case.priority]
        changes["reason"] = reason
        audit.record(
            actor, "priority", entity="case", entity_id=case.id, case_id=case.id, changes=changes
        )
        emit(case, "priority", case.status, actor, {"priority": priority, "reason": reason})
    return case
