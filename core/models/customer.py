"""Customers (dealers, key accounts, consumers) and products, each kept per business line."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import limits
from core.db import Money
from core.models.business_line import BusinessLine


class Customer(Model):
    __tablename__ = "customer"
    __table_args__ = (
        sa.UniqueConstraint("business_line_id", "name"),
        # The case list's search by a prefix of the customer's name on PostgreSQL (LIKE 'x%'
        # whatever the collation); SQLite's GLOB uses the unique constraint's index.
        sa.Index(
            "ix_customer_name_prefix",
            "business_line_id",
            "name",
            postgresql_ops={"name": "varchar_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="dealer")
    contact: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(400))

    business_line: Mapped[BusinessLine] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return self.name


class Product(Model):
    __tablename__ = "product"
    __table_args__ = (sa.UniqueConstraint("business_line_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    unit_price: Mapped[Decimal | None] = mapped_column(Money, info={"max_value": limits.UNIT_PRICE})

    business_line: Mapped[BusinessLine] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"
