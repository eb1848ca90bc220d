"""Repeat and at-risk customers: whether a complaint repeats an earlier one within the line's
window (a priority rule), and the customers with many complaints lately."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.models import BusinessLine, Case, Customer
from core.services.access import line_filter, require
from core.services.sla import CAN_READ_SLA, SLA_VIEW
from core.settings import line_settings
from core.timeutil import zone

# -- priority -----------------------------------------------------------------------------


def is_repeat(
    customer_id: int | None,
    case_id: int | None,
    received_at: dt.datetime,
    line: BusinessLine,
) -> bool:
    """Whether the customer complained before this case within the line's repeat window:
    a complaint received on any of the ``repeat_days`` calendar days before this one's day
    (in the line's timezone; the window's last day counts) or earlier the same day."""
    if customer_id is None:
        return False
    days = int(line_settings(line.settings)["repeat_days"])
    local = received_at.astimezone(zone(line.timezone))
    start = dt.datetime.combine(local.date() - dt.timedelta(days=days), dt.time(), local.tzinfo)
    earlier = Case.received_at < received_at
    if case_id is not None:
        earlier = sa.or_(earlier, sa.and_(Case.received_at == received_at, Case.id < case_id))
    stmt = sa.select(Case.id).where(
        Case.customer_id == customer_id,
        Case.received_at >= start.astimezone(dt.UTC),
        earlier,
    )
    if case_id is not None:
        stmt = stmt.where(Case.id != case_id)
    return db.session.scalar(stmt.limit(1)) is not None


# -- at-risk customers ----------------------------------------------------------------------


@dataclass(frozen=True)
class AtRisk:
    customer_id: int
    name: str
    line_code: str
    line_name: str
    count: int
    last_received_at: dt.datetime


def at_risk_customers(actor, now: dt.datetime | None = None, line_code: str | None = None):
    """Customers with at least ``at_risk_count`` complaints or returns received within the
    last ``at_risk_days`` days (each line's settings), on the lines the actor may see."""
    require(actor, CAN_READ_SLA, SLA_VIEW)
    now = now or utcnow()
    lines = db.session.scalars(
        sa.select(BusinessLine)
        .where(line_filter(actor, BusinessLine.id))
        .order_by(BusinessLine.code)
    ).all()
    out: list[AtRisk] = []
    for line in lines:
        if line_code and line.code != line_code:
            continue
        s = line_settings(line.settings)
        since = now - dt.timedelta(days=int(s["at_risk_days"]))
        rows = db.session.execute(
            sa.select(
                Customer.id,
                Customer.name,
                sa.func.count(Case.id),
                sa.func.max(Case.received_at),
            )
            .join(Case, Case.customer_id == Customer.id)
            .where(Case.business_line_id == line.id, Case.received_at >= since)
            .group_by(Customer.id, Customer.name)
            .having(sa.func.count(Case.id) >= int(s["at_risk_count"]))
            .order_by(sa.func.count(Case.id).desc(), Customer.name)
        ).all()
        for cid, name, count, last in rows:
            last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
            out.append(AtRisk(cid, name, line.code, line.name, count, last))
    return out


def customer_risk(case: Case, now: dt.datetime | None = None) -> tuple[bool, int]:
    """Whether the case's customer is at risk now, and its complaints in the window."""
    now = now or utcnow()
    s = line_settings(case.business_line.settings)
    since = now - dt.timedelta(days=int(s["at_risk_days"]))
    count = db.session.scalar(
        sa.select(sa.func.count(Case.id)).where(
            Case.customer_id == case.customer_id, Case.received_at >= since
        )
    )
    return count >= int(s["at_risk_count"]), int(count or 0)
