"""The case (客诉) and what hangs off it: evidence, compensation lines, approval steps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import limits
from core.db import Money, UTCDateTime, utcnow
from core.models.business_line import BusinessLine, Department
from core.models.customer import Customer, Product
from core.models.root_cause import RootCause
from core.models.sla import CaseDeadline
from core.models.user import KesuUser


def _live_index(name: str, *columns: str, archived: bool = False) -> sa.Index:
    """An index over the working cases only (or, ``archived``, the archived ones)."""
    where = sa.text("archived_at IS NOT NULL" if archived else "archived_at IS NULL")
    return sa.Index(name, *columns, sqlite_where=where, postgresql_where=where)


class Case(Model):
    __tablename__ = "kesu_case"
    __table_args__ = (
        sa.Index("ix_case_line_status", "business_line_id", "status"),
        sa.Index("ix_case_customer_received", "customer_id", "received_at"),
        # The monthly report: a line's cases by time received (bench/report.py).
        sa.Index("ix_case_line_received", "business_line_id", "received_at"),
        # The case list (core.services.case_query): each filter and sort it offers is a range
        # of one of these, business line first, working (not archived) cases only.
        # (the first also holds what "overdue", "major" and a priority test, so that walking
        # it newest first reads the index alone)
        _live_index(
            "ix_case_live_received",
            "business_line_id",
            "received_at",
            "id",
            "next_due_at",
            "is_major",
            "priority",
        ),
        _live_index("ix_case_live_category", "business_line_id", "category", "received_at", "id"),
        _live_index("ix_case_live_status", "business_line_id", "status", "received_at", "id"),
        _live_index("ix_case_live_due", "business_line_id", "next_due_at", "id"),
        _live_index(
            "ix_case_archived_received", "business_line_id", "received_at", "id", archived=True
        ),
        sa.Index("ix_case_handler_received", "handler_id", "received_at"),
        sa.Index("ix_case_creator_received", "created_by_id", "received_at"),
        # Search by a prefix of the number or the batch within the reader's lines (GLOB on
        # SQLite; LIKE 'x%' on PostgreSQL, whatever the database's collation).
        sa.Index(
            "ix_case_line_number",
            "business_line_id",
            "number",
            postgresql_ops={"number": "varchar_pattern_ops"},
        ),
        sa.Index(
            "ix_case_line_batch",
            "business_line_id",
            "batch_no",
            postgresql_ops={"batch_no": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    business_line_id: Mapped[int] = mapped_column(sa.ForeignKey("business_line.id"), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="new")
    held_from: Mapped[str | None] = mapped_column(sa.String(16))
    # When the current hold began (the SLA clocks stop until resume).
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    priority: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="P3")
    priority_reasons: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    # A priority set by hand wins over the computed one; the reason is required and audited.
    priority_override: Mapped[str | None] = mapped_column(sa.String(2))
    priority_override_reason: Mapped[str | None] = mapped_column(sa.Text)
    is_major: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    major_reasons: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)
    acceptance_issues: Mapped[list[dict[str, Any]]] = mapped_column(
        sa.JSON, nullable=False, default=list
    )
    acceptance_override: Mapped[str | None] = mapped_column(sa.Text)

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), nullable=False)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    batch_no: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    quantity_purchased: Mapped[int | None] = mapped_column(sa.Integer)
    purchase_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    goods_received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    problem_stage: Mapped[str | None] = mapped_column(sa.String(16))
    purchasing_unit: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    demand: Mapped[str | None] = mapped_column(sa.String(16))
    claim_amount: Mapped[Decimal | None] = mapped_column(Money)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    deadlines: Mapped[dict[str, str]] = mapped_column(sa.JSON, nullable=False, default=dict)
    # When the case last entered each stage (ISO 8601, UTC).
    stage_times: Mapped[dict[str, str]] = mapped_column(sa.JSON, nullable=False, default=dict)

    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    # The catalogue entry chosen with the root cause (core.models.root_cause); the text above
    # stays the explanation.
    root_cause_id: Mapped[int | None] = mapped_column(sa.ForeignKey("root_cause.id"), index=True)
    proposal_note: Mapped[str | None] = mapped_column(sa.Text)
    verified_effective: Mapped[bool | None] = mapped_column(sa.Boolean)

    # Archived (归档): a closed case past the line's retention, read-only and out of the working
    # lists, still in the ledger and the reports. Nothing is ever deleted.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    archived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))

    # The soonest running deadline (None when none runs) and its name, kept by
    # core.services.sla_deadlines.sync_deadlines: "overdue" and "by next deadline" in the case
    # list are a range of ix_case_live_due.
    next_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_due_name: Mapped[str | None] = mapped_column(sa.String(64))

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))

    business_line: Mapped[BusinessLine] = relationship(lazy="joined")
    customer: Mapped[Customer] = relationship(lazy="joined")
    product: Mapped[Product | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    handler: Mapped[KesuUser | None] = relationship(foreign_keys=[handler_id])
    created_by: Mapped[KesuUser | None] = relationship(foreign_keys=[created_by_id])
    root_cause_entry: Mapped[RootCause | None] = relationship(lazy="joined")
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="case", order_by="Evidence.id", lazy="selectin"
    )
    compensation: Mapped[list[CompensationLine]] = relationship(
        back_populates="case",
        order_by="CompensationLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    deadline_rows: Mapped[list[CaseDeadline]] = relationship(
        order_by="(CaseDeadline.due_at, CaseDeadline.name)",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    approvals: Mapped[list[ApprovalStep]] = relationship(
        back_populates="case",
        order_by="(ApprovalStep.round, ApprovalStep.seq)",
        lazy="selectin",
    )

    visits: Mapped[list[CaseVisit]] = relationship(
        back_populates="case", order_by="(CaseVisit.visited_at, CaseVisit.id)", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.number


class Evidence(Model):
    """A photo, video, document or signed delivery note, with its source and time received."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    source: Mapped[str | None] = mapped_column(sa.String(200))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="evidence")
    uploaded_by: Mapped[KesuUser | None] = relationship()


