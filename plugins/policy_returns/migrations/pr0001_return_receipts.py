"""policy_returns: warehouse receipts of returned goods

Revision ID: pr0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "pr0001"
down_revision = None
branch_labels = ("policy_returns",)
depends_on = "0002"


def upgrade():
    op.create_table(
        "return_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("batch_no", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["kesu_case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_return_receipt_case_id", "return_receipt", ["case_id"])


def downgrade():
    op.drop_index("ix_return_receipt_case_id", table_name="return_receipt")
    op.drop_table("return_receipt")
