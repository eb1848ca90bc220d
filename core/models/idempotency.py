"""Stored first answers of API requests sent with an ``Idempotency-Key`` (core.api.idempotency)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow

MAX_KEY_LENGTH = 255


class IdempotencyKey(Model):
    """One user's key, the fingerprint of the request it first came with, and the answer.

    Written in the same transaction as the record the request created, so a key exists
    exactly when its record does.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH), nullable=False)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
