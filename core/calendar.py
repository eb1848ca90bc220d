"""Working-time arithmetic on a business line's calendar (工作日历).

A calendar is a working week (Mon-Fri by default), daily working hours (09:00-18:00), public
holidays and make-up working days on weekends (调休). All arithmetic is closed-form over a sorted
array of working days (numpy ``searchsorted``): no loop over days or minutes.

Pure: no Flask, no database; :mod:`core.services.calendars` builds calendars from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

FIRST_DAY = np.datetime64("2000-01-01")
LAST_DAY = np.datetime64("2101-01-01")  # the array covers 2000-2100; enough for any case
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def parse_hhmm(text: str) -> dt.time:
    """``"09:00"`` -> ``time(9, 0)``; raises ValueError otherwise."""
    hours, minutes = text.strip().split(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class WorkCalendar:
    """A line's working calendar in its timezone."""

    timezone: str = "Asia/Shanghai"
    week: str = "1111100"  # Monday .. Sunday, 1 = a working day
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)  # make-up days (调休)

    def __post_init__(self) -> None:
        if len(self.week) != 7 or set(self.week) - {"0", "1"}:
            raise ValueError("week must be seven 0/1 flags, Monday first")
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def day_seconds(self) -> int:
        """Working seconds in one working day."""
        start = dt.datetime.combine(dt.date.min, self.start)
        return int((dt.datetime.combine(dt.date.min, self.end) - start).total_seconds())

    @cached_property
    def days(self) -> np.ndarray:
        """Every working day from 2000 to 2100, sorted (``datetime64[D]``)."""
        every = np.arange(FIRST_DAY, LAST_DAY, dtype="datetime64[D]")
        weekday = (every.astype(np.int64) + EPOCH_WEEKDAY) % 7
        working = np.array([flag == "1" for flag in self.week])[weekday]
        if self.holidays:
            working &= ~np.isin(every, np.array(sorted(self.holidays), dtype="datetime64[D]"))
        if self.workdays:
            working |= np.isin(every, np.array(sorted(self.workdays), dtype="datetime64[D]"))
        return every[working]

    # -- days ------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        d = np.datetime64(day, "D")
        i = int(np.searchsorted(self.days, d))
        return bool(i < len(self.days) and self.days[i] == d)

    def nth_working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``day`` itself does not count)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        i = int(np.searchsorted(self.days, np.datetime64(day, "D"), side="right")) + n - 1
        return self.days[i].astype(dt.date)

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working days in ``[first, last]``."""
        lo = np.searchsorted(self.days, np.datetime64(first, "D"), side="left")
        hi = np.searchsorted(self.days, np.datetime64(last, "D"), side="right")
        return int(max(hi - lo, 0))

    def end_of_working_days(self, moment: dt.datetime, n: int) -> dt.datetime:
        """``n`` working days after ``moment``: the end of business on the ``n``-th working day
        after the day ``moment`` falls on (in the line's timezone; that day does not count)."""
        local = moment.astimezone(self.zone)
        day = self.nth_working_day_after(local.date(), n)
        return dt.datetime.combine(day, self.end, tzinfo=self.zone)

    # -- business time ---------------------------------------------------------------------

    def _ordinal(self, moment: dt.datetime) -> float:
        """Working seconds from the start of the first working day of the array to ``moment``."""
        local = moment.astimezone(self.zone)
        d = np.datetime64(local.date(), "D")
        i = int(np.searchsorted(self.days, d, side="left"))
        if i < len(self.days) and self.days[i] == d:
            opening = dt.datetime.combine(local.date(), self.start, tzinfo=self.zone)
            offset = min(max((local - opening).total_seconds(), 0), self.day_seconds)
        else:
            offset = 0  # outside a working day: the clock starts with the next one
        return i * self.day_seconds + offset

    def _moment(self, ordinal: float) -> dt.datetime:
        index, offset = divmod(ordinal, self.day_seconds)
        if offset == 0 and index > 0:  # exactly at a day's end rather than the next day's start
            index, offset = index - 1, self.day_seconds
        day = self.days[int(index)].astype(dt.date)
        opening = dt.datetime.combine(day, self.start, tzinfo=self.zone)
        return opening + dt.timedelta(seconds=offset)

    def add_working_time(self, moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """``moment`` plus ``delta`` of working time (business minutes and hours)."""
        if delta <= dt.timedelta(0):
            return moment
        return self._moment(self._ordinal(moment) + delta.total_seconds())

    def working_time_between(self, first: dt.datetime, last: dt.datetime) -> dt.timedelta:
        """The working time from ``first`` to ``last`` (zero if ``last`` is earlier)."""
        return dt.timedelta(seconds=max(self._ordinal(last) - self._ordinal(first), 0))


def china_dates(
    years: Iterable[int] | None = None,
) -> tuple[dict[dt.date, str], dict[dt.date, str]]:
    """China's public holidays and make-up working days from the ``chinese-calendar`` package:
    ``(holidays, workdays)``, each a mapping of date to the holiday's name."""
    from chinese_calendar import constants

    wanted = set(years) if years is not None else None

    def pick(table):
        return {d: str(name) for d, name in table.items() if wanted is None or d.year in wanted}

    return pick(constants.holidays), pick(constants.workdays)
