"""Working calendars and the stored deadlines of cases (SLA, 时效)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime

CALENDAR_KINDS = ("holiday", "workday")  # a public holiday; a make-up working day (调休)
DEADLINE_STATES = ("running", "paused", "met", "void")


class CalendarDay(Model):
    """A date of a business line's calendar that differs from its working week."""

    __tablename__ = "calendar_day"
    __table_args__ = (sa.UniqueConstraint("business_line_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(100))


class CaseDeadline(Model):
    """One deadline of a case: when it falls due, whether it runs, when it was met.

    ``due_at`` already includes the time the case spent on hold: working time for a deadline
    in working time, time on the clock for one on the clock.
    The sweep flags a running deadline whose ``due_at`` passed (``overdue_at``) and escalates
    it once (``escalated_at``).
    """

    __tablename__ = "case_deadline"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "name"),
        # The sweep's index: only deadlines still waiting to be escalated.
        sa.Index(
            "ix_case_deadline_sweep",
            "due_at",
            "business_line_id",
            sqlite_where=sa.text("state = 'running' AND escalated_at IS NULL"),
            postgresql_where=sa.text("state = 'running' AND escalated_at IS NULL"),
        ),
        sa.Index("ix_case_deadline_line_name", "business_line_id", "name", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kesu_case.id", ondelete="CASCADE"), nullable=False
    )
    business_line_id: Mapped[int] = mapped_column(sa.ForeignKey("business_line.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[str] = mapped_column(sa.String(8), nullable=False, default="running")
    met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the deadline runs from, if not its rule's anchor (it restarted: a reopened case).
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Time spent on hold while it was open: working time, and time on the clock.
    hold_seconds: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    hold_clock_seconds: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0"
    )
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def late_seconds(self) -> int | None:
        """How late the deadline was met (0 when on time); None while open or void."""
        if self.met_at is None:
            return None
        return max(int((self.met_at - self.due_at).total_seconds()), 0)
