"""Deadline refresh: recomputing a line's open cases after its calendar or settings changed,
and finishing a refresh that stopped half-way (run by the sweep)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from core.db import in_write_transaction, write_transaction
from core.extensions import db
from core.models import BusinessLine, Case

log = logging.getLogger(__name__)


def mark_refresh(line: BusinessLine) -> None:
    """Note, inside the change's own write, that the line's open cases need recomputing."""
    line.sla_refresh_pending = True


def refresh_open_cases(actor, line: BusinessLine, batch: int = 200) -> int:
    """Recompute the priority and deadlines of a line's open cases after its calendar or
    settings changed, ``batch`` cases per write transaction (so that a large line does not
    hold the write lock for long); what changes on a case is audited on it as ``recompute``.

    Runs after the change committed, which marked the line (:func:`mark_refresh`); the mark is
    cleared at the end. If the refresh stops half-way, the line stays marked and the next
    sweep finishes it. Returns how many cases were looked at, or -1 when it failed.
    """
    from core.services.cases import refresh

    open_ids = db.session.scalars(
        sa.select(Case.id)
        .where(Case.business_line_id == line.id, Case.status.notin_(("closed", "rejected")))
        .order_by(Case.id)
    ).all()

    def run() -> None:
        for first in range(0, len(open_ids), batch):
            refresh(actor, open_ids[first : first + batch])
        with write_transaction():
            db.session.execute(
                sa.update(BusinessLine)
                .where(BusinessLine.id == line.id)
                .values(sla_refresh_pending=False)
            )

    if in_write_transaction():  # part of a larger change (a new line): it stands or falls with it
        run()
        return len(open_ids)
    try:
        run()
    except Exception:  # noqa: BLE001 - the change itself is saved; the sweep will finish this
        db.session.rollback()
        log.exception("deadlines of business line %s not refreshed; the sweep will", line.code)
        return -1
    return len(open_ids)


def finish_pending_refreshes(actor) -> list[str]:
    """Refresh the lines whose refresh did not finish (run by the sweep before it looks)."""
    pending = db.session.scalars(
        sa.select(BusinessLine).where(BusinessLine.sla_refresh_pending.is_(True))
    ).all()
    for line in pending:
        refresh_open_cases(actor, line)
    return [line.code for line in pending]
