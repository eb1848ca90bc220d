"""audit events are append-only: the database refuses UPDATE, DELETE (and TRUNCATE)

Revision ID: 0005b_audit
Revises: 0005a_auth
Create Date: 2026-12-02 13:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005b_audit'
down_revision = '0005a_auth'
branch_labels = None
depends_on = None

MESSAGE = 'audit events are append-only'


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION kesu_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    for verb in ('UPDATE', 'DELETE'):
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION kesu_audit_append_only()"
        )
    # TRUNCATE skips row triggers.
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION kesu_audit_append_only()"
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for verb in ('update', 'delete') if sqlite else ('update', 'delete', 'truncate'):
        op.execute(
            f"DROP TRIGGER IF EXISTS audit_event_no_{verb}"
            + ("" if sqlite else " ON audit_event")
        )
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS kesu_audit_append_only()")
