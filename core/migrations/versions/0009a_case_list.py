"""the case list at scale: a case's next deadline on its row, one index per filter and sort

Revision ID: 0009a_case_list
Revises: 0008b_report_indexes
Create Date: 2026-12-03 15:30:00

``next_due_at`` / ``next_due_name`` hold the soonest running deadline (kept by the service
layer from now on; filled here from ``case_deadline``). The case list's filters and sorts each
read a range of one index, business line first, over the working or the archived cases
(bench/lists.py). On PostgreSQL, prefix search of the number, the batch and the customer's name
uses ``varchar_pattern_ops`` (LIKE 'x%' whatever the collation).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009a_case_list'
down_revision = '0008b_report_indexes'
branch_labels = None
depends_on = None

LIVE = sa.text('archived_at IS NULL')
ARCHIVED = sa.text('archived_at IS NOT NULL')
INDEXES = [
    ('ix_case_live_received',
     ['business_line_id', 'received_at', 'id', 'next_due_at', 'is_major', 'priority'], LIVE),
    ('ix_case_live_category', ['business_line_id', 'category', 'received_at', 'id'], LIVE),
    ('ix_case_live_status', ['business_line_id', 'status', 'received_at', 'id'], LIVE),
    ('ix_case_live_due', ['business_line_id', 'next_due_at', 'id'], LIVE),
    ('ix_case_archived_received', ['business_line_id', 'received_at', 'id'], ARCHIVED),
    ('ix_case_handler_received', ['handler_id', 'received_at'], None),
    ('ix_case_creator_received', ['created_by_id', 'received_at'], None),
]


def upgrade():
    with op.batch_alter_table('kesu_case') as batch:
        batch.add_column(sa.Column('next_due_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('next_due_name', sa.String(length=64), nullable=True))
    # The soonest running deadline; of two due at once, the first name (as the service does).
    op.execute(
        "UPDATE kesu_case SET next_due_at = (SELECT min(d.due_at) FROM case_deadline d"
        " WHERE d.case_id = kesu_case.id AND d.state = 'running')"
    )
    op.execute(
        "UPDATE kesu_case SET next_due_name = (SELECT min(d.name) FROM case_deadline d"
        " WHERE d.case_id = kesu_case.id AND d.state = 'running'"
        " AND d.due_at = kesu_case.next_due_at) WHERE next_due_at IS NOT NULL"
    )
    for name, columns, where in INDEXES:
        op.create_index(
            name, 'kesu_case', columns, sqlite_where=where, postgresql_where=where
        )
    for name, column in (('ix_case_line_number', 'number'), ('ix_case_line_batch', 'batch_no')):
        op.create_index(
            name, 'kesu_case', ['business_line_id', column],
            postgresql_ops={column: 'varchar_pattern_ops'},
        )
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(
            'ix_customer_name_prefix', 'customer', ['business_line_id', 'name'],
            postgresql_ops={'name': 'varchar_pattern_ops'},
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_customer_name_prefix', table_name='customer')
    op.drop_index('ix_case_line_batch', table_name='kesu_case')
    op.drop_index('ix_case_line_number', table_name='kesu_case')
    for name, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name='kesu_case')
    with op.batch_alter_table('kesu_case') as batch:
        batch.drop_column('next_due_name')
        batch.drop_column('next_due_at')