class CompensationLine(Model):
    """One compensation line; every line carries the case number through its case."""

    __tablename__ = "compensation_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    quantity: Mapped[int | None] = mapped_column(sa.Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Money, info={"max_value": limits.UNIT_PRICE})
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    batch_no: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    # Approval: set once, when the case passes its approval with this line; from then on the
    # line is never changed or deleted (a correction is a new line). ``approved_round`` names
    # the approval round whose signers approved it (none when the category needs no approval).
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_round: Mapped[int | None] = mapped_column(sa.Integer)
    # Execution (core.services.execution): pending -> done (ERP document reference) or
    # cancelled (reason); who and when.
    exec_status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")
    exec_reference: Mapped[str | None] = mapped_column(sa.String(64))
    exec_reason: Mapped[str | None] = mapped_column(sa.Text)
    exec_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    exec_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Reship before recall: a money line still pending when the case's goods went out is due
    # by the end of that calendar month (the line's time zone).
    credit_due_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    # The export batch that holds the line (null: not exported, or its batch was voided).
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("export_batch.id"), index=True)

    case: Mapped[Case] = relationship(back_populates="compensation")
    exec_by: Mapped[KesuUser | None] = relationship(foreign_keys=[exec_by_id], lazy="joined")
    batch: Mapped[ExportBatch | None] = relationship(lazy="joined")


class ApprovalStep(Model):
    """One sign-off of a proposal: who may decide, who did, when, what and why."""

    __tablename__ = "approval_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    round: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    step: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    decision: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)

    case: Mapped[Case] = relationship(back_populates="approvals")
    decided_by: Mapped[KesuUser | None] = relationship(lazy="joined")


class CaseVisit(Model):
    """A return visit (回访) after closing: when, how, the satisfaction score 1-5, a comment.

    A score of 2 or lower puts the case on the supervisor's reopen list (``followup`` is
    ``pending``) until the case is reopened (``reopened``) or the visit dismissed with a reason
    (``dismissed``).
    """

    __tablename__ = "case_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("kesu_case.id"), nullable=False, index=True)
    visited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    satisfaction: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    followup: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    followup_reason: Mapped[str | None] = mapped_column(sa.Text)
    followup_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    followup_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="visits")
    by: Mapped[KesuUser | None] = relationship(foreign_keys=[by_id], lazy="joined")
    followup_by: Mapped[KesuUser | None] = relationship(foreign_keys=[followup_by_id])


class ExportBatch(Model):
    """A finance export (credit-note or reshipment list): its lines, file and checksum.

    The file is written once, in the exporter's language, and stored here, so a download
    gives the same bytes every time. Voiding it makes its lines eligible again.
    """

    __tablename__ = "export_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id"), nullable=False, index=True
    )
    approved_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    approved_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    line_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False)
    locale: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    xlsx_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    csv_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    xlsx: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False, deferred=True)
    csv: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False, deferred=True)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.Text)

    business_line: Mapped[BusinessLine] = relationship(lazy="joined")
    created_by: Mapped[KesuUser | None] = relationship(foreign_keys=[created_by_id], lazy="joined")
    voided_by: Mapped[KesuUser | None] = relationship(foreign_keys=[voided_by_id])


class ExportBatchLine(Model):
    """Which compensation lines a batch took: kept when the batch is voided (its history)."""

    __tablename__ = "export_batch_line"

    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("export_batch.id"), primary_key=True)
    line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("compensation_line.id"), primary_key=True, index=True
    )


class CaseCounter(Model):
    """The last case number given out in a month; incremented in the creating transaction."""

    __tablename__ = "case_counter"

    period: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    last: Mapped[int] = mapped_column(sa.Integer, nullable=False)
