"""Records kept for good (DOMAIN.md section 2: cases are never deleted; the audit trail shows
that nothing was altered afterwards).

A flush that would delete one of them fails, whatever route or service asked for it. Approved
compensation lines are kept too (a correction is a new line); a line not approved yet may still
be replaced while the proposal is drafted.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.models.audit import AuditEvent
from core.models.case import (
    ApprovalStep,
    Case,
    CaseVisit,
    CompensationLine,
    Evidence,
    ExportBatch,
    ExportBatchLine,
)
from core.models.root_cause import RootCause

KEPT = (
    Case,
    AuditEvent,
    ApprovalStep,
    CaseVisit,
    Evidence,
    ExportBatch,
    ExportBatchLine,
    RootCause,
)
# Their tables, for checks on SQL (tests/test_authz_matrix.py watches every route's statements).
KEPT_TABLES = frozenset(model.__tablename__ for model in KEPT)


class KeptRecordDeleted(RuntimeError):
    """A kept record was about to be deleted: a programming error, never a user's."""


@sa.event.listens_for(Session, "before_flush")
def _refuse_deleting_kept_records(session, flush_context, instances) -> None:
    for obj in session.deleted:
        kept = isinstance(obj, KEPT) or (
            isinstance(obj, CompensationLine) and obj.approved_at is not None
        )
        if kept:
            raise KeptRecordDeleted(f"{type(obj).__name__} {getattr(obj, 'id', '?')} is kept")
