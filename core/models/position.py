"""Positions (职位) users hold per business line: who may decide which approval step."""

from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.business_line import BusinessLine
from core.models.user import KesuUser


class LinePosition(Model):
    """User ``user`` holds ``position`` (e.g. ``marketing_director``) on a business line."""

    __tablename__ = "line_position"
    __table_args__ = (sa.UniqueConstraint("user_id", "business_line_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[str] = mapped_column(sa.String(32), nullable=False)

    user: Mapped[KesuUser] = relationship(lazy="joined")
    business_line: Mapped[BusinessLine] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"{self.user.username}@{self.business_line.code}:{self.position}"
