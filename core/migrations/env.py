"""Alembic environment: Kesu's models (including Flask-AppBuilder's security tables)."""

from alembic import context
from flask import current_app
from flask_appbuilder import Model

import core.models  # noqa: F401  (complete the metadata)
from core.db import declared_for

config = context.config


def run_migrations_online() -> None:
    def process_revision_directives(ctx, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []  # no empty revisions

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("compare_type", True)
    engine = current_app.extensions["migrate"].db.engine
    conf_args.setdefault("include_object", lambda obj, *_: declared_for(obj, engine.dialect.name))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Model.metadata,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=current_app.config["SQLALCHEMY_DATABASE_URI"],
        target_metadata=Model.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
