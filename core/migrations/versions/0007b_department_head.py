"""department head: told, with the handler, when a case is assigned to the department

Revision ID: 0007b_department_head
Revises: 0006_finance
Create Date: 2026-12-02 21:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007b_department_head"
down_revision = "0006_finance"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_department_head_id_ab_user", "ab_user", ["head_id"], ["id"], ondelete="SET NULL"
        )


def downgrade():
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_constraint("fk_department_head_id_ab_user", type_="foreignkey")
        batch_op.drop_column("head_id")
