"""Product-quality rules (DOMAIN.md 4.2): pure functions, plain data in and out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

REPORT_WINDOW_DAYS = 7
QA_FIRST_REPLY = dt.timedelta(hours=2)
AT_RECEIPT = frozenset({"short_shipment", "wrong_shipment", "damage_on_receipt"})
REMEDIES = ("recall_credit_reship", "reship_then_recall", "credit_to_zero", "free_goods", "explain")
# Defects known by name; a business line chooses which of them (or its own codes) it offers.
KNOWN_DEFECTS = (
    "particles",
    "powdering",
    "caking",
    "colour_difference",
    "can_condition",
    "sediment",
    "abnormal_additive",
    "packaging_standard",
    "other",
)


def reported_late(goods_received_on: dt.date, received_on: dt.date) -> bool:
    """Short, wrong or damaged goods are raised within 7 calendar days of receipt."""
    return (received_on - goods_received_on).days > REPORT_WINDOW_DAYS


def acceptance_issues(
    *,
    problem: str | None,
    goods_received_on: dt.date | None,
    received_on: dt.date,
    batch_no: str | None,
    has_photo: bool,
    affected_quantity: int | None,
) -> list[tuple[str, str]]:
    """``(code, field)`` of each reason a receipt problem cannot be accepted as registered."""
    if problem not in AT_RECEIPT:
        return []
    issues: list[tuple[str, str]] = []
    if goods_received_on is None:
        issues.append(("missing_evidence", "goods_received_at"))
    elif reported_late(goods_received_on, received_on):
        issues.append(("late_report", "goods_received_at"))
    if not batch_no:
        issues.append(("missing_evidence", "batch_no"))
    if not has_photo:
        issues.append(("missing_evidence", "photo"))
    if not affected_quantity:
        issues.append(("missing_evidence", "quantity"))
    return issues


def reship_quantity(problem: str, affected: int) -> int:
    """Short or wrong shipment: the full quantity. Damage on receipt: the company and the
    customer each bear half, half units in the customer's favour (rounded up)."""
    if problem == "damage_on_receipt":
        return (affected + 1) // 2
    return affected


def defect_remedy_lines(
    remedy: str | None, quantity: int, unit_price: Decimal
) -> list[tuple[str, int, str]]:
    """The lines of a quality-defect remedy: ``(kind, quantity, note key)`` in order."""
    if not quantity or remedy in (None, "explain"):
        return []
    return {
        "recall_credit_reship": [
            ("credit_note", quantity, "recall_credit"),
            ("reship", quantity, "reship"),
        ],
        "reship_then_recall": [
            ("reship", quantity, "urgent_reship"),
            ("credit_note", quantity, "recall_same_month"),
        ],
        "credit_to_zero": [("credit_note", quantity, "credit_to_zero")],
        "free_goods": [("free_goods", quantity, "free_goods")],
    }[remedy]


def qa_first_reply_due(assigned_at: dt.datetime) -> dt.datetime:
    """QA's first reply to customer service is due two hours after assignment."""
    return assigned_at + QA_FIRST_REPLY
