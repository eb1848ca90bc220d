"""Saved case-list filters: a user keeps the current filters under a name, and only they see,
use and delete them (another user's filter does not exist for them: 404)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.db import write_transaction
from core.extensions import db
from core.models import SavedFilter
from core.services import audit
from core.services.access import require
from core.services.case_lists import clean_filters, query_string
from core.services.errors import Conflict, Invalid, NotFound


def for_user(actor) -> list[SavedFilter]:
    """The actor's saved filters, by name."""
    return list(
        db.session.scalars(
            sa.select(SavedFilter).where(SavedFilter.user_id == actor.id).order_by(SavedFilter.name)
        )
    )


def save(actor, name: Any, args: Mapping[str, Any]) -> SavedFilter:
    """Keep the filters of ``args`` (checked as the list checks them) under ``name``; a name
    the user already used is replaced. 400 empty or long name, bad filter; 409 too many."""
    require(actor, "can_read")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid(str(_l("Give the filter a name.")), field="name")
    if len(name) > limits.SAVED_FILTER_NAME:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.SAVED_FILTER_NAME)), field="name"
        )
    query = query_string(clean_filters(actor, args))
    if len(query) > limits.SAVED_FILTER_QUERY:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.SAVED_FILTER_QUERY)),
            field="filters",
        )
    with write_transaction():
        row = db.session.scalar(
            sa.select(SavedFilter).where(SavedFilter.user_id == actor.id, SavedFilter.name == name)
        )
        if row is None:
            count = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(SavedFilter)
                .where(SavedFilter.user_id == actor.id)
            )
            if count >= limits.SAVED_FILTERS:
                raise Conflict(
                    str(
                        _l("At most %(n)s saved filters; delete one first.", n=limits.SAVED_FILTERS)
                    )
                )
            row = SavedFilter(user_id=actor.id, name=name, query=query)
            db.session.add(row)
            action = "create"
        else:
            row.query = query
            action = "update"
        db.session.flush()
        audit.record(
            actor,
            action,
            entity="saved_filter",
            entity_id=row.id,
            changes={"name": name, "query": query},
        )
    return row


def delete(actor, filter_id: int) -> None:
    """Delete one of the actor's saved filters; 404 for anyone else's."""
    require(actor, "can_read")
    with write_transaction():
        row = db.session.scalar(
            sa.select(SavedFilter).where(
                SavedFilter.id == filter_id, SavedFilter.user_id == actor.id
            )
        )
        if row is None:
            raise NotFound()
        audit.record(
            actor,
            "delete",
            entity="saved_filter",
            entity_id=row.id,
            changes={"name": row.name, "query": row.query},
        )
        db.session.delete(row)
