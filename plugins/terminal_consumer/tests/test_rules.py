"""Terminal-consumer rules."""

from decimal import Decimal

import pytest

from plugins.terminal_consumer import rules


def issues(**kw):
    base = dict(
        has_contact=True, batch_no="B1", has_photo=True, quantity=2, amount_paid=Decimal("99")
    )
    return rules.acceptance_issues(**{**base, **kw})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"has_contact": False}, "contact"),
        ({"batch_no": None}, "batch_no"),
        ({"has_photo": False}, "photo"),
        ({"quantity": None}, "quantity"),
        ({"amount_paid": None}, "amount_paid"),
    ],
)
def test_each_required_item(change, field):
    assert issues(**change) == [("missing_evidence", field)]


def test_complete_intake_has_no_issue():
    assert issues() == []
    assert issues(amount_paid=Decimal("0")) == []  # a free sample is still a known amount


def test_settlement_amount():
    assert rules.settlement_refund(Decimal("500"), Decimal("99")) == Decimal("500")
    assert rules.settlement_refund(None, Decimal("99")) == Decimal("99")


@pytest.mark.parametrize(
    ("signed", "withdrawn", "unmet"),
    [
        (True, True, []),
        (False, True, ["settlement_signed"]),
        (True, False, ["complaint_withdrawn"]),
        (False, False, ["settlement_signed", "complaint_withdrawn"]),
    ],
)
def test_genuine_case_pays_and_closes_only_when_settled_and_withdrawn(signed, withdrawn, unmet):
    assert rules.payment_problems("genuine", signed, withdrawn) == unmet
    assert rules.closing_problems("genuine", signed, withdrawn, None) == unmet


def test_malicious_case_closes_with_legal_action():
    assert rules.closing_problems("malicious", False, False, None) == ["legal_action"]
    assert rules.closing_problems("malicious", False, False, "已起诉，要求道歉并赔偿") == []
    assert rules.payment_problems("malicious", False, False) == []
