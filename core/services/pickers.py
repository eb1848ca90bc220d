"""Choices offered by pickers and counters, under the record rule: only the actor's lines."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.extensions import db
from core.models import BusinessLine, Case, Customer, KesuUser, Product
from core.models.user import user_business_line
from core.services.access import line_filter, line_ids, may_handle, staff_roles
from core.workflow import FINAL


def _visible(actor, line: BusinessLine | None) -> bool:
    ids = line_ids(actor)
    return line is not None and (ids is None or line.id in ids)


def line_records(actor, line: BusinessLine | None) -> dict[str, list[Any]]:
    """The customers and products of a line the actor belongs to (intake and edit pickers)."""
    if not _visible(actor, line):
        return {"customers": [], "products": []}
    customers = db.session.scalars(
        sa.select(Customer).where(Customer.business_line_id == line.id).order_by(Customer.name)
    )
    products = db.session.scalars(
        sa.select(Product).where(Product.business_line_id == line.id).order_by(Product.code)
    )
    return {"customers": list(customers), "products": list(products)}


def line_members(actor, line: BusinessLine) -> list[KesuUser]:
    """The active staff of a line the actor belongs to who may handle a case (the handler
    picker of *Assign*): no Finance, Auditor or warehouse clerk."""
    if not _visible(actor, line):
        return []
    members = db.session.scalars(
        sa.select(KesuUser)
        .join(user_business_line, user_business_line.c.user_id == KesuUser.id)
        .where(user_business_line.c.business_line_id == line.id, KesuUser.active.is_(True))
        .order_by(KesuUser.username)
        .options(*staff_roles())
    )
    return [user for user in members if may_handle(user)]


def open_counts(actor) -> dict[str, int]:
    """Open cases of the actor's lines per status (the home page)."""
    rows = db.session.execute(
        sa.select(Case.status, sa.func.count())
        .where(line_filter(actor, Case.business_line_id), Case.status.not_in(FINAL))
        .group_by(Case.status)
    )
    return dict(rows.all())


def overdue_count(actor) -> int:
    """Cases of the actor's lines with a running deadline that has passed (the home page)."""
    from core.db import utcnow
    from core.services.sla_deadlines import overdue_clause

    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Case)
        .where(line_filter(actor, Case.business_line_id), overdue_clause(utcnow()))
    )
