"""Pure rules of the service-complaint category: plain data in, plain data out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

REPORT_WINDOW_DAYS = 30
VOUCHER_CAP = Decimal("200.00")


def late_report(stay_date: dt.date | None, received_on: dt.date) -> bool:
    """A complaint more than 30 days after the stay is reported too late."""
    return stay_date is not None and (received_on - stay_date).days > REPORT_WINDOW_DAYS


def voucher_amount(claim: Decimal | None) -> Decimal:
    """The goodwill voucher: the claim, capped at CNY 200."""
    return min(claim or Decimal("0"), VOUCHER_CAP)
