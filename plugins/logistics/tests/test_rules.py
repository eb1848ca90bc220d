"""Logistics rules at their boundaries."""

import datetime as dt

import pytest

from plugins.logistics import rules

DAY = dt.date(2026, 11, 20)


def issues(**kw):
    base = dict(
        problem="transit_damage",
        goods_received_on=DAY,
        received_on=DAY,
        has_delivery_note=True,
        transit_days_normal=None,
        transit_days_actual=None,
        force_majeure=False,
    )
    return rules.acceptance_issues(**{**base, **kw})


def test_same_day_is_in_time_next_day_is_late():
    assert issues() == []
    assert issues(received_on=DAY + dt.timedelta(days=1)) == [("late_report", "goods_received_at")]


@pytest.mark.parametrize("problem", ["transit_damage", "transit_shortage"])
def test_delivery_note_is_required_for_damage_and_shortage(problem):
    assert issues(problem=problem, has_delivery_note=False) == [
        ("missing_evidence", "delivery_note")
    ]


def test_unknown_receipt_time_is_missing_evidence():
    assert ("missing_evidence", "goods_received_at") in issues(goods_received_on=None)


@pytest.mark.parametrize(
    ("normal", "actual", "within"), [(3, 2, True), (3, 3, True), (3, 4, False)]
)
def test_delay_within_normal_transit(normal, actual, within):
    found = issues(
        problem="delay",
        transit_days_normal=normal,
        transit_days_actual=actual,
        has_delivery_note=False,
    )
    assert (("within_normal_transit", "transit_days_actual") in found) is within
    assert ("missing_evidence", "delivery_note") not in found  # no delivery note needed for a delay


def test_force_majeure():
    assert issues(problem="delay", force_majeure=True) == [("force_majeure", "force_majeure")]


@pytest.mark.parametrize(
    ("negotiation", "severity", "allowed"),
    [
        ("failed", "severe", True),
        ("failed", "minor", False),
        ("settled", "severe", False),
        ("pending", "severe", False),
        (None, None, False),
    ],
)
def test_exceptional_compensation(negotiation, severity, allowed):
    assert rules.exceptional_compensation_allowed(negotiation, severity) is allowed
