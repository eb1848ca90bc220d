"""The audit trail: append-only events, hash-chained so that any later change shows.

``hash = sha256(prev_hash + canonical payload)``, where the payload is the event's id, time,
actor, case, entity, action and changes as canonical JSON. Writers lock the single chain-head
row (the write gate every write transaction takes first, see ``core.services.locks``), so
concurrent transactions extend the chain one after another.

An event is written once, whole (its id is taken under the head lock, so the hash is known
before the INSERT): the database refuses UPDATE and DELETE on ``audit_event`` (migration
0005b). Whoever can drop those triggers could still rewrite the chain and re-hash it; the
anchors kept outside the database (``core.services.audit_anchor``) catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.db import in_write_transaction, utcnow
from core.extensions import db
from core.fields import to_json
from core.models import AuditChainHead, AuditEvent, Case, KesuUser
from core.models.audit import GENESIS_HASH
from core.roles import AUDIT, CAN_READ_AUDIT
from core.services.access import is_admin, line_filter, require
from core.services.locks import held_chain_head

SYSTEM_ACTOR = "system"


def canonical_payload(event: AuditEvent) -> bytes:
    """The bytes that are hashed for an event: sorted-key, compact JSON."""
    payload = {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "case_id": event.case_id,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "action": event.action,
        "changes": event.changes,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_payload(event)).hexdigest()


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs, JSON-safe.

    Of a mapping field in ``KEYED`` (such as the deadlines) only the keys that changed are
    recorded, so a moved deadline shows as itself rather than as the whole mapping.
    """
    out: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        before, after = to_json(old.get(key)), to_json(new.get(key))
        if before == after:
            continue
        if key in KEYED and isinstance(before, dict) and isinstance(after, dict):
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            before = {k: before[k] for k in changed if k in before} or None
            after = {k: after[k] for k in changed if k in after} or None
        out[key] = [before, after]
    return out


KEYED = frozenset({"deadlines"})


def record(
    actor: KesuUser | None,
    action: str,
    *,
    entity: str,
    entity_id: int | None = None,
    case_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain; must run inside the change's write transaction."""
    if not in_write_transaction():
        raise RuntimeError("audit events are written inside the change's write transaction")
    head = held_chain_head()  # locked by the write gate (core.services.locks)
    # Ids are taken here, under the head lock, so each event is inserted once with its hash
    # (the table refuses UPDATE) and ids grow in commit order.
    next_id = (db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0) + 1
    event = AuditEvent(
        id=next_id,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor=getattr(actor, "username", None) or SYSTEM_ACTOR,
        case_id=case_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        changes=to_json(dict(changes or {})),
        prev_hash=head.last_hash,
    )
    event.hash = chain_hash(head.last_hash, event)
    db.session.add(event)
    head.last_hash = event.hash
    head.last_event_id = event.id
    db.session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    # The chain's end as verified: its length, last event id and last hash (for anchoring).
    last_id: int | None = None
    last_hash: str = GENESIS_HASH


@dataclass(frozen=True)
class Checkpoint:
    """A point of the chain recorded outside the database: the ``seq``-th event had ``hash``."""

    seq: int
    event_id: int
    hash: str
    label: str = ""


def _events(after_id: int = 0, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = after_id
    while True:
        rows = list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.id > last_id)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.expunge_all()


def _name(point: Checkpoint) -> str:
    return f"the anchor {point.label}" if point.label else "the anchor"


def _start_at(start: Checkpoint) -> str:
    """Why the chain no longer holds ``start`` at its position ("" when it does)."""
    if start.seq == 0:
        return ""
    stored = db.session.get(AuditEvent, start.event_id)
    position = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id <= start.event_id)
    )
    if stored is None or position != start.seq or stored.hash != start.hash:
        return f"the chain no longer matches {_name(start)}"
    return ""


