"""A case-list filter a user saved under a name (core.services.saved_filters)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow


class SavedFilter(Model):
    __tablename__ = "saved_filter"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_saved_filter_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    # The list's query string, its filters checked when saved (core.services.case_lists).
    query: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
