"""product_quality: corrective and preventive actions

Revision ID: pq0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "pq0001"
down_revision = None
branch_labels = ("product_quality",)
depends_on = "0002"


def upgrade():
    op.create_table(
        "quality_capa_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("responsible_unit", sa.String(length=128), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["kesu_case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quality_capa_action_case_id", "quality_capa_action", ["case_id"])


def downgrade():
    op.drop_index("ix_quality_capa_action_case_id", table_name="quality_capa_action")
    op.drop_table("quality_capa_action")
