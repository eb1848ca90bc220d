"""Archiving (归档): a closed or rejected case past its line's retention leaves the working lists.

DOMAIN.md section 2: cases are never deleted; records are kept at least a year (the line's
``archive_after_days``, 365 by default and never less); after that an admin may archive. An
archived case is read-only (core.services.access.get_case refuses to lock one for a write),
out of the case list unless asked for (``archived=1``), and still in the ledger and the
reports. A case with compensation still to carry out is not archived: finance still has work
on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import for_update, utcnow, write_transaction
from core.extensions import db
from core.models import BusinessLine, Case, CompensationLine
from core.roles import CAN_ARCHIVE, LEDGER
from core.services import audit
from core.services.access import require, visible_line_ids
from core.services.errors import Invalid
from core.settings import line_settings
from core.workflow import FINAL

BATCH = 500  # cases archived per transaction


@dataclass(frozen=True)
class Eligible:
    line: BusinessLine
    retention_days: int
    cutoff: dt.datetime  # closed before this moment
    count: int


def _closed_at():
    """When the case reached its final stage (``stage_times``; ISO text, UTC)."""
    return sa.case(
        (Case.status == "closed", Case.stage_times["closed"].as_string()),
        else_=Case.stage_times["rejected"].as_string(),
    )


def _eligible_clause(line: BusinessLine, cutoff: dt.datetime):
    pending = sa.exists().where(
        CompensationLine.case_id == Case.id, CompensationLine.exec_status == "pending"
    )
    return sa.and_(
        Case.business_line_id == line.id,
        Case.status.in_(FINAL),
        Case.archived_at.is_(None),
        _closed_at() < cutoff.astimezone(dt.UTC).isoformat(),
        ~pending,
    )


def _line(actor, line: BusinessLine) -> None:
    require(actor, CAN_ARCHIVE, LEDGER)
    if line.id not in visible_line_ids(actor):
        raise Invalid(_l("Unknown business line."), field="business_line")


def eligible(actor, line: BusinessLine, now: dt.datetime | None = None) -> Eligible:
    """How many cases of the line may be archived now, and the retention that decides it."""
    _line(actor, line)
    days = int(line_settings(line.settings)["archive_after_days"])
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(_eligible_clause(line, cutoff))
    )
    return Eligible(line, days, cutoff, int(count or 0))


def archive_line(actor, line: BusinessLine, now: dt.datetime | None = None) -> int:
    """Archive every eligible case of the line (each an audited ``archive`` event, in batches
    of :data:`BATCH` per transaction); returns how many. Running it again archives nothing new."""
    info = eligible(actor, line, now)
    moment = now or utcnow()
    done = 0
    while True:
        with write_transaction():
            batch = db.session.scalars(
                for_update(
                    sa.select(Case)
                    .where(_eligible_clause(line, info.cutoff))
                    .order_by(Case.id)
                    .limit(BATCH),
                    of=Case,
                )
            ).all()
            for case in batch:
                case.archived_at = moment
                case.archived_by_id = getattr(actor, "id", None)
                db.session.flush()
                audit.record(
                    actor,
                    "archive",
                    entity="case",
                    entity_id=case.id,
                    case_id=case.id,
                    changes={"archived_at": [None, moment.isoformat()]},
                )
        done += len(batch)
        if len(batch) < BATCH:
            return done


def not_archived():
    """The clause that keeps archived cases out of a working list."""
    return Case.archived_at.is_(None)
