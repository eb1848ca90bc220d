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


def check_line_rule(actor, item: Any) -> None:
    """A record that belongs to a business line may be written only by a member of it."""
    line_id = getattr(item, "business_line_id", None)
    if line_id is None and getattr(item, "business_line", None) is not None:
        line_id = item.business_line.id
    ids = line_ids(actor)
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
                msg = _l("Must be at most %(n)s characters.", n=length)
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
