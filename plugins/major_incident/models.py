"""The major-incident plugin's own tables: incidents and the cases they group."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.models import BusinessLine, Case, Product


class Incident(Model):
    """A batch outbreak: several complaints about one batch, handled as one major incident."""

    __tablename__ = "incident"
    __table_args__ = (sa.Index("ix_incident_batch", "business_line_id", "product_id", "batch_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(sa.ForeignKey("business_line.id"), nullable=False)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    batch_no: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    business_line: Mapped[BusinessLine] = relationship(lazy="joined")
    product: Mapped[Product | None] = relationship(lazy="joined")
    links: Mapped[list[IncidentCase]] = relationship(
        back_populates="incident", order_by="IncidentCase.id"
    )


class IncidentCase(Model):
    __tablename__ = "incident_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        sa.ForeignKey("incident.id"), nullable=False, index=True
    )
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, unique=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="links")
    case: Mapped[Case] = relationship()
