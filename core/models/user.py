"""Staff: Flask-AppBuilder's user, extended with business-line membership and a department."""

from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.business_line import BusinessLine, Department

user_business_line = sa.Table(
    "user_business_line",
    Model.metadata,
    sa.Column("user_id", sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "business_line_id",
        sa.ForeignKey("business_line.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class KesuUser(User):
    """A staff member: sees and changes only the cases of the business lines they belong to."""

    __tablename__ = "ab_user"

    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL"), nullable=True
    )
    department: Mapped[Department | None] = relationship(
        foreign_keys=[department_id], lazy="joined"
    )
    business_lines: Mapped[list[BusinessLine]] = relationship(
        secondary=user_business_line, lazy="selectin", order_by=BusinessLine.code
    )
    # Raised on a password change, a deactivation and a sign-out; sessions and tokens carry
    # the value they were issued under and stop working once it moves on.
    auth_epoch: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0"
    )

    @property
    def display_name(self) -> str:
        name = f"{self.last_name or ''}{self.first_name or ''}".strip()
        return name or self.username

    def get_full_name(self) -> str:
        """Surname first, as Chinese names are written (Flask-AppBuilder puts the given name
        first); pick lists and the user screens show it."""
        return self.display_name

    def __repr__(self) -> str:
        return self.display_name
