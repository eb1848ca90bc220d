"""Uploaded files on disk: the type they are served with, safe names, storage and orphan cleanup.

Files live in ``KESU_UPLOAD_DIR`` under random keys (``ab/ab12...``), never under a name a
client chose. The type a file is served with is decided from its content against an
allow-list; a client's declared type is never trusted. The folder is ``0700`` and every file
``0600``: evidence holds customers' personal data.

A file is written before its database row is committed. A crash between the two leaves a
file nothing refers to; :func:`cleanup_orphans` removes those once they are older than a grace
period, so uploads still in flight are never touched.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import unicodedata
import uuid
from pathlib import Path

import filetype
import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models import Evidence

OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain"

# Types a file may be served as (DOMAIN.md §4: photos, video, documents, delivery notes).
# Everything else, HTML, XML, SVG and scripts included, is served as application/octet-stream.
SERVED_TYPES = frozenset(
    {
        # photos
        "image/jpeg",
        "image/png",
        "image/apng",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/heic",
        "image/avif",
        # video
        "video/mp4",
        "video/x-m4v",
        "video/quicktime",
        "video/3gpp",
        "video/x-matroska",
        "video/webm",
        "video/x-msvideo",
        "video/x-ms-wmv",
        "video/mpeg",
        "video/x-flv",
        # documents
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/rtf",
        TEXT_PLAIN,
        "text/csv",  # finance exports (core.services.finance); an upload is never typed so
    }
)

ORPHAN_GRACE_MINUTES = 60  # uploads in flight are younger
ORPHAN_GRACE = dt.timedelta(minutes=ORPHAN_GRACE_MINUTES)
MAX_FILENAME = 255
_KEY = re.compile(r"[0-9a-f]{32}")
_DIR = re.compile(r"[0-9a-f]{2}")
# Text without a magic number: tab, line feed, form feed and carriage return are the only
# control characters allowed.
_TEXT_CONTROLS = {chr(c) for c in range(32)} - set("\t\n\f\r") | {"\x7f"}


def upload_dir() -> Path:
    return Path(current_app.config["KESU_UPLOAD_DIR"])


def path_for(key: str) -> Path:
    return upload_dir() / key[:2] / key


# -- types --------------------------------------------------------------------------------------


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ch in _TEXT_CONTROLS for ch in text)


def detect_type(data: bytes) -> str:
    """The type ``data`` is stored and served as, from its content only (never the client's)."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return served_type(kind.mime)
    if _is_text(data):
        return TEXT_PLAIN
    return OCTET_STREAM


def served_type(content_type: str | None) -> str:
    """``content_type`` if it is on the allow-list, else application/octet-stream."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime if mime in SERVED_TYPES else OCTET_STREAM


# -- names --------------------------------------------------------------------------------------


def safe_filename(name: str | None, default: str = "file") -> str:
    """A client's file name made harmless for a header or a listing.

    Control and format characters (NUL, line breaks, bidirectional overrides) are dropped, path
    separators become ``_``, the name loses any folder part, leading dots and ``..`` runs, and it
    is cut to 255 characters. What is left empty becomes ``default``.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(
        "_" if ch in "/\\" else ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")
    )
    name = re.sub(r"\.{2,}", ".", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if stem and len(ext) < 16 else ""
        name = name[: MAX_FILENAME - len(ext)] + ext
    return name or default


# -- storage ------------------------------------------------------------------------------------


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def store(data: bytes) -> str:
    """Write ``data`` under a new random key (file 0600, folders 0700); returns the key."""
    key = uuid.uuid4().hex
    path = path_for(key)
    _private_dir(upload_dir())
    _private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return key


def discard(key: str) -> None:
    path_for(key).unlink(missing_ok=True)


def cleanup_orphans(older_than: dt.timedelta = ORPHAN_GRACE) -> list[str]:
    """Remove stored files no evidence row refers to, last changed more than ``older_than``
    ago (uploads in flight are younger). Returns the keys removed. Only files named like a
    storage key are considered; anything else in the folder is left alone."""
    root = upload_dir()
    if not root.is_dir():
        return []
    cutoff = time.time() - older_than.total_seconds()
    removed: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _DIR.fullmatch(p.name)):
        candidates: dict[str, Path] = {}
        for path in folder.iterdir():
            if _KEY.fullmatch(path.name) and path.name[:2] == folder.name and path.is_file():
                if path.stat().st_mtime < cutoff:
                    candidates[path.name] = path
        names = sorted(candidates)
        for start in range(0, len(names), 500):
            batch = names[start : start + 500]
            known = set(
                db.session.scalars(
                    sa.select(Evidence.storage_key).where(Evidence.storage_key.in_(batch))
                )
            )
            for name in batch:
                if name not in known:
                    candidates[name].unlink(missing_ok=True)
                    removed.append(name)
    db.session.rollback()
    return removed
