"""Working-day arithmetic at holiday and make-up-day boundaries (2026, and a year entered by hand)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.calendar import WorkCalendar, china_dates

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS, WORKDAYS = china_dates()
CHINA = WorkCalendar(holidays=frozenset(HOLIDAYS), workdays=frozenset(WORKDAYS))


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def test_the_issues_example_national_day_2026():
    # Oct 1-7 are holidays, Oct 8 and 9 count, Saturday Oct 10 is a make-up working day.
    assert CHINA.end_of_working_days(at(2026, 9, 30), 3) == at(2026, 10, 10, 18, 0)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 9, 30), True),  # Wednesday before the holiday
        (dt.date(2026, 10, 1), False),  # National Day
        (dt.date(2026, 10, 7), False),  # last day of the holiday
        (dt.date(2026, 10, 8), True),  # first day back
        (dt.date(2026, 10, 10), True),  # Saturday, make-up day
        (dt.date(2026, 10, 11), False),  # Sunday
        (dt.date(2026, 2, 14), True),  # Saturday before Spring Festival, make-up day
        (dt.date(2026, 2, 17), False),  # Spring Festival
    ],
)
def test_2026_days(day, working):
    assert CHINA.is_working_day(day) is working


def test_the_received_day_does_not_count_even_late_at_night():
    assert CHINA.end_of_working_days(at(2026, 11, 23, 23, 59), 1) == at(2026, 11, 24, 18, 0)
    # a Friday complaint: the next working day is Monday
    assert CHINA.end_of_working_days(at(2026, 11, 20, 8, 0), 1) == at(2026, 11, 23, 18, 0)
    # received on a holiday: the first working day after it
    assert CHINA.end_of_working_days(at(2026, 10, 3), 1) == at(2026, 10, 8, 18, 0)


def test_the_day_is_taken_in_the_lines_timezone():
    # 17:00 UTC on Sept 30 is 01:00 on Oct 1 in Shanghai: the count starts after Oct 1
    utc = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert CHINA.end_of_working_days(utc, 1) == at(2026, 10, 8, 18, 0)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (at(2026, 11, 24, 10, 0), 15, at(2026, 11, 24, 10, 15)),
        (at(2026, 11, 24, 17, 45), 15, at(2026, 11, 24, 18, 0)),  # exactly at closing
        (at(2026, 11, 24, 17, 50), 15, at(2026, 11, 25, 9, 5)),  # over the night
        (at(2026, 11, 24, 20, 0), 15, at(2026, 11, 25, 9, 15)),  # received after hours
        (at(2026, 11, 21, 11, 0), 30, at(2026, 11, 23, 9, 30)),  # Saturday: from Monday's opening
        (at(2026, 9, 30, 17, 0), 120, at(2026, 10, 8, 10, 0)),  # across the National Day holiday
        (at(2026, 10, 9, 17, 30), 60, at(2026, 10, 10, 9, 30)),  # into the make-up Saturday
    ],
)
def test_business_minutes(start, minutes, due):
    assert CHINA.add_working_time(start, dt.timedelta(minutes=minutes)) == due


def test_working_time_between_skips_nights_and_holidays():
    assert CHINA.working_time_between(
        at(2026, 9, 30, 17, 0), at(2026, 10, 8, 10, 0)
    ) == dt.timedelta(hours=2)
    assert CHINA.working_time_between(
        at(2026, 11, 24, 19, 0), at(2026, 11, 24, 22, 0)
    ) == dt.timedelta(0)
    assert CHINA.working_time_between(at(2026, 11, 25), at(2026, 11, 24)) == dt.timedelta(0)


def test_a_year_entered_by_hand():
    # 2027 is not in the package: an admin enters National Day 2027 and its make-up Saturday.
    holidays = {dt.date(2027, 10, d) for d in range(1, 8)}
    workdays = {dt.date(2027, 10, 9)}
    cal = WorkCalendar(holidays=frozenset(holidays), workdays=frozenset(workdays))
    assert not cal.is_working_day(dt.date(2027, 10, 4))
    assert cal.is_working_day(dt.date(2027, 10, 9))  # Saturday made a working day
    # Thursday Sept 30, 2027: Oct 8 (Fri) and Oct 9 (Sat, make-up) count, then Monday Oct 11
    assert cal.end_of_working_days(at(2027, 9, 30), 3) == at(2027, 10, 11, 18, 0)
    assert cal.working_days_between(dt.date(2027, 10, 1), dt.date(2027, 10, 11)) == 3


def test_own_week_and_hours():
    cal = WorkCalendar(week="1111110", start=dt.time(8, 30), end=dt.time(17, 30))  # six-day week
    assert cal.end_of_working_days(at(2026, 11, 20), 1) == at(2026, 11, 21, 17, 30)
    assert cal.add_working_time(at(2026, 11, 21, 17, 0), dt.timedelta(hours=1)) == at(
        2026, 11, 23, 9, 0
    )
    with pytest.raises(ValueError):
        WorkCalendar(week="11111")
    with pytest.raises(ValueError):
        WorkCalendar(start=dt.time(18, 0), end=dt.time(9, 0))
