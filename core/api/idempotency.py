"""The ``Idempotency-Key`` header of Kesu's APIs: parsing, fingerprint, replay, OpenAPI.

Applied in one place: :func:`core.api.base.service_call`, which every Kesu and plugin API
endpoint goes through, calls :func:`guarded` around the endpoint; it acts on POST requests
(every API call that creates a record is a POST) that carry the header and leaves all others
alone. The rules (core.services.idempotency): a retry with the same key and the same request
gets the first answer again, with ``Idempotent-Replayed: true``; the same key with another
request (method, path, query or body) gets 422 naming ``Idempotency-Key``; keys are per user
and kept ``KESU_IDEMPOTENCY_HOURS``; concurrent duplicates wait for the first and get its
answer. A key is 1 to 255 visible ASCII characters, otherwise 400.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l

from core.models.idempotency import MAX_KEY_LENGTH
from core.services import idempotency
from core.services.errors import Invalid

HEADER = idempotency.HEADER
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST"})
_VISIBLE_ASCII = re.compile(r"^[!-~]+$")

PARAMETER_NAME = "IdempotencyKey"
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Makes a retry safe: the same key (per user, kept KESU_IDEMPOTENCY_HOURS, 24 h by default) "
        "with the same request returns "
        "the first answer again (header Idempotent-Replayed: true) without doing it twice; "
        "with a different request it is refused with 422. Concurrent duplicates wait for the "
        "first one."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[!-~]+$",
    },
}


def document(operations: dict[str, Any]) -> None:
    """Add the header (and the answers it can cause) to the POST operations of one path."""
    for method, operation in operations.items():
        if method.upper() not in METHODS or not isinstance(operation, dict):
            continue
        parameters = operation.setdefault("parameters", [])
        if PARAMETER_NAME not in parameters:
            parameters.append(PARAMETER_NAME)  # apispec turns a component's name into a $ref
        responses = operation.setdefault("responses", {})
        for code in ("400", "409", "422"):
            responses.setdefault(code, code)  # a component name, like the parameter


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not raw:
        raise Invalid(_l("This field is required."), field=HEADER)
    if len(raw) > MAX_KEY_LENGTH:
        raise Invalid(str(_l("Must be at most %(n)s characters.", n=MAX_KEY_LENGTH)), field=HEADER)
    if not _VISIBLE_ASCII.match(raw):
        raise Invalid(_l("Use visible ASCII characters only (no spaces)."), field=HEADER)
    return raw


def _body_digest() -> bytes:
    """The request's content, independent of JSON key order and multipart boundaries."""
    if request.is_json:
        data = request.get_json(silent=True)
        if data is not None:
            try:
                return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
            except (ValueError, RecursionError):
                pass
        return request.get_data()
    if request.mimetype == "multipart/form-data":
        h = hashlib.sha256()
        for name, value in sorted(request.form.items(multi=True)):
            h.update(json.dumps(["form", name, value]).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            h.update(json.dumps(["file", name, upload.filename, upload.mimetype]).encode())
            stream = upload.stream
            for chunk in iter(lambda s=stream: s.read(65536), b""):
                h.update(chunk)
            stream.seek(0)
        return h.digest()
    return request.get_data()


def fingerprint() -> str:
    """What makes two requests "the same": method, path with query, and body."""
    h = hashlib.sha256()
    h.update(request.method.encode() + b" " + request.full_path.encode() + b"\n")
    h.update(_body_digest())
    return h.hexdigest()


def _answer(response: Response) -> idempotency.Answer:
    return idempotency.Answer(
        response.status_code,
        response.content_type or "application/json",
        response.get_data(as_text=True),
        original=response,
    )


def guarded(actor, call: Callable[[], Response]) -> Response:
    """``call()`` (the endpoint, its errors already answered) under the request's key, if any."""
    if request.method not in METHODS or actor is None:
        return call()
    key = _key()
    if key is None:
        return call()
    answer = idempotency.once(
        actor.id,
        key,
        fingerprint(),
        lambda: _answer(call()),
        hours=float(current_app.config["KESU_IDEMPOTENCY_HOURS"]),
    )
    if answer.original is not None and not answer.replayed:
        return answer.original
    response = current_app.response_class(
        answer.body, status=answer.status, content_type=answer.content_type
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response
