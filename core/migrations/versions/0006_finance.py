"""finance: compensation lines carried out and exported, export batches, return visits

Revision ID: 0006_finance
Revises: 0005c_idempotency
Create Date: 2026-12-02 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_finance'
down_revision = '0005c_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('business_line_id', sa.Integer(), nullable=False),
    sa.Column('approved_from', sa.Date(), nullable=True),
    sa.Column('approved_to', sa.Date(), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('xlsx_sha256', sa.String(length=64), nullable=False),
    sa.Column('csv_sha256', sa.String(length=64), nullable=False),
    sa.Column('xlsx', sa.LargeBinary(), nullable=False),
    sa.Column('csv', sa.LargeBinary(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['business_line_id'], ['business_line.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['voided_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('export_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_batch_business_line_id'), ['business_line_id'], unique=False)

    with op.batch_alter_table('compensation_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('approved_round', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exec_status', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('exec_reference', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exec_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('exec_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exec_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('credit_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_compensation_line_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key('fk_compensation_line_exec_by_id', 'ab_user', ['exec_by_id'], ['id'])
        batch_op.create_foreign_key('fk_compensation_line_batch_id', 'export_batch', ['batch_id'], ['id'])

    op.create_table('export_batch_line',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['export_batch.id'], ),
    sa.ForeignKeyConstraint(['line_id'], ['compensation_line.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'line_id')
    )
    with op.batch_alter_table('export_batch_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_batch_line_line_id'), ['line_id'], unique=False)

    op.create_table('case_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('followup', sa.String(length=16), nullable=True),
    sa.Column('followup_reason', sa.Text(), nullable=True),
    sa.Column('followup_by_id', sa.Integer(), nullable=True),
    sa.Column('followup_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['kesu_case.id'], ),
    sa.ForeignKeyConstraint(['followup_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_visit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_visit_followup'), ['followup'], unique=False)

    # Lines of cases already past their approval were approved then: they are frozen and
    # their money and goods are taken as carried out if the case is past execution.
    op.execute(
        "UPDATE compensation_line SET approved_at = (SELECT updated_at FROM kesu_case"
        " WHERE kesu_case.id = compensation_line.case_id),"
        " approved_round = (SELECT max(round) FROM approval_step"
        " WHERE approval_step.case_id = compensation_line.case_id)"
        " WHERE case_id IN (SELECT id FROM kesu_case WHERE status IN"
        " ('executing', 'confirming', 'verifying', 'closed'))"
    )
    op.execute(
        "UPDATE compensation_line SET exec_status = 'done', exec_at = approved_at"
        " WHERE case_id IN (SELECT id FROM kesu_case WHERE status IN"
        " ('confirming', 'verifying', 'closed'))"
    )


def downgrade():
    op.drop_table('case_visit')
    op.drop_table('export_batch_line')
    with op.batch_alter_table('compensation_line', schema=None) as batch_op:
        batch_op.drop_constraint('fk_compensation_line_batch_id', type_='foreignkey')
        batch_op.drop_constraint('fk_compensation_line_exec_by_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_compensation_line_batch_id'))
        for name in ('batch_id', 'credit_due_on', 'exec_at', 'exec_by_id', 'exec_reason',
                     'exec_reference', 'exec_status', 'approved_round', 'approved_at'):
            batch_op.drop_column(name)
    op.drop_table('export_batch')
