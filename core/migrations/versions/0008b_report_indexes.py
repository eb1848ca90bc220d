"""the monthly report's index: a line's cases by time received

Revision ID: 0008b_report_indexes
Revises: 0008a_ledger_foundation
Create Date: 2026-12-03 12:00:00

The monthly report reads one line's cases received in a month (and, for the cases closed in it
and still open at its end, the line's cases received before its end): ``(business_line_id,
received_at)`` answers both by a range of the index; SLA attainment then reads each case's
target deadlines by ``(case_id, name)`` (bench/report.py).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008b_report_indexes'
down_revision = '0008a_ledger_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_case_line_received', 'kesu_case', ['business_line_id', 'received_at'], unique=False
    )


def downgrade():
    op.drop_index('ix_case_line_received', table_name='kesu_case')
