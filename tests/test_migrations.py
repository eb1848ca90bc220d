"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL.

The test database is made by ``kesu init`` (the migrations), so a column or index added to a
model without its migration would only show up as a failure somewhere else, or not at all.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from core.db import declared_for
from core.extensions import db


def test_the_migrated_schema_is_the_models_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        dialect = connection.dialect.name
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, *_: declared_for(obj, dialect),
            },
        )
        assert compare_metadata(context, Model.metadata) == []