def verify(
    checkpoints: Sequence[Checkpoint] = (), *, start: Checkpoint | None = None
) -> VerifyResult:
    """Recompute the chain and report the first event that does not fit.

    ``checkpoints`` are anchors kept outside the database: the chain must reach each one's
    position with the hash it recorded, so events removed from the end, or a chain rewritten
    and re-hashed, show even when the head row was made to match. With ``start`` (an anchor
    already checked) only the events after it are recomputed.
    """
    expected: dict[int, Checkpoint] = {}
    for point in checkpoints:
        other = expected.setdefault(point.seq, point)
        if other.hash != point.hash:
            return VerifyResult(False, 0, None, f"{_name(other)} and {_name(point)} disagree")
    prev, checked, last_id = GENESIS_HASH, 0, None
    if start is not None:
        if reason := _start_at(start):
            return VerifyResult(False, 0, start.event_id or None, reason)
        prev, checked, last_id = start.hash, start.seq, start.event_id or None
    for _round in range(100):  # PostgreSQL reads committed rows: events may arrive meanwhile
        for event in _events(last_id or 0):
            if event.prev_hash != prev:
                return VerifyResult(False, checked, event.id, "prev_hash does not match the chain")
            if chain_hash(prev, event) != event.hash:
                return VerifyResult(
                    False, checked, event.id, "hash does not match the event's content"
                )
            prev, last_id = event.hash, event.id
            checked += 1
            point = expected.get(checked)
            if point is not None and point.hash != event.hash:
                return VerifyResult(
                    False,
                    checked - 1,
                    event.id,
                    f"event {event.id} differs from {_name(point)}: "
                    "the chain was rewritten and re-hashed",
                )
        head = db.session.get(AuditChainHead, 1, populate_existing=True)
        if head is not None and (head.last_hash, head.last_event_id) == (prev, last_id):
            break
        more = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
        if head is None:
            return VerifyResult(False, checked, last_id, "the chain head row is missing")
        if more is None or more == last_id:
            return VerifyResult(
                False,
                checked,
                last_id,
                f"the chain head names event {head.last_event_id} but the chain ends at "
                f"event {last_id}: events are missing",
            )
    else:
        return VerifyResult(False, checked, last_id, "the chain kept changing while verified")
    beyond = [p for p in expected.values() if p.seq > checked]
    if beyond:
        point = max(beyond, key=lambda p: p.seq)
        return VerifyResult(
            False,
            checked,
            last_id,
            f"the chain has {checked} events but {_name(point)} recorded "
            f"{point.seq}: events were removed from its end",
        )
    return VerifyResult(True, checked, last_id=last_id, last_hash=prev)


def case_events(case_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        )
    )


def list_events(
    actor, filters: Mapping[str, Any] | None = None, *, page: int = 1, page_size: int = 50
):
    """A page of audit events the actor may read, newest first, and the total count.

    Events of cases follow the case's record rule; events without a case (reference data,
    users, plugins) are shown to admins only.
    """
    require(actor, CAN_READ_AUDIT, AUDIT)
    stmt = sa.select(AuditEvent)
    if not is_admin(actor):
        visible = sa.select(Case.id).where(line_filter(actor, Case.business_line_id))
        stmt = stmt.where(AuditEvent.case_id.in_(visible))
    f = dict(filters or {})
    if f.get("case"):
        stmt = stmt.where(
            AuditEvent.case_id.in_(sa.select(Case.id).where(Case.number == f["case"].strip()))
        )
    for key in ("actor", "entity", "action"):
        if f.get(key):
            stmt = stmt.where(getattr(AuditEvent, key) == f[key].strip())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(AuditEvent.id.desc()).limit(page_size).offset((page - 1) * page_size)
    )
    return list(rows), total


def case_numbers(case_ids: set[int]) -> dict[int, str]:
    """Case numbers by id, for showing events."""
    if not case_ids:
        return {}
    return dict(
        db.session.execute(sa.select(Case.id, Case.number).where(Case.id.in_(case_ids))).all()
    )
