"""Terminal-consumer rules (DOMAIN.md 4.4): pure functions, plain data in and out."""

from __future__ import annotations

from decimal import Decimal

OUTCOMES = ("genuine", "malicious")


def acceptance_issues(
    *,
    has_contact: bool,
    batch_no: str | None,
    has_photo: bool,
    quantity: int | None,
    amount_paid: Decimal | None,
) -> list[tuple[str, str]]:
    """The complainant's contact, the batch, photos, the quantity and the amount paid are required."""
    missing = []
    if not has_contact:
        missing.append("contact")
    if not batch_no:
        missing.append("batch_no")
    if not has_photo:
        missing.append("photo")
    if not quantity:
        missing.append("quantity")
    if amount_paid is None:
        missing.append("amount_paid")
    return [("missing_evidence", field) for field in missing]


def settlement_refund(claim: Decimal | None, amount_paid: Decimal | None) -> Decimal:
    """What a genuine complaint settles for: the agreed claim, else the amount paid."""
    return claim if claim is not None else (amount_paid or Decimal("0"))


def payment_problems(
    outcome: str | None, settlement_signed: bool, complaint_withdrawn: bool
) -> list[str]:
    """Compensation is paid only after both sides signed and the consumer withdrew the complaint."""
    if outcome != "genuine":
        return []
    problems = []
    if not settlement_signed:
        problems.append("settlement_signed")
    if not complaint_withdrawn:
        problems.append("complaint_withdrawn")
    return problems


def closing_problems(
    outcome: str | None,
    settlement_signed: bool,
    complaint_withdrawn: bool,
    legal_action: str | None,
) -> list[str]:
    """Genuine: settled and withdrawn. Malicious: the legal action is recorded."""
    if outcome == "malicious":
        return [] if legal_action else ["legal_action"]
    return payment_problems(outcome or "genuine", settlement_signed, complaint_withdrawn)
