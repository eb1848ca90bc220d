"""product_quality: a corrective or preventive action reported done

Revision ID: pq0002
Revises: pq0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "pq0002"
down_revision = "pq0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quality_capa_action") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("done_note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("quality_capa_action") as batch:
        batch.drop_column("done_note")
        batch.drop_column("done_by")
        batch.drop_column("done_at")
