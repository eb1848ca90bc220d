"""Business lines (业务线), the plugins enabled on each, and departments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_LOCALE = "zh_CN"


class BusinessLine(Model):
    """A company, brand or channel with its own settings and enabled plugins."""

    __tablename__ = "business_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=DEFAULT_TIMEZONE)
    locale: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=DEFAULT_LOCALE)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # The core's thresholds for this line (see core.settings); plugins keep theirs per plugin.
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    # Moves on with every change of the line's calendar days (cached calendars key on it).
    calendar_revision: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0"
    )
    # Set with a change of the calendar or settings; cleared once every open case of the line
    # has its deadlines recomputed (the sweep finishes a refresh that was interrupted).
    sla_refresh_pending: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )

    plugins: Mapped[list[LinePlugin]] = relationship(
        back_populates="business_line", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:  # shown in pickers
        return f"{self.code} {self.name}"

    @property
    def enabled_plugin_keys(self) -> frozenset[str]:
        return frozenset(p.plugin_key for p in self.plugins)


class LinePlugin(Model):
    """A plugin switched on for a business line, with its settings for that line."""

    __tablename__ = "line_plugin"
    __table_args__ = (sa.UniqueConstraint("business_line_id", "plugin_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id", ondelete="CASCADE"), nullable=False
    )
    plugin_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)

    business_line: Mapped[BusinessLine] = relationship(back_populates="plugins")


class Department(Model):
    """A department that can be made responsible for a case (责任部门)."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    # The department's head: told, with the handler, when a case is assigned to it.
    head_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    head: Mapped[Any] = relationship("KesuUser", foreign_keys=[head_id])

    def __repr__(self) -> str:
        return self.name
