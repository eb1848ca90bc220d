"""Stored deadlines: computing a case's deadlines on its line's calendar, restarting them,
hold and resume, and reading them (per case, the soonest, the overdue)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.db import utcnow
from core.deadlines import RULES, RULES_BY_NAME, Duration, parse_spec
from core.extensions import db
from core.models import Case, CaseDeadline
from core.services.sla import calendar_for
from core.settings import CORE_SETTINGS, line_settings
from core.timeutil import zone
from core.workflow import MAIN_PATH

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
    ordered = sorted(rows.values(), key=lambda r: (r.due_at, r.name))
    case.deadlines = {row.name: row.due_at.astimezone(dt.UTC).isoformat() for row in ordered}
    soonest = next((row for row in ordered if row.state == "running"), None)
    case.next_due_at = soonest.due_at if soonest else None
    case.next_due_name = soonest.name if soonest else None


def flush_new_case(case: Case) -> None:
    """Flush a new case, its deadline rows in one INSERT.

    The unit of work sends one INSERT per new row on SQLite, because it needs each row's
    id and SQLite's RETURNING does not promise the rows' order; the rows are inserted here
    in one statement instead, matched to their ids by name (unique per case), and stay the
    case's ``deadline_rows``, now persistent. Only for a case not yet flushed: every row of
    it is new.
    """
    rows = list(case.deadline_rows)
    if not sa.inspect(case).pending or len(rows) < 2:
        db.session.flush()
        return
    for row in rows:
        db.session.expunge(row)
    set_committed_value(case, "deadline_rows", [])
    db.session.flush()
    table = CaseDeadline.__table__
    columns = [c for c in table.columns if c.key != "id"]
    keys = [c.key for c in columns]
    for row in rows:
        row.case_id = case.id
        for column in columns:  # what was not set gets its default (or NULL), known as such
            if column.key not in row.__dict__:
                default = column.default
                setattr(row, column.key, default.arg if default and default.is_scalar else None)
    ids = dict(
        db.session.execute(
            sa.insert(table).returning(table.c.name, table.c.id),
            [{key: getattr(row, key) for key in keys} for row in rows],
        ).all()
    )
    for row in rows:
        row.id = ids[row.name]
        make_transient_to_detached(row)  # as if loaded: no changes pending
        db.session.add(row)
    rows.sort(key=lambda r: (r.due_at, r.name))  # the relationship's order
    set_committed_value(case, "deadline_rows", rows)


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


def overdue_clause(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The case has a running deadline that has passed (its soonest one, kept on its row)."""
    return Case.next_due_at < now
