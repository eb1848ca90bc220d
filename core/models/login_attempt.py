"""Sign-in attempts: the throttle's shared memory, kept in the database so that every worker
process of an installation counts the same failures."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, utcnow


class LoginAttempt(Model):
    """One attempt to sign in, on the form or the API.

    ``account`` is the user's id (``u:<id>``) when the name is known, else the normalised name
    given (``n:<name>``); ``outcome`` is ``pending`` while the password is being checked, then
    ``failed`` or ``ok``. A successful sign-in sets ``account_cleared`` on that account's rows:
    they stop counting against the account but still count against the address they came from.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_account_at", "account", "at"),
        sa.Index("ix_login_attempt_address_at", "address", "at"),
        sa.Index("ix_login_attempt_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    account: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    address: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(sa.String(8), nullable=False, default="pending")
    account_cleared: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
