"""A bare Flask-AppBuilder app: the baseline of the intake benchmark (bench/intake_http.py).

One 14-column table of complaints behind FAB's own ``ModelRestApi``, JWT sign-in at
``/api/v1/security/login`` and FAB's permission check on every call: what FAB does for a
create, and nothing else. The database comes from ``BARE_FAB_DATABASE_URL``.

    BARE_FAB_DATABASE_URL=sqlite:////tmp/bare.db python bench/bare_fab_intake.py init
    python -m gunicorn --workers 2 'bench.bare_fab_intake:create_app()'
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import sqlalchemy as sa
from flask import Flask
from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.sqla.base import SQLA
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.orm import Mapped, mapped_column

USER = "bench"
PASSWORD = "bench-bench-2026"
db = SQLA(session_options={"expire_on_commit": False})


class Complaint(Model):
    """Fourteen columns, like the core of a case row."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    business_line: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="new")
    priority: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="P3")
    customer: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    batch_no: Mapped[str | None] = mapped_column(sa.String(64))
    quantity_purchased: Mapped[int | None] = mapped_column(sa.Integer)
    received_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False, default=dt.datetime.utcnow
    )
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    claim_amount: Mapped[float | None] = mapped_column(sa.Numeric(12, 2))
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False, default=dt.datetime.utcnow
    )


class ComplaintApi(ModelRestApi):
    resource_name = "complaint"
    datamodel = SQLAInterface(Complaint)
    add_columns = [
        "number",
        "business_line",
        "category",
        "channel",
        "customer",
        "batch_no",
        "quantity_purchased",
        "description",
        "claim_amount",
    ]
    show_columns = [c.name for c in Complaint.__table__.columns]
    list_columns = show_columns


def create_app(update_perms: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="bench-bare-fab-secret-key-of-32-bytes-or-more",
        SQLALCHEMY_DATABASE_URI=os.environ["BARE_FAB_DATABASE_URL"],
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        FAB_UPDATE_PERMS=update_perms,
        FAB_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        AUTH_ROLE_ADMIN="Admin",
        AUTH_ROLE_PUBLIC="Public",
        JWT_ACCESS_TOKEN_EXPIRES=8 * 3600,
        WTF_CSRF_ENABLED=False,
    )
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_like_kesu(db.engine)
        appbuilder = AppBuilder(update_perms=update_perms)
        appbuilder.init_app(app, db.session)
        appbuilder.add_api(ComplaintApi)
    return app


def _sqlite_like_kesu(engine) -> None:
    """The SQLite settings Kesu uses (core.db): WAL, synchronous NORMAL, a busy timeout."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()


def init() -> None:
    """Create the table, FAB's roles and permissions, and the one user (an admin)."""
    app = create_app(update_perms=True)  # FAB creates its tables, roles and permissions
    with app.app_context():
        db.create_all()
        sm = app.appbuilder.sm
        if sm.find_user(username=USER) is None:
            sm.add_user(USER, "Bench", "User", "bench@example.com", sm.find_role("Admin"), PASSWORD)
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__" and sys.argv[1:] == ["init"]:
    init()
