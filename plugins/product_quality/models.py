"""The product-quality plugin's own table: corrective and preventive actions (CAPA)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow

ACTION_KINDS = ("corrective", "preventive")


class CapaAction(Model):
    """A corrective or preventive action a responsible unit commits to, with its due date."""

    __tablename__ = "quality_capa_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    responsible_unit: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    due_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The responsible unit reports the action carried out; QA then verifies its effect.
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    done_note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
