"""The one way Kesu answers with a file: every download response is built here.

A download is always an attachment (the browser saves it, never renders it in Kesu's origin),
its type is on the allow-list of :mod:`core.services.uploads` or application/octet-stream, the
browser may not guess another type (``nosniff``), and its name is given twice as RFC 6266
asks: an ASCII fallback and the exact UTF-8 name (``filename*=UTF-8''...``).
"""

from __future__ import annotations

import io
import shutil
import unicodedata
import weakref
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

from core.services.uploads import safe_filename, served_type


def content_disposition(filename: str | None) -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` for a (made safe) ``filename``."""
    name = safe_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(ch if ch.isprintable() and ch not in '"\\%;' else "_" for ch in ascii_name)
    if not ascii_name.strip("_. "):
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and stem and ext.isascii() and ext.isalnum() else ""
        ascii_name = f"download.{ext}" if ext else "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(
    source: Path | bytes, filename: str | None, content_type: str | None
) -> Response:
    """Answer with ``source`` (a stored file or bytes made on the fly) as a download."""
    body = io.BytesIO(source) if isinstance(source, bytes) else source
    response = send_file(body, mimetype=served_type(content_type), conditional=True)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def streamed_download(path: Path, filename: str | None, content_type: str | None) -> Response:
    """Answer with a file written to a temporary folder of its own (``path.parent``), read a
    block at a time; the folder is removed once the file is sent, or when the response is
    dropped unsent."""
    folder = path.parent
    size = path.stat().st_size

    def blocks():
        try:
            with path.open("rb") as handle:
                while block := handle.read(64 * 1024):
                    yield block
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    body = blocks()
    weakref.finalize(body, shutil.rmtree, folder, True)
    response = Response(body, mimetype=served_type(content_type), direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def inline_image_response(path: Path, filename: str | None, content_type: str) -> Response:
    """Answer with a stored raster image shown inline (an evidence thumbnail or preview).

    The one exception to "always an attachment": the caller passes only types a browser
    renders as a picture (PNG, JPEG, GIF, WebP, detected from the content at upload). The type
    is still checked against the allow-list, ``nosniff`` stays, and the response's own policy
    forbids it everything but being an image (a sandbox without scripts, no framing).
    """
    response = send_file(path, mimetype=served_type(content_type), conditional=True)
    response.headers["Content-Disposition"] = content_disposition(filename).replace(
        "attachment", "inline", 1
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; "
        "frame-ancestors 'none'"
    )
    return response


def dated_workbook(path: Path, title: str, actor) -> Response:
    """A workbook written to its own temporary folder, streamed as ``<title>-<reader's local
    time>.xlsx`` (the ledger's and the CAPA register's exports)."""
    from core.db import utcnow
    from core.services.xlsx_cells import XLSX_MIME
    from core.timeutil import in_zone, reader_zone

    stamp = in_zone(utcnow(), reader_zone(actor)).strftime("%Y%m%d-%H%M")
    return streamed_download(path, f"{title}-{stamp}.xlsx", XLSX_MIME)
