"""Positions per business line (DOMAIN.md section 7): who may decide which approval step."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import write_transaction
from core.extensions import db
from core.models import BusinessLine, KesuUser, LinePosition
from core.services import audit
from core.services.access import require
from core.services.errors import Conflict, Invalid
from core.vocab import POSITIONS

POSITIONS_VIEW = "LinePosition"


def holds(user, line_id: int, positions: Iterable[str]) -> bool:
    """Whether ``user`` holds any of ``positions`` on the line."""
    if not isinstance(user, KesuUser):
        return False
    wanted = set(positions)
    return any(p.business_line_id == line_id and p.position in wanted for p in user_positions(user))


def user_positions(user: KesuUser) -> list[LinePosition]:
    return list(db.session.scalars(sa.select(LinePosition).where(LinePosition.user_id == user.id)))


def holders(line_id: int, positions: Iterable[str]) -> list[KesuUser]:
    """The active users holding any of ``positions`` on the line."""
    return list(
        db.session.scalars(
            sa.select(KesuUser)
            .join(LinePosition, LinePosition.user_id == KesuUser.id)
            .where(
                LinePosition.business_line_id == line_id,
                LinePosition.position.in_(list(positions)),
                KesuUser.active.is_(True),
            )
            .distinct()
            .order_by(KesuUser.username)
        )
    )


def check(row: LinePosition) -> None:
    """A position is one the core knows, held on a line the user belongs to."""
    if row.position not in POSITIONS:
        raise Invalid(
            str(_l("Must be one of: %(values)s.", values=", ".join(POSITIONS))), field="position"
        )
    line_id = row.business_line_id or (row.business_line.id if row.business_line else None)
    user = row.user or (db.session.get(KesuUser, row.user_id) if row.user_id else None)
    if user is None or line_id not in {line.id for line in user.business_lines}:
        raise Conflict(_l("The user does not belong to this business line."), field="business_line")


def grant(actor, username: str, line_code: str, position: str) -> bool:
    """Give a user a position on a line (audited); False when they already hold it."""
    require(actor, "can_add", POSITIONS_VIEW)
    if position not in POSITIONS:
        raise Invalid(
            str(_l("Must be one of: %(values)s.", values=", ".join(POSITIONS))), field="position"
        )
    with write_transaction():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        if user is None:
            raise Invalid(_l("Unknown user."), field="user")
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == line_code))
        if line is None:
            raise Invalid(_l("Unknown business line."), field="line")
        if holds(user, line.id, [position]):
            return False
        row = LinePosition(user=user, business_line=line, position=position)
        check(row)
        db.session.add(row)
        db.session.flush()
        audit.record(
            actor,
            "create",
            entity="line_position",
            entity_id=row.id,
            changes={
                "user": [None, username],
                "business_line": [None, line_code],
                "position": [None, position],
            },
        )
    return True
