"""deadline restarts, holds on the clock, pending deadline refreshes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('hold_clock_seconds', sa.Integer(), server_default='0', nullable=False)
        )

    with op.batch_alter_table('business_line', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sla_refresh_pending', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('business_line', schema=None) as batch_op:
        batch_op.drop_column('sla_refresh_pending')

    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.drop_column('hold_clock_seconds')
        batch_op.drop_column('started_at')
