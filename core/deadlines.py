"""The SLA deadlines of a case (DOMAIN.md sections 5 and 6): what each measures and its defaults.

Pure: no Flask, no database. A deadline runs from an anchor (when the complaint was received,
or when the case entered a stage) for a duration in one of five units, per priority:

========  ==============================================  =======================================
unit      meaning                                         example
========  ==============================================  =======================================
``m``     minutes on the clock                            ``15m``
``h``     hours on the clock                              ``24h``
``bm``    business minutes (within working hours)         ``30bm``
``bh``    business hours                                  ``2bh``
``wd``    working days: the end of business on the Nth    ``3wd``
          working day after the anchor's day
========  ==============================================  =======================================

A line's setting for a deadline is a duration for every priority, optionally followed by
``P1:<duration>`` overrides, e.g. ``"3wd, P1:24h"``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.calendar import WorkCalendar

PRIORITIES = ("P1", "P2", "P3")
UNITS = ("m", "h", "bm", "bh", "wd")
CLOCK_UNITS = frozenset({"m", "h"})
_DURATION = re.compile(r"^\s*(\d{1,6})\s*(m|h|bm|bh|wd)\s*$")
# The longest duration a setting may give, per unit (a year or so).
MAXIMA = {"m": 525_600, "h": 8_760, "bm": 150_000, "bh": 2_500, "wd": 250}
_OVERRIDE = re.compile(r"^\s*(P[123])\s*[:=]\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def due(self, calendar: WorkCalendar, anchor: dt.datetime) -> dt.datetime:
        """When a deadline of this length from ``anchor`` falls due (aware, UTC)."""
        if self.unit == "m":
            due = anchor + dt.timedelta(minutes=self.amount)
        elif self.unit == "h":
            due = anchor + dt.timedelta(hours=self.amount)
        elif self.unit == "bm":
            due = calendar.add_working_time(anchor, dt.timedelta(minutes=self.amount))
        elif self.unit == "bh":
            due = calendar.add_working_time(anchor, dt.timedelta(hours=self.amount))
        else:
            due = calendar.end_of_working_days(anchor, self.amount)
        return due.astimezone(dt.UTC)

    def shift(
        self, calendar: WorkCalendar, due: dt.datetime, working: int, clock: int
    ) -> dt.datetime:
        """``due`` moved later by the time spent on hold, in the deadline's own measure: the
        ``clock`` seconds for one on the clock, the ``working`` seconds for one in working
        time (so that every clock stops while the case waits for the customer)."""
        if self.unit in CLOCK_UNITS:
            return due + dt.timedelta(seconds=clock) if clock > 0 else due
        if working <= 0:
            return due
        return calendar.add_working_time(due, dt.timedelta(seconds=working)).astimezone(dt.UTC)


def parse_duration(text: str) -> Duration:
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(text)
    amount = int(match.group(1))
    if not 1 <= amount <= MAXIMA[match.group(2)]:
        raise ValueError(text)
    return Duration(amount, match.group(2))


def parse_spec(text: str) -> dict[str, Duration]:
    """``"3wd, P1:24h"`` -> ``{"P1": 24h, "P2": 3wd, "P3": 3wd}``; ValueError when malformed."""
    if not isinstance(text, str):
        raise ValueError(text)
    default: Duration | None = None
    overrides: dict[str, Duration] = {}
    for part in re.split(r"[,，;；]", text):
        if not part.strip():
            continue
        override = _OVERRIDE.match(part)
        if override:
            overrides[override.group(1).upper()] = parse_duration(override.group(2))
        elif default is None:
            default = parse_duration(part)
        else:
            raise ValueError(text)
    if default is None:
        raise ValueError(text)
    return {p: overrides.get(p, default) for p in PRIORITIES}


@dataclass(frozen=True)
class DeadlineRule:
    """A deadline of every case: ``anchor`` is ``received`` or the stage it starts from;
    it is met when the case reaches ``met_at`` (a stage, or ``created`` for intake itself)."""

    name: str
    default: str
    anchor: str
    met_at: str

    @property
    def setting(self) -> str:
        return f"sla_{self.name}"


RULES: tuple[DeadlineRule, ...] = (
    # Section 6 target: registered within 1 working day of receipt.
    DeadlineRule("registered", "1wd", "received", "created"),
    DeadlineRule("first_response", "15bm, P1:15m", "received", "accepted"),
    DeadlineRule("classified", "30bm", "received", "created"),
    DeadlineRule("assigned", "2bh", "received", "investigating"),
    DeadlineRule("start_handling", "48h, P1:1h, P2:24h", "received", "investigating"),
    DeadlineRule("investigation", "5wd, P1:24h, P2:48h", "received", "proposed"),
    DeadlineRule("reply", "3wd, P1:24h", "received", "proposed"),
    DeadlineRule("reply_max", "7wd", "received", "proposed"),
    # Section 6 target: investigation and proposal within 5 working days.
    DeadlineRule("solution", "5wd", "received", "proposed"),
    # A solution within 1 working day after the investigation ends.
    DeadlineRule("proposal", "1wd", "proposed", "approving"),
    DeadlineRule("compensation_done", "10wd", "received", "confirming"),
    DeadlineRule("closed", "16wd", "received", "closed"),
)
RULES_BY_NAME = {r.name: r for r in RULES}

# Section 6's department quality targets: deadline name -> share of cases that must meet it.
TARGETS: dict[str, float] = {
    "registered": 0.99,
    "solution": 0.90,
    "compensation_done": 0.90,
    "closed": 1.00,
}


def default_settings() -> dict[str, str]:
    return {rule.setting: rule.default for rule in RULES}


def reachable(settings: dict, spec: str) -> None:
    """ValueError unless every duration of ``spec`` stays within 250 working days on a line
    with the working hours of ``settings`` (``work_start``, ``work_end``)."""
    start = dt.datetime.strptime(settings["work_start"].strip(), "%H:%M")
    end = dt.datetime.strptime(settings["work_end"].strip(), "%H:%M")
    day_minutes = (end - start).total_seconds() / 60
    if day_minutes <= 0:
        raise ValueError(spec)
    for duration in parse_spec(spec).values():
        minutes = {"bm": 1, "bh": 60}.get(duration.unit)
        if minutes and duration.amount * minutes / day_minutes > MAXIMA["wd"]:
            raise ValueError(spec)
