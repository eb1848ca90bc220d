"""Policy-return rules (DOMAIN.md 4.3): pure functions, plain data in and out."""

from __future__ import annotations

from decimal import Decimal

LIABLE_PARTIES = ("customer", "company")


def freight(freight_out: Decimal | None, freight_back: Decimal | None) -> Decimal:
    """Freight both ways."""
    return (freight_out or Decimal("0")) + (freight_back or Decimal("0"))


def goes_back(liable_party: str | None, insists_on_return: bool) -> bool:
    """Goods travel back when the company is liable, or the liable customer insists."""
    return liable_party == "company" or (liable_party == "customer" and insists_on_return)


def proposal(
    liable_party: str | None,
    insists_on_return: bool,
    freight_out: Decimal | None,
    freight_back: Decimal | None,
) -> list[tuple[str, Decimal]]:
    """Customer liable and insisting: the customer pays the freight both ways.
    Company liable: the cost is charged to the responsible person."""
    cost = freight(freight_out, freight_back)
    if liable_party == "customer" and insists_on_return:
        return [("freight_to_customer", cost)]
    if liable_party == "company":
        return [("charge_responsible_person", cost)]
    return []


def receipt_mismatches(expected: dict, received: dict) -> list[str]:
    """The fields (``sku``, ``batch_no``, ``quantity``) where the goods differ from the approved form."""
    return [
        key for key in ("sku", "batch_no", "quantity") if expected.get(key) != received.get(key)
    ]
