"""Writes of reference data (business lines, departments, customers, products, users).

The admin screens hand their changed records here: the record rule is checked against the
values being written (not only the list filter), and the audit event is written in the same
transaction as the change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.db import joined_write
from core.extensions import db
from core.fields import to_json
from core.services import audit
from core.services.access import line_ids
from core.services.errors import Forbidden, invalid_if

SECRET_ATTRIBUTES = {"password"}
SKIPPED_ATTRIBUTES = {"last_login", "login_count", "fail_login_count", "changed_on", "created_on"}


def _value(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return sorted(str(v) for v in value)
    if hasattr(value, "__table__"):
        return str(value)
    return to_json(value)


def pending_changes(item: Any) -> dict[str, list[Any]]:
    """``{attribute: [old, new]}`` of an object about to be flushed (new or changed)."""
    state = sa.inspect(item)
    out: dict[str, list[Any]] = {}
    for attr in state.mapper.attrs:
        key = attr.key
        if key in SKIPPED_ATTRIBUTES or key.endswith("_fk") or key in ("created_by", "changed_by"):
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        if getattr(attr, "uselist", False):
            old = list(hist.unchanged) + list(hist.deleted)
            new = list(hist.unchanged) + list(hist.added)
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
        if key in SECRET_ATTRIBUTES:
            out[key] = ["***" if old else None, "***"]
            continue
        before, after = _value(old), _value(new)
        if before != after:
            out[key] = [before, after]
    return out


def _history_values(state, key: str) -> list[Any]:
    """Every value attribute ``key`` had before and has after the pending change."""
    if key not in state.mapper.attrs:
        return []
    hist = state.attrs[key].load_history()
    return [v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None]


def touched_line_ids(item: Any) -> set[int | None]:
    """The business lines a record belonged to before and belongs to after its pending change.

    Read from the attribute history, so a change made through the relationship
    (``customer.business_line = other``, as Flask-AppBuilder's forms do) counts before it is
    flushed to ``business_line_id``. A line not yet saved counts as ``None`` (no one's).
    Records it points to that themselves belong to a line (a customer, a product) count too:
    picking a foreign line's record is writing into that line.
    """
    state = sa.inspect(item)
    found: set[int | None] = set(_history_values(state, "business_line_id"))
    for line in _history_values(state, "business_line"):
        found.add(sa.inspect(line).identity[0] if sa.inspect(line).identity else None)
    for rel in state.mapper.relationships:
        if rel.key == "business_line" or rel.uselist:
            continue
        if "business_line_id" not in rel.mapper.attrs:
            continue
        for target in _history_values(state, rel.key):
            found.add(getattr(target, "business_line_id", None))
    if "business_lines" in state.mapper.attrs and state.mapper.attrs["business_lines"].uselist:
        hist = state.attrs["business_lines"].load_history()
        for line in (*hist.added, *hist.deleted):  # membership gained or lost
            found.add(sa.inspect(line).identity[0] if sa.inspect(line).identity else None)
    return found


def check_line_rule(actor, item: Any) -> None:
    """A record that belongs to a business line may be written only by a member of it: every
    line it had before and has after the change must be one of the actor's."""
    ids = line_ids(actor)
    if ids is None:
        return
    if not touched_line_ids(item) <= ids:
        raise Forbidden(_l("You do not belong to this business line."), field="business_line")


def _check_flushed(actor, item: Any) -> None:
    """After the flush: the line the database now holds must be the actor's (a last guard
    should a change reach the row some other way than the attributes read above)."""
    ids = line_ids(actor)
    line_id = getattr(item, "business_line_id", None)
    if ids is not None and line_id is not None and line_id not in ids:
        raise Forbidden(_l("You do not belong to this business line."), field="business_line")


def check_limits(item: Any) -> None:
    """400 naming the column when a written value is over its maximum (core/limits.py).

    Text fits its ``String(n)`` (``Text``: ``limits.TEXT_LONG``); an amount at most
    ``limits.AMOUNT`` (a column's ``info["max_value"]`` when it names one).
    """
    errors: dict[str, list[str]] = {}
    for column in sa.inspect(type(item)).columns:
        value = getattr(item, column.key, None)
        if value is None:
            continue
        top = column.info.get("max_value")
        if isinstance(value, str):
            length = getattr(column.type, "length", None) or limits.TEXT_LONG
            if len(value) > length:
                msg = str(_l("Must be at most %(n)s characters.", n=length))
                errors[column.key] = [str(msg)]
        elif isinstance(value, Decimal) and value > (top or limits.AMOUNT):
            errors[column.key] = [str(_l("Must be at most %(n)s.", n=top or limits.AMOUNT))]
    invalid_if(errors)


def check(actor, item: Any, rule=None) -> None:
    """Raise a service error if the record may not be written: the line rule, then ``rule``."""
    check_line_rule(actor, item)
    check_limits(item)
    if rule is not None:
        rule(item)


def save(actor, item: Any, entity: str, rule=None) -> None:
    """Write a new or changed reference record with its audit event, in one transaction.

    ``rule(item)`` raises a service error when the record breaks a rule of its own.
    """
    is_new = sa.inspect(item).transient or sa.inspect(item).pending
    with joined_write():
        db.session.add(item)
        check(actor, item, rule)
        changes = pending_changes(item)
        db.session.flush()
        _check_flushed(actor, item)
        if changes or is_new:
            audit.record(
                actor,
                "create" if is_new else "update",
                entity=entity,
                entity_id=getattr(item, "id", None),
                changes=changes,
            )
        if entity == "customer" and not is_new and "kind" in changes:
            refresh_customer_cases(actor, item.id)  # a key account is P2


def refresh_customer_cases(actor, customer_id: int) -> None:
    """Recompute the open cases of a customer whose kind changed (their priority may)."""
    from core.models import Case
    from core.services.cases import refresh

    ids = db.session.scalars(
        sa.select(Case.id).where(
            Case.customer_id == customer_id, Case.status.notin_(("closed", "rejected"))
        )
    ).all()
    refresh(actor, ids)


def delete(actor, item: Any, entity: str) -> None:
    """Remove a record that only states a fact now true no longer (e.g. a position held)."""
    with joined_write():
        check_line_rule(actor, item)
        snapshot = {
            attr.key: _value(getattr(item, attr.key))
            for attr in sa.inspect(item).mapper.column_attrs
        }
        db.session.delete(item)
        db.session.flush()
        audit.record(
            actor,
            "delete",
            entity=entity,
            entity_id=snapshot.get("id"),
            changes={k: [v, None] for k, v in snapshot.items()},
        )
