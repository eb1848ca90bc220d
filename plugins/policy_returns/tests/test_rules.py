"""Policy-return rules."""

from decimal import Decimal

import pytest

from plugins.policy_returns import rules

OUT, BACK = Decimal("120.00"), Decimal("80.50")


@pytest.mark.parametrize(
    ("liable", "insists", "lines"),
    [
        ("customer", True, [("freight_to_customer", Decimal("200.50"))]),
        ("customer", False, []),
        ("company", False, [("charge_responsible_person", Decimal("200.50"))]),
        ("company", True, [("charge_responsible_person", Decimal("200.50"))]),
        (None, True, []),
    ],
)
def test_who_pays(liable, insists, lines):
    assert rules.proposal(liable, insists, OUT, BACK) == lines


def test_missing_freight_counts_as_zero():
    assert rules.freight(None, BACK) == BACK


@pytest.mark.parametrize(
    ("received", "mismatches"),
    [
        ({"sku": "P-1", "batch_no": "B1", "quantity": 10}, []),
        ({"sku": "P-2", "batch_no": "B1", "quantity": 10}, ["sku"]),
        ({"sku": "P-1", "batch_no": "B2", "quantity": 10}, ["batch_no"]),
        ({"sku": "P-1", "batch_no": "B1", "quantity": 9}, ["quantity"]),
        ({"sku": "P-1", "batch_no": "B1", "quantity": 11}, ["quantity"]),
    ],
)
def test_receipt_must_match_sku_batch_and_quantity(received, mismatches):
    expected = {"sku": "P-1", "batch_no": "B1", "quantity": 10}
    assert rules.receipt_mismatches(expected, received) == mismatches
