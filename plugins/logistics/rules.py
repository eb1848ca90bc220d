"""Logistics rules (DOMAIN.md 4.1): pure functions, plain data in and out."""

from __future__ import annotations

import datetime as dt

PROBLEMS = ("transit_damage", "transit_shortage", "delay", "carrier_service")
IN_TRANSIT = frozenset({"transit_damage", "transit_shortage"})
NEGOTIATION = ("settled", "failed", "pending")
SEVERITY = ("minor", "severe")


def reported_late(goods_received_on: dt.date, received_on: dt.date) -> bool:
    """Damage or shortage is raised on the day of receipt; a later day counts as accepted in good order."""
    return received_on > goods_received_on


def acceptance_issues(
    *,
    problem: str | None,
    goods_received_on: dt.date | None,
    received_on: dt.date,
    has_delivery_note: bool,
    transit_days_normal: int | None,
    transit_days_actual: int | None,
    force_majeure: bool,
) -> list[tuple[str, str | None]]:
    """``(code, field)`` of each reason the company may refuse the case."""
    issues: list[tuple[str, str | None]] = []
    if problem in IN_TRANSIT:
        if goods_received_on is None:
            issues.append(("missing_evidence", "goods_received_at"))
        elif reported_late(goods_received_on, received_on):
            issues.append(("late_report", "goods_received_at"))
        if not has_delivery_note:
            issues.append(("missing_evidence", "delivery_note"))
    if problem == "delay" and transit_days_normal is not None and transit_days_actual is not None:
        if transit_days_actual <= transit_days_normal:
            issues.append(("within_normal_transit", "transit_days_actual"))
    if force_majeure:
        issues.append(("force_majeure", "force_majeure"))
    return issues


def exceptional_compensation_allowed(negotiation: str | None, severity: str | None) -> bool:
    """The company pays only by exception: the carrier refused and the damage is severe."""
    return negotiation == "failed" and severity == "severe"
