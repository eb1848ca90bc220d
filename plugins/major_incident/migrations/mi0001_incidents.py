"""major_incident: incidents and their cases

Revision ID: mi0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "mi0001"
down_revision = None
branch_labels = ("major_incident",)
depends_on = "0002"


def upgrade():
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_line_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("batch_no", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["business_line_id"], ["business_line.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_batch", "incident", ["business_line_id", "product_id", "batch_no"])
    op.create_table(
        "incident_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["kesu_case.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index("ix_incident_case_incident_id", "incident_case", ["incident_id"])


def downgrade():
    op.drop_index("ix_incident_case_incident_id", table_name="incident_case")
    op.drop_table("incident_case")
    op.drop_index("ix_incident_batch", table_name="incident")
    op.drop_table("incident")
