"""Product-quality rules at their boundaries."""

import datetime as dt
from decimal import Decimal

import pytest

from plugins.product_quality import rules

RECEIVED = dt.date(2026, 11, 1)


def issues(**kw):
    base = dict(
        problem="short_shipment",
        goods_received_on=RECEIVED,
        received_on=RECEIVED,
        batch_no="B1",
        has_photo=True,
        affected_quantity=5,
    )
    return rules.acceptance_issues(**{**base, **kw})


@pytest.mark.parametrize(("days", "late"), [(0, False), (7, False), (8, True)])
def test_seven_days_is_in_time_eight_is_late(days, late):
    found = issues(received_on=RECEIVED + dt.timedelta(days=days))
    assert (("late_report", "goods_received_at") in found) is late


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_no": None}, "batch_no"),
        ({"has_photo": False}, "photo"),
        ({"affected_quantity": None}, "quantity"),
        ({"affected_quantity": 0}, "quantity"),
        ({"goods_received_on": None}, "goods_received_at"),
    ],
)
def test_each_missing_evidence(change, field):
    assert issues(**change) == [("missing_evidence", field)]


def test_quality_defects_have_no_receipt_window():
    assert (
        issues(
            problem="quality_defect", received_on=RECEIVED + dt.timedelta(days=90), batch_no=None
        )
        == []
    )


@pytest.mark.parametrize(
    ("problem", "affected", "reship"),
    [
        ("short_shipment", 7, 7),
        ("wrong_shipment", 3, 3),
        ("damage_on_receipt", 7, 4),
        ("damage_on_receipt", 8, 4),
        ("damage_on_receipt", 1, 1),
    ],
)
def test_reship_quantity(problem, affected, reship):
    assert rules.reship_quantity(problem, affected) == reship


def test_remedies():
    price = Decimal("10")
    assert [k for k, _q, _n in rules.defect_remedy_lines("recall_credit_reship", 2, price)] == [
        "credit_note",
        "reship",
    ]
    assert [k for k, _q, _n in rules.defect_remedy_lines("reship_then_recall", 2, price)] == [
        "reship",
        "credit_note",
    ]
    assert rules.defect_remedy_lines("free_goods", 2, price) == [("free_goods", 2, "free_goods")]
    assert rules.defect_remedy_lines("explain", 2, price) == []
    assert rules.defect_remedy_lines("credit_to_zero", 0, price) == []


def test_first_reply_two_hours_after_assignment():
    at = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    assert rules.qa_first_reply_due(at) == dt.datetime(2026, 11, 2, 11, 30, tzinfo=dt.UTC)
