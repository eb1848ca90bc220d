"""The overdue sweep: flag every passed running deadline once and escalate it to the line's
CS supervisors (or, failing them, its managers or the administrators)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from core.db import UTCDateTime, utcnow, write_transaction
from core.extensions import db
from core.models import BusinessLine
from core.roles import CS_SUPERVISOR
from core.services import audit
from core.services.sla_refresh import finish_pending_refreshes

# The sweep's condition, written out literally so that SQLite and PostgreSQL use the partial
# index ix_case_deadline_sweep (a bound parameter would not match the index's predicate).
_SWEEPABLE = "state = 'running' AND escalated_at IS NULL AND due_at < :now"
SWEEP_UPDATE_SQL = (
    f"UPDATE case_deadline SET overdue_at = :now, escalated_at = :now WHERE {_SWEEPABLE} "
    "RETURNING business_line_id"
)

# -- the sweep -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    now: dt.datetime
    per_line: dict[str, int]  # line code -> deadlines escalated now

    @property
    def total(self) -> int:
        return sum(self.per_line.values())


def sweep(actor=None, now: dt.datetime | None = None) -> SweepResult:
    """Flag every running deadline that has passed and escalate it, once, to the CS
    supervisors of its line: one in-app digest per line and, when SMTP is configured, one
    e-mail per supervisor. Set-based; running it again at once changes nothing."""
    from core.services import mail
    from core.services.notifications import N_, notify

    now = now or utcnow()
    finish_pending_refreshes(actor)
    statement = sa.text(SWEEP_UPDATE_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime))
    with write_transaction():
        # One statement flags the rows and names their lines: what is counted is exactly what
        # was escalated, even with two sweeps at once.
        escalated = Counter(db.session.execute(statement, {"now": now}).scalars())
        per_line: dict[str, int] = {}
        outbox = []
        for line_id, count in sorted(escalated.items()):
            line = db.session.get(BusinessLine, line_id)
            per_line[line.code] = count
            recipients = escalation_recipients(line)
            message = N_("%(count)s deadlines passed on %(line)s; the cases are escalated to you.")
            link = f"/cases/?business_line={line.code}&overdue=true"
            notify(recipients, "overdue", message, {"count": count, "line": line.name}, link=link)
            audit.record(
                actor,
                "sweep",
                entity="business_line",
                entity_id=line.id,
                changes={"escalated": count, "to": [u.username for u in recipients]},
            )
            outbox.append((line, count, recipients, link))
        from core.services.capa import notify_overdue

        notify_overdue(now)  # overdue corrective actions reach their department heads
    for line, count, recipients, link in outbox:
        mail.send_overdue_digest(line, count, recipients, link)
    return SweepResult(now, per_line)


def escalation_recipients(line: BusinessLine) -> list:
    """Who hears of a line's overdue cases: its CS supervisors; if it has none, its managers;
    if none either, the administrators (an escalation never goes nowhere)."""
    from core.models import KesuUser
    from core.roles import ADMIN, MANAGER
    from core.services.notifications import line_staff

    for roles in ([CS_SUPERVISOR], [MANAGER]):
        staff = line_staff(line.id, roles)
        if staff:
            return staff
    return list(
        db.session.scalars(
            sa.select(KesuUser)
            .where(KesuUser.active.is_(True), KesuUser.roles.any(name=ADMIN))
            .order_by(KesuUser.username)
        )
    )
