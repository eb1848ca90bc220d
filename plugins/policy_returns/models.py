"""The policy-returns plugin's own table: what the central warehouse received."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow


class ReturnReceipt(Model):
    """Goods arriving at the central warehouse for a return, accepted or refused with the reason."""

    __tablename__ = "return_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    batch_no: Mapped[str | None] = mapped_column(sa.String(64))
    quantity: Mapped[int | None] = mapped_column(sa.Integer)
    accepted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    reasons: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
