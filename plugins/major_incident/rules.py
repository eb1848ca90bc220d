"""Major-incident rules (DOMAIN.md 4.5): pure functions, plain data in and out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

MEDICAL_COST_LIMIT = Decimal("100")
REASONS = ("regulator", "media", "safety", "medical_cost", "key_account", "batch_outbreak")


def major_reasons(
    *,
    regulator: bool,
    media: bool,
    safety: bool,
    medical_cost: Decimal | None,
    key_account: bool,
    outbreak: bool,
) -> list[str]:
    """Why a case is major: any one reason is enough."""
    found = {
        "regulator": regulator,
        "media": media,
        "safety": safety,
        "medical_cost": medical_cost is not None and medical_cost > MEDICAL_COST_LIMIT,
        "key_account": key_account,
        "batch_outbreak": outbreak,
    }
    return [reason for reason in REASONS if found[reason]]


def outbreak_window(
    times: list[dt.datetime], mine: dt.datetime, cases: int, days: int
) -> list[dt.datetime]:
    """The complaints about one batch that form an outbreak with ``mine``: at least ``cases``
    of them (``mine`` among them) received within ``days`` days of the first. Empty if none.

    ``times`` are the other complaints' reception times; the window is inclusive.
    """
    span = dt.timedelta(days=days)
    ordered = sorted([*times, mine])
    for start in ordered:
        if not start <= mine <= start + span:
            continue
        window = [t for t in ordered if start <= t <= start + span]
        if len(window) >= cases:
            return window
    return []
