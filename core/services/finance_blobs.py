"""Storing an export's file in its ``export_batch`` row without holding it in memory twice.

On SQLite the column is sized with ``zeroblob(n)`` and the file copied in through the incremental
blob interface, a block at a time; elsewhere (PostgreSQL) it is appended a block at a time
(``col = col || :block``), so the client never holds more than one block of it. Either way the
file lands in the export's own write transaction.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.extensions import db
from core.models import ExportBatch

BLOCK = 1 << 20
COLUMNS = ("xlsx", "csv")


def store_file(batch_id: int, column: str, path: Path) -> None:
    """Put the file at ``path`` into ``export_batch.<column>`` of batch ``batch_id``."""
    if column not in COLUMNS:
        raise ValueError(column)
    table = ExportBatch.__table__
    size = path.stat().st_size
    connection = db.session.connection()
    target = table.c[column]
    if connection.dialect.name != "sqlite":
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(BLOCK), b""):
                db.session.execute(
                    sa.update(table)
                    .where(table.c.id == batch_id)
                    .values({column: target.op("||")(sa.literal(block, sa.LargeBinary))})
                )
        return
    db.session.execute(
        sa.update(table).where(table.c.id == batch_id).values({column: sa.func.zeroblob(size)})
    )
    raw = connection.connection.driver_connection
    with raw.blobopen(table.name, column, batch_id) as blob, open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            blob.write(block)
