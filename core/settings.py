"""The core's settings per business line: defaults from DOMAIN.md that an admin may change."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from core.calendar import parse_hhmm
from core.deadlines import default_settings, parse_spec

CORE_SETTINGS: dict[str, Any] = {
    # A proposal above this total (CNY) needs a written case report, then the regional sales
    # manager and the sales general manager (DOMAIN.md section 7).
    "approval_threshold": Decimal("25000.00"),
    # Priority P2 (DOMAIN.md section 5): a claim of at least this amount (CNY) ...
    "p2_claim_amount": Decimal("5000.00"),
    # ... or a complaint of a customer who complained within this many days before.
    "repeat_days": 30,
    # Early warning (DOMAIN.md section 9): this many complaints or returns within these days.
    "at_risk_count": 3,
    "at_risk_days": 90,
    # A closed case's return visit (回访) is due this many working days after closing.
    "visit_due_days": 3,
    # Retention (DOMAIN.md section 2: at least a year; an admin archives): a case closed this
    # many days ago may be archived (归档): read-only, out of the working lists, still in the ledger and the reports.
    "archive_after_days": 365,
    # The working calendar: working weekdays (Monday first) and daily working hours.
    "work_week": "1111100",
    "work_start": "09:00",
    "work_end": "18:00",
    # Deadlines per priority (see core.deadlines), e.g. "3wd, P1:24h".
    **default_settings(),
}


def _days(value: Any) -> None:
    if not 1 <= value <= 3650:
        raise ValueError(value)


def _retention(value: Any) -> None:
    if not 365 <= value <= 3650:
        raise ValueError(value)


def _count(value: Any) -> None:
    if not 1 <= value <= 1000:
        raise ValueError(value)


def _week(value: str) -> None:
    if len(value) != 7 or set(value) - {"0", "1"} or "1" not in value:
        raise ValueError(value)


def _time(value: str) -> None:
    parse_hhmm(value)


def _amount(value: Decimal) -> None:
    if not 0 <= value < Decimal("1e12"):
        raise ValueError(value)


# Checks beyond the value's kind; each raises ValueError. Messages name the expected form.
_AMOUNT = _l("Must be an amount of at least 0.")
_DAYS = _l("Must be a whole number of days from 1 to 3650.")
_COUNT = _l("Must be a whole number from 1 to 1000.")
VALIDATORS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "approval_threshold": (_amount, _AMOUNT),
    "p2_claim_amount": (_amount, _AMOUNT),
    "repeat_days": (_days, _DAYS),
    "at_risk_count": (_count, _COUNT),
    "at_risk_days": (_days, _DAYS),
    "visit_due_days": (_days, _DAYS),
    "archive_after_days": (_retention, _l("Must be a whole number of days from 365 to 3650.")),
    "work_week": (_week, _l("Must be seven 0/1 flags, Monday first, such as 1111100.")),
    "work_start": (_time, _l("Must be a time such as 09:00.")),
    "work_end": (_time, _l("Must be a time such as 18:00.")),
    **{
        name: (
            parse_spec,
            _l(
                "Must be durations such as “3wd, P1:24h” (units m, h, bm, bh, wd; at most "
                "a year, 250 working days)."
            ),
        )
        for name in default_settings()
    },
}


def line_settings(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The effective core settings of a line: its stored values over the defaults."""
    out = dict(CORE_SETTINGS)
    for key, value in (stored or {}).items():
        if key in out:
            out[key] = type(out[key])(value) if isinstance(out[key], Decimal) else value
    return out


SETTING_LABELS: dict[str, Any] = {
    "approval_threshold": _l("Approval threshold for sales management (CNY)"),
    "p2_claim_amount": _l("Claim amount that makes a case P2 (CNY)"),
    "repeat_days": _l("Repeat complaint window (days)"),
    "at_risk_count": _l("Cases that flag a customer at risk"),
    "at_risk_days": _l("At-risk window (days)"),
    "visit_due_days": _l("Return visit due (working days after closing)"),
    "archive_after_days": _l("Closed cases may be archived after (days)"),
    "work_week": _l("Working weekdays (Monday first, 1 = working)"),
    "work_start": _l("Working day starts"),
    "work_end": _l("Working day ends"),
    "sla_registered": _l("Deadline: registered"),
    "sla_first_response": _l("Deadline: first response"),
    "sla_classified": _l("Deadline: classified"),
    "sla_assigned": _l("Deadline: assigned to a department"),
    "sla_start_handling": _l("Deadline: handling started"),
    "sla_investigation": _l("Deadline: investigation done"),
    "sla_reply": _l("Deadline: reply to the customer"),
    "sla_reply_max": _l("Deadline: reply at the latest"),
    "sla_solution": _l("Deadline: investigation and proposal"),
    "sla_proposal": _l("Deadline: proposal after the investigation"),
    "sla_compensation_done": _l("Deadline: feedback and compensation done"),
    "sla_closed": _l("Deadline: closed"),
}
assert set(SETTING_LABELS) == set(CORE_SETTINGS)
