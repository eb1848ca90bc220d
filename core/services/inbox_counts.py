"""The navbar's counts: unread notifications and approvals waiting for the signed-in user.

Each count is a fixed number of statements, whatever the number of cases (it runs on every
page): the pending steps are read in one query and matched against the user's positions.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import ApprovalStep, Case, KesuUser
from core.services import notifications, positions
from core.services.access import can, line_filter


def waiting_count(actor: KesuUser) -> int:
    """How many cases wait for the actor's decision (the inbox, workflow.waiting_for)."""
    if not can(actor, "can_approve"):
        return 0
    held = {(p.business_line_id, p.position) for p in positions.user_positions(actor)}
    if not held:
        return 0
    rows = db.session.execute(
        sa.select(ApprovalStep.case_id, ApprovalStep.round, ApprovalStep.seq, ApprovalStep.role)
        .join(Case, Case.id == ApprovalStep.case_id)
        .add_columns(Case.business_line_id)
        .where(
            Case.status == "approving",
            ApprovalStep.decision == "pending",
            line_filter(actor, Case.business_line_id),
        )
    ).all()
    latest_round: dict[int, int] = {}
    for row in rows:
        latest_round[row.case_id] = max(latest_round.get(row.case_id, 0), row.round)
    # A case's waiting step: the first pending one of its latest round.
    first: dict[int, tuple] = {}
    for row in rows:
        if row.round == latest_round[row.case_id]:
            if row.case_id not in first or row.seq < first[row.case_id].seq:
                first[row.case_id] = row
    return sum(
        1
        for row in first.values()
        if any((row.business_line_id, p) in held for p in row.role.split("|"))
    )


def counts(actor) -> dict[str, int]:
    """``{"unread": …, "waiting": …}`` for the navbar (zeros for an anonymous visitor)."""
    if not isinstance(actor, KesuUser) or not actor.is_authenticated:
        return {"unread": 0, "waiting": 0}
    return {"unread": notifications.unread_count(actor), "waiting": waiting_count(actor)}
