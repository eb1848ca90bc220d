"""Retry safety: a request sent again with the same ``Idempotency-Key`` gets the first answer.

A key belongs to one user. Its row is inserted in the same write transaction as whatever the
request changes, and completed with the answer before that transaction commits; so a key is
stored exactly when its request's changes are, and a request that fails (any answer but 2xx)
stores nothing and may be sent again with the same key.

Concurrent requests with the same key wait, they do not race: the write transaction takes
the write gate first (core.services.locks), so the second one starts only after the first has
committed or rolled back, then finds the stored answer and replays it (or, if the first
failed, runs itself). Should a duplicate ever get past the gate, the unique constraint on
(user, key) rolls it back whole and it answers 409 "in progress" unless the first answer is
stored by then. Keys are kept ``KESU_IDEMPOTENCY_HOURS`` (default 24) and then forgotten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from core.db import for_update, utcnow, write_transaction
from core.extensions import db
from core.models import IdempotencyKey
from core.services.errors import Conflict, PreconditionFailed

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as stored; ``original`` is the live response when not replayed."""

    status: int
    content_type: str
    body: str
    replayed: bool = False
    original: object = None


class _Discard(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def _stored(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        for_update(
            sa.select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
    )


def _replay(row: IdempotencyKey, fingerprint: str) -> Answer:
    if row.fingerprint != fingerprint:
        raise PreconditionFailed(
            _l("This Idempotency-Key was already used for a different request."), field=HEADER
        )
    return Answer(row.status_code, row.content_type, row.body, replayed=True)


def once(
    user_id: int, key: str, fingerprint: str, run: Callable[[], Answer], *, hours: float
) -> Answer:
    """The stored answer of ``key`` if there is one, else ``run()``'s, stored if it is a 2xx.

    ``run`` executes inside this write transaction (its own write transactions join it), so
    its changes and the key commit together; a non-2xx answer rolls both back.
    """
    try:
        with write_transaction():
            cutoff = utcnow() - dt.timedelta(hours=hours)
            db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
            row = _stored(user_id, key)
            if row is not None:
                return _replay(row, fingerprint)
            row = IdempotencyKey(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                status_code=0,
                content_type="",
                body="",
                created_at=utcnow(),
            )
            db.session.add(row)
            db.session.flush()  # claims the key (lock 2 of core.services.locks)
            answer = run()
            if not 200 <= answer.status < 300:
                raise _Discard(answer)
            row.status_code = answer.status
            row.content_type = answer.content_type
            row.body = answer.body
            db.session.flush()
        return answer
    except _Discard as discarded:
        return discarded.answer
    except IntegrityError:
        pass  # a duplicate committed the key first
    with write_transaction():
        row = _stored(user_id, key)
        if row is not None and row.status_code:
            return _replay(row, fingerprint)
    raise Conflict(
        _l("A request with this Idempotency-Key is in progress; try again shortly."), field=HEADER
    )
