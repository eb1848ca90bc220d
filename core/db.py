"""Database plumbing: column types, SQLite tuning and write transactions.

Write transactions start with ``BEGIN IMMEDIATE`` on SQLite: a deferred ``BEGIN`` that reads
first and writes later fails with "database is locked" whenever another writer got there in
between, which loses most concurrent read-then-write transactions. PostgreSQL needs nothing
special; row locks (``SELECT ... FOR UPDATE``) serialise the few counters.

Every write transaction first runs the *write gate* registered by ``core.services.locks``
(which documents the one order in which locks are taken), so no two writers deadlock.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from core.extensions import db

_WRITE_INTENT: contextvars.ContextVar[bool] = contextvars.ContextVar("kesu_write", default=False)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_GATE: list[Callable[[], None]] = []
CENT = Decimal("0.01")


# PostgreSQL SQLSTATEs of lock waits that a retry may get past: deadlock, lock not available,
# serialization failure, and a lock/statement timeout (query cancelled).
_LOCK_SQLSTATES = {"40P01", "55P03", "40001", "57014"}


def is_lock_error(exc: BaseException) -> bool:
    """Whether a database error is a lock wait (busy, worth retrying) rather than a fault or a
    value the database refuses; only the former may be answered "busy" (503)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) in _LOCK_SQLSTATES:
        return True
    text = str(orig if orig is not None else exc).lower()
    return "database is locked" in text or "database table is locked" in text


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Money(TypeDecorator):
    """An amount in CNY stored exactly as an integer number of fen (cents)."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value(ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(CENT)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def declared_for(obj, dialect: str) -> bool:
    """False for a schema object declared for another database only (``ddl_if(dialect=...)``,
    e.g. PostgreSQL's pattern-ops indexes): Alembic's comparison does not read that itself."""
    condition = getattr(obj, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect)


def configure_engine(engine: Engine) -> None:
    """Install SQLite pragmas and our own transaction control on a new engine."""
    if not is_sqlite(engine) or getattr(engine, "_kesu_configured", False):
        return
    engine._kesu_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event, not the sqlite3 module, start transactions.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_INTENT.get() else "BEGIN")


def set_write_gate(gate: Callable[[], None]) -> None:
    """Install the locks every write transaction takes first (see ``core.services.locks``)."""
    _WRITE_GATE[:] = [gate]


def _enter_gate() -> None:
    for gate in _WRITE_GATE:
        gate()


@contextmanager
def write_transaction() -> Iterator[sa.orm.Session]:
    """Run the block in one write transaction; commit at the end, roll back on error.

    Nested use joins the outer transaction. A read transaction still open on the session
    (from loading the current user, say) is ended first so the write one begins with
    ``BEGIN IMMEDIATE`` and reads what it writes under the lock.
    """
    session = db.session()  # the scoped session's current Session
    if _WRITE_INTENT.get():
        yield session
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unflushed changes outside a write transaction")
        session.commit()
    token = _WRITE_INTENT.set(True)
    try:
        with session.begin():
            _enter_gate()
            yield session
    finally:
        _WRITE_INTENT.reset(token)


def in_write_transaction() -> bool:
    return _WRITE_INTENT.get()


@contextmanager
def joined_write() -> Iterator[sa.orm.Session]:
    """Treat the session's current transaction as the write transaction, then commit it.

    For Flask-AppBuilder's own edit screens, which load and change a record before handing
    it to the data model: the change and its audit event are committed together. On SQLite
    this transaction began deferred; if another writer committed in between, SQLite refuses
    the commit (nothing is written) rather than interleaving the two.
    """
    session = db.session()
    token = _WRITE_INTENT.set(True)
    try:
        _enter_gate()
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _WRITE_INTENT.reset(token)


def for_update(stmt: sa.Select, *, of=None) -> sa.Select:
    """Lock the selected rows until the transaction ends, and read them afresh.

    The session keeps objects loaded earlier (``expire_on_commit`` is off), and a query does
    not overwrite an object it already holds; a locking read must, or it would decide on
    values read before the lock.
    """
    return stmt.with_for_update(of=of).execution_options(populate_existing=True)
