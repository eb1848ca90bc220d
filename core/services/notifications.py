"""In-app notifications: alerts addressed to users, shown in each reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import Case, KesuUser, Notification
from core.models.user import user_business_line
from core.services.errors import NotFound


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext no-op marker
    """Mark a message for translation without translating it now (it is stored as a msgid)."""
    return message


def notify(
    users: Iterable[KesuUser],
    kind: str,
    message: str,
    params: Mapping[str, Any] | None = None,
    case: Case | None = None,
    link: str | None = None,
) -> list[Notification]:
    """Address a message to users, once each; runs in the caller's write transaction.

    ``message`` is a msgid marked with :func:`N_` and formatted with ``params`` when shown.
    """
    rows = []
    with write_transaction():
        for user in {u.id: u for u in users}.values():
            row = Notification(
                user_id=user.id,
                case_id=case.id if case else None,
                kind=kind,
                message=message,
                params=dict(params or {}),
                link=link,
            )
            db.session.add(row)
            rows.append(row)
        db.session.flush()
    return rows


def line_staff(line_id: int, roles: Iterable[str]) -> list[KesuUser]:
    """The active members of a business line who hold any of ``roles``."""
    return list(
        db.session.scalars(
            sa.select(KesuUser)
            .join(user_business_line, user_business_line.c.user_id == KesuUser.id)
            .join(assoc_user_role, assoc_user_role.c.user_id == KesuUser.id)
            .join(Role, Role.id == assoc_user_role.c.role_id)
            .where(
                user_business_line.c.business_line_id == line_id,
                Role.name.in_(list(roles)),
                KesuUser.active.is_(True),
            )
            .distinct()
            .order_by(KesuUser.username)
        )
    )


def sent(case_id: int, kind: str) -> bool:
    """Whether notifications of ``kind`` were already sent about a case."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.case_id == case_id, Notification.kind == kind)
        )
        > 0
    )


def text(row: Notification) -> str:
    """The notification in the current reader's language."""
    return gettext(row.message, **row.params)


def for_user(user: KesuUser, *, unread_only: bool = False, limit: int = 100) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: KesuUser) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user: KesuUser) -> int:
    """Mark all of the user's notifications read; returns how many were unread."""
    with write_transaction():
        result = db.session.execute(
            sa.update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return result.rowcount


def settle_case_notices(user_id: int | None, case_id: int, kind: str) -> None:
    """Mark read the unread notices of ``kind`` about a case — the user's, or everyone's when
    ``user_id`` is None: the work they announced is done (inside the acting write transaction)."""
    mine = Notification.user_id == user_id if user_id is not None else sa.true()
    db.session.execute(
        sa.update(Notification)
        .where(
            mine,
            Notification.case_id == case_id,
            Notification.kind == kind,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )


def open_one(user: KesuUser, notification_id: int) -> Notification:
    """Mark one of the user's notifications read and return it (404 if it is not theirs)."""
    with write_transaction():
        row = db.session.get(Notification, notification_id)
        if row is None or row.user_id != user.id:
            raise NotFound(_l("No such notification."), field="notification")
        if row.read_at is None:
            row.read_at = utcnow()
    return row
