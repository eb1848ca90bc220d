"""Major-incident rules at their boundaries."""

import datetime as dt
from decimal import Decimal

import pytest

from plugins.major_incident import rules

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def reasons(**kw):
    base = dict(
        regulator=False,
        media=False,
        safety=False,
        medical_cost=None,
        key_account=False,
        outbreak=False,
    )
    return rules.major_reasons(**{**base, **kw})


@pytest.mark.parametrize(
    ("cost", "major"), [(Decimal("100"), False), (Decimal("100.01"), True), (None, False)]
)
def test_medical_cost_strictly_above_100(cost, major):
    assert (reasons(medical_cost=cost) == ["medical_cost"]) is major


@pytest.mark.parametrize("flag", ["regulator", "media", "safety", "key_account"])
def test_each_trigger(flag):
    assert reasons(**{flag: True}) == [flag]


def test_several_reasons_in_a_fixed_order():
    assert reasons(outbreak=True, regulator=True, key_account=True) == [
        "regulator",
        "key_account",
        "batch_outbreak",
    ]


def test_third_case_inside_thirty_days_is_an_outbreak():
    window = rules.outbreak_window([T0, T0 + 10 * DAY], T0 + 30 * DAY, cases=3, days=30)
    assert window == [T0, T0 + 10 * DAY, T0 + 30 * DAY]


def test_third_case_outside_thirty_days_is_not():
    assert (
        rules.outbreak_window([T0, T0 + 10 * DAY], T0 + 30 * DAY + dt.timedelta(seconds=1), 3, 30)
        == []
    )


def test_two_cases_are_not_an_outbreak():
    assert rules.outbreak_window([T0], T0 + DAY, 3, 30) == []


def test_an_earlier_case_joins_the_window_of_later_ones():
    assert rules.outbreak_window([T0 + 5 * DAY, T0 + 20 * DAY], T0, 3, 30) == [
        T0,
        T0 + 5 * DAY,
        T0 + 20 * DAY,
    ]


def test_settings_change_the_threshold():
    assert rules.outbreak_window([T0], T0 + DAY, cases=2, days=7) == [T0, T0 + DAY]
    assert rules.outbreak_window([T0], T0 + 8 * DAY, cases=2, days=7) == []
