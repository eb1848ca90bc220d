"""The core's settings per business line: defaults from DOMAIN.md that an admin may change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

CORE_SETTINGS: dict[str, Any] = {
    # A proposal above this total (CNY) needs a written case report, then the regional sales
    # manager and the sales general manager (DOMAIN.md section 7).
    "approval_threshold": Decimal("25000.00"),
}


def line_settings(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The effective core settings of a line: its stored values over the defaults."""
    out = dict(CORE_SETTINGS)
    for key, value in (stored or {}).items():
        if key in out:
            out[key] = type(out[key])(value) if isinstance(out[key], Decimal) else value
    return out
