"""Case numbers ``KS-YYYYMM-NNNNN``: unique and gap-free per month, even under concurrent intake.

The month's counter row is locked and incremented in the transaction that creates the case,
so a rolled-back intake rolls its number back too, and two intakes never share one. The
counter is lock 3 of the one lock order (core.services.locks): taken after the write gate.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.db import for_update
from core.extensions import db
from core.models import CaseCounter


def _locked_counter(period: str) -> CaseCounter | None:
    return db.session.scalar(for_update(sa.select(CaseCounter).where(CaseCounter.period == period)))


def next_case_number(local_now: dt.datetime) -> str:
    """Take the next number of the month of ``local_now`` (the line's local time)."""
    period = local_now.strftime("%Y%m")
    counter = _locked_counter(period)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(period=period, last=0))
        except IntegrityError:
            pass  # another transaction created the month's row first; lock theirs
        counter = _locked_counter(period)
    counter.last += 1
    db.session.flush()
    return f"KS-{period}-{counter.last:05d}"
