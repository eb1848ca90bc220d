"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Model):
    """Who did what, when, to which record: ``changes`` maps field to ``[old, new]``."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    actor: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    case_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    entity: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)


class AuditChainHead(Model):
    """One row holding the chain's last hash; locking it orders concurrent writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int | None] = mapped_column(sa.Integer)
    last_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=GENESIS_HASH)
