"""Case numbers ``KS-YYYYMM-NNNNN``: unique and gap-free per month, even under concurrent intake.

The month's counter row is locked and incremented in the transaction that creates the case,
so a rolled-back intake rolls its number back too, and two intakes never share one. The
counter is lock 3 of the one lock order (core.services.locks): taken after the write gate.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import CaseCounter


def _increment(period: str) -> int | None:
    """Move the month's counter on by one and return its new value, in one statement that
    also locks the row to the end of the transaction; None when the month has no row yet."""
    return db.session.scalar(
        sa.update(CaseCounter)
        .where(CaseCounter.period == period)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    )


def next_case_number(local_now: dt.datetime) -> str:
    """Take the next number of the month of ``local_now`` (the line's local time)."""
    period = local_now.strftime("%Y%m")
    last = _increment(period)
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(period=period, last=0))
        except IntegrityError:
            pass  # another transaction created the month's row first; lock theirs
        last = _increment(period)
    return f"KS-{period}-{last:05d}"
