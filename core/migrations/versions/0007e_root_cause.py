"""one root cause per case: product quality's ``details.root_cause`` moves to the case's column

Revision ID: 0007e_root_cause
Revises: 0007b_department_head
Create Date: 2026-12-02 21:45:00

A case had two root-cause fields: the core's ``kesu_case.root_cause`` (written by ``propose``,
shown on the approval form) and the product_quality plugin's ``details.root_cause``. The
plugin now reads and writes the core's. A case whose core field is empty takes the plugin's
text; the key leaves ``details`` either way (when both hold different texts the core's, the one
``propose`` used and the approval form printed, is kept and the plugin's is appended to it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007e_root_cause'
down_revision = '0007b_department_head'
branch_labels = None
depends_on = None

CASES = sa.table(
    'kesu_case',
    sa.column('id', sa.Integer()),
    sa.column('details', sa.JSON()),
    sa.column('root_cause', sa.Text()),
)


def merged(core, plugin):
    """The one root cause of a case from its two fields."""
    core = (core or '').strip()
    plugin = (plugin or '').strip() if isinstance(plugin, str) else ''
    if not plugin or plugin == core:
        return core or None
    if not core:
        return plugin
    return f'{core}\n{plugin}'


def move_root_causes(connection) -> int:
    """Move every ``details.root_cause`` into ``root_cause``; returns the number of cases."""
    moved = 0
    rows = connection.execute(sa.select(CASES.c.id, CASES.c.details, CASES.c.root_cause)).all()
    for pk, details, root_cause in rows:
        if not isinstance(details, dict) or 'root_cause' not in details:
            continue
        rest = {k: v for k, v in details.items() if k != 'root_cause'}
        connection.execute(
            CASES.update()
            .where(CASES.c.id == pk)
            .values(details=rest, root_cause=merged(root_cause, details['root_cause']))
        )
        moved += 1
    return moved


def upgrade():
    move_root_causes(op.get_bind())


def downgrade():
    pass  # the texts stay in the case's root cause, which every version reads
