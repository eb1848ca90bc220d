"""The one order in which write transactions take locks.

Two transactions that lock the same rows in different orders can each wait for the other:
PostgreSQL then aborts one of them as a deadlock (the API's 503). Intake did exactly that: a
new customer's audit event locked the audit chain head before the case counter, an existing
customer's intake locked the counter first. So every write transaction takes its locks in this
order, and never an earlier one after a later one:

1. **The write gate**: the audit chain head row (``audit_chain_head``, id 1). Every write
   transaction takes it first, as it begins (``core.db.write_transaction`` and
   ``joined_write`` call :func:`take_write_locks`), and holds it to commit or rollback.
   Every audited change must lock it anyway to extend the chain, so writers were already
   serialised on it from their first audit event on; taking it first only moves that point
   to the start, which makes all the locks below uncontended between writers.
2. The idempotency key of the request (``idempotency_key``, core.api.idempotency).
3. The month's case counter (``case_counter``, core.services.numbers).
4. Business-line rows.
5. Case rows, in ascending id (core.services.access.get_case, core.services.cases.refresh).
6. Any other row (customers, deadlines, ...).

On SQLite the gate costs nothing more: a write transaction starts with ``BEGIN IMMEDIATE``
(core.db), which takes the database's single write lock up front and waits for it up to the
busy timeout, so "database is locked" never reaches a user. ``SELECT ... FOR UPDATE`` does
not exist there and is left out by SQLAlchemy.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.db import for_update, set_write_gate
from core.extensions import db
from core.models import AuditChainHead
from core.models.audit import GENESIS_HASH

HEAD_ID = 1


def lock_chain_head() -> AuditChainHead:
    """Lock the audit chain head (lock 1), creating it on a database that has none yet."""
    stmt = for_update(sa.select(AuditChainHead).where(AuditChainHead.id == HEAD_ID))
    # No autoflush: an edit screen's changes are pending here and must be diffed before
    # they are flushed (core.services.records.save).
    with db.session.no_autoflush:
        head = db.session.scalar(stmt)
    if head is None:
        # A Core insert in a connection-level savepoint: the session's savepoint would flush.
        connection = db.session.connection()
        try:
            with connection.begin_nested():
                connection.execute(
                    sa.insert(AuditChainHead).values(id=HEAD_ID, last_hash=GENESIS_HASH)
                )
        except IntegrityError:
            pass  # another transaction created it first; lock theirs
        with db.session.no_autoflush:
            head = db.session.scalar(stmt)
    session = db.session()
    session.info[_HELD] = (session.get_transaction(), head)
    return head


_HELD = "kesu_chain_head"


def held_chain_head() -> AuditChainHead:
    """The audit chain head this write transaction locked at its gate, without reading it
    again: the lock is held to the end of the transaction, and only this transaction's
    session changes the row meanwhile (a rolled-back savepoint expires what it changed, so
    it is read again). Outside such a transaction: locked now."""
    session = db.session()
    held = session.info.get(_HELD)
    if held is not None and held[0] is session.get_transaction() and held[0].is_active:
        return held[1]
    return lock_chain_head()


def take_write_locks() -> None:
    """Take the locks every write transaction starts with (the write gate), in order."""
    lock_chain_head()


set_write_gate(take_write_locks)
