"""root-cause catalogue per line, a case's chosen entry, archived cases

Revision ID: 0008a_ledger_foundation
Revises: 0007f_saved_filter
Create Date: 2026-12-03 11:50:00

The catalogue is seeded for existing lines by ``kesu init`` / the line service (not here: its
names are in each line's language).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008a_ledger_foundation'
down_revision = '0007f_saved_filter'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('root_cause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_line_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['business_line_id'], ['business_line.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['root_cause.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('business_line_id', 'code', name='uq_root_cause_code')
    )
    op.create_index('ix_root_cause_business_line_id', 'root_cause', ['business_line_id'])
    op.create_index('ix_root_cause_parent_id', 'root_cause', ['parent_id'])
    with op.batch_alter_table('kesu_case') as batch:
        batch.add_column(sa.Column('root_cause_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('archived_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_case_root_cause', 'root_cause', ['root_cause_id'], ['id'])
        batch.create_foreign_key('fk_case_archived_by', 'ab_user', ['archived_by_id'], ['id'])
        batch.create_index('ix_kesu_case_root_cause_id', ['root_cause_id'])
        batch.create_index('ix_kesu_case_archived_at', ['archived_at'])


def downgrade():
    with op.batch_alter_table('kesu_case') as batch:
        batch.drop_index('ix_kesu_case_archived_at')
        batch.drop_index('ix_kesu_case_root_cause_id')
        batch.drop_constraint('fk_case_archived_by', type_='foreignkey')
        batch.drop_constraint('fk_case_root_cause', type_='foreignkey')
        batch.drop_column('archived_by_id')
        batch.drop_column('archived_at')
        batch.drop_column('root_cause_id')
    op.drop_index('ix_root_cause_parent_id', table_name='root_cause')
    op.drop_index('ix_root_cause_business_line_id', table_name='root_cause')
    op.drop_table('root_cause')
