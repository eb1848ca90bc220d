"""For tests of the audit trail: read its events, and act as an attacker with DDL rights."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent


def events(app) -> list[AuditEvent]:
    """Every audit event, oldest first."""
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


GUARDS = ("audit_event_no_update", "audit_event_no_delete", "audit_event_no_truncate")


def drop_audit_guards(app) -> None:
    """Drop the triggers that make ``audit_event`` append-only (what an attacker who owns the
    database can do; the anchors kept outside it are what still catches the tampering)."""
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.begin() as con:
            for name in GUARDS:
                con.execute(
                    sa.text(
                        f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON audit_event")
                    )
                )
