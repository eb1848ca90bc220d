"""Anchors of the audit chain kept outside the database.

Whoever can write the database (and drop the triggers that keep ``audit_event`` append-only)
could remove the last events and fix the head row, or rewrite the chain and re-hash it. An
anchor records the chain's end -- its length, last event id, last hash and the time -- as one
HMAC-signed line appended to a file (``KESU_AUDIT_ANCHOR_FILE``) and to the log. The key is
``KESU_AUDIT_KEY`` or a random key generated once into the instance folder, never in the
database. ``verify`` then requires the chain to reach every anchor's position with the hash it
recorded; an anchor line that was altered fails its signature.

``kesu audit anchor`` writes one; so does ``kesu sweep`` at its end, so cron anchors regularly.
Ship the file or the log lines somewhere the database's writers cannot reach (a log host, a
WORM bucket) for the anchors to outlive a compromise of this machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from core.config import write_key_once
from core.services import audit
from core.services.audit import Checkpoint, VerifyResult

TAG = "kesu-audit-anchor/1"
KEY_FILE = "audit_key"
MIN_KEY_LENGTH = 16
log = logging.getLogger("kesu.audit")


class AnchorError(Exception):
    """The anchor cannot be written or checked; the message says why."""


@dataclass(frozen=True)
class AnchorCheck:
    result: VerifyResult
    anchors: int  # how many anchors the chain was checked against


def anchor_file() -> Path:
    return Path(current_app.config["KESU_AUDIT_ANCHOR_FILE"])  # core/config.py's default


def _key_path() -> Path:
    return Path(current_app.instance_path) / KEY_FILE


def _key(create: bool) -> bytes | None:
    """``KESU_AUDIT_KEY``, or the key file in the instance folder (made once if ``create``).

    The file is written whole under a temporary name and linked into place, so processes
    starting together never read a half-written key and all end up with the same one.
    """
    configured = current_app.config.get("KESU_AUDIT_KEY")
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise AnchorError(f"KESU_AUDIT_KEY must be at least {MIN_KEY_LENGTH} characters")
        return configured.encode()
    path = _key_path()
    if not path.exists():
        if not create:
            return None
        write_key_once(path)
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise AnchorError(f"the audit key file {path} is empty or too short")
    return key.encode()


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _line(key: bytes, point: Checkpoint, at: str) -> str:
    body = f"{TAG} seq={point.seq} event={point.event_id} hash={point.hash} at={at}"
    return f"{body} hmac={_sign(key, body)}"


def _parse(key: bytes, text: str, number: int) -> Checkpoint:
    """One anchor line (text before the tag, such as a log prefix, is ignored)."""
    where = f"line {number}"
    if TAG not in text:
        raise AnchorError(f"anchor file {where} is not an anchor")
    body, _, mac = text[text.index(TAG) :].rpartition(" hmac=")
    if not body or not hmac.compare_digest(_sign(key, body), mac.strip()):
        raise AnchorError(
            f"anchor file {where} does not carry a valid signature "
            "(the line was altered, or the audit key changed)"
        )
    values = dict(part.split("=", 1) for part in body.split(" ")[1:] if "=" in part)
    try:
        return Checkpoint(
            seq=int(values["seq"]),
            event_id=int(values["event"]),
            hash=values["hash"],
            label=f"of {values['at']} ({where})",
        )
    except (KeyError, ValueError):
        raise AnchorError(f"anchor file {where} is incomplete") from None


def read_anchors(path: Path | None = None) -> list[Checkpoint]:
    """Every anchor in the file, oldest first; an altered or foreign line is an error."""
    path = path or anchor_file()
    if not path.exists():
        return []
    lines = [(n, t) for n, t in enumerate(path.read_text().splitlines(), 1) if t.strip()]
    if not lines:
        return []
    key = _key(create=False)
    if key is None:
        raise AnchorError(
            f"the audit key is missing ({KEY_FILE} in the instance folder, or KESU_AUDIT_KEY): "
            "the anchors cannot be checked"
        )
    return [_parse(key, text, number) for number, text in lines]


def _anchors_kept(path: Path) -> list[Checkpoint]:
    anchors = read_anchors(path)
    if not anchors and _key_path().exists():
        # The key file is made with the first anchor: the anchors written since were removed.
        raise AnchorError(
            f"the audit key exists but {path} holds no anchor: the anchors were removed "
            "(after looking into it, start anew with `kesu audit anchor --restart`)"
        )
    return anchors


def verify_anchored(path: Path | None = None) -> AnchorCheck:
    """Recompute the whole chain and hold it against every anchor."""
    try:
        anchors = _anchors_kept(path or anchor_file())
    except AnchorError as exc:
        return AnchorCheck(VerifyResult(False, 0, None, str(exc)), 0)
    return AnchorCheck(audit.verify(anchors), len(anchors))


def write_anchor(*, restart: bool = False) -> Checkpoint:
    """Append the chain's current end to the anchor file and the log.

    The chain must first extend the latest anchor (only the events after it are recomputed,
    so a regular cron run stays cheap); a chain that does not is never anchored. Nor is one
    whose earlier anchors were removed, unless ``restart`` (after an administrator looked
    into it): the whole chain is then recomputed and anchored afresh.
    """
    path = anchor_file()
    anchors = read_anchors(path) if restart else _anchors_kept(path)
    latest = max(anchors, key=lambda p: p.seq) if anchors else None
    result = audit.verify(anchors, start=latest)
    if not result.ok:
        raise AnchorError(f"the audit trail is broken, not anchored: {result.reason}")
    key = _key(create=True)
    point = Checkpoint(seq=result.checked, event_id=result.last_id or 0, hash=result.last_hash)
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = _line(key, point, at)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("%s", line)
    return Checkpoint(point.seq, point.event_id, point.hash, label=line)
