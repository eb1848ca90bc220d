"""Evidence uploads and downloads, under the case's record rule.

Files live in ``KESU_UPLOAD_DIR`` (outside any static folder) under random names
(:mod:`core.services.uploads`); the database keeps the original name (made safe), the type
decided from the content, the size and the SHA-256. A file is written before its row and
removed again if the transaction fails; a crash in between leaves an orphan that
``kesu cleanup-uploads`` removes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from flask_babel import lazy_gettext as _l

from core import limits
from core.contracts import FieldSpec
from core.db import utcnow, write_transaction
from core.extensions import db
from core.fields import FieldError, coerce
from core.models import Evidence, KesuUser
from core.roles import CAN_UPLOAD
from core.services import audit, uploads
from core.services.access import get_case, require, require_department
from core.services.cases import emit, recompute, require_writable
from core.services.errors import Invalid, NotFound, invalid_if
from core.timeutil import localize
from core.vocab import EVIDENCE_KINDS

# What a kind must contain; document and delivery_note accept any file (scans, PDFs, photos).
KIND_MIME_PREFIX = {"photo": ("image/",), "video": ("video/",)}
_RECEIVED_AT = FieldSpec("received_at", "datetime", _l("Received at"))


def add_evidence(
    actor: KesuUser,
    case_id: int,
    stream: IO[bytes] | None,
    *,
    filename: str | None,
    kind: Any,
    source: Any = None,
    received_at: Any = None,
) -> Evidence:
    """Attach a file to a case as evidence of ``kind``; recomputes the acceptance issues."""
    require(actor, CAN_UPLOAD)
    get_case(
        actor, case_id
    )  # a case of another line does not exist for the actor, whatever the input
    errors: dict[str, list[str]] = {}
    if kind not in EVIDENCE_KINDS:
        errors["kind"] = [str(_l("Must be one of: %(values)s.", values=", ".join(EVIDENCE_KINDS)))]
    if source is not None and (not isinstance(source, str) or len(source) > limits.TEXT_SHORT):
        errors["source"] = [str(_l("Must be at most %(n)s characters.", n=limits.TEXT_SHORT))]
    try:
        when = coerce(_RECEIVED_AT, received_at)
    except FieldError as exc:
        errors["received_at"] = [str(exc.message)]
        when = None
    if stream is None or not filename:
        errors["file"] = [str(_l("This field is required."))]
    invalid_if(errors)
    data = stream.read()
    if not data:
        raise Invalid(_l("The file is empty."), field="file")
    content_type = uploads.detect_type(data)
    wanted = KIND_MIME_PREFIX.get(kind)
    if wanted and not content_type.startswith(wanted):
        raise Invalid(
            str(
                _l(
                    "A %(kind)s must be a file of that type (this one is %(type)s).",
                    kind=EVIDENCE_KINDS[kind],
                    type=content_type,
                )
            ),
            field="file",
        )
    key = uploads.store(data)
    try:
        with write_transaction():
            case = get_case(actor, case_id, lock=True)
            require_department(actor, case)
            require_writable(case)
            if len(case.evidence) >= limits.EVIDENCE_FILES:
                msg = str(_l("A case has at most %(n)s evidence files.", n=limits.EVIDENCE_FILES))
                raise Invalid(msg, field="file")
            evidence = Evidence(
                kind=kind,
                source=(source or "").strip() or None,
                received_at=localize(when, case.business_line.timezone) if when else utcnow(),
                filename=uploads.safe_filename(filename),
                storage_key=key,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by_id=actor.id,
            )
            case.evidence.append(evidence)
            before = list(case.acceptance_issues or [])
            recompute(case)
            db.session.flush()
            audit.record(
                actor,
                "upload",
                entity="evidence",
                entity_id=evidence.id,
                case_id=case.id,
                changes={
                    "kind": [None, kind],
                    "filename": [None, evidence.filename],
                    "sha256": [None, evidence.sha256],
                    "source": [None, evidence.source],
                    **(
                        {"acceptance_issues": [before, case.acceptance_issues]}
                        if before != case.acceptance_issues
                        else {}
                    ),
                },
            )
            emit(case, "upload", case.status, actor, {"kind": kind})
    except BaseException:
        uploads.discard(key)
        raise
    return evidence


def add_uploaded(actor: KesuUser, case_id: int, upload, form: Mapping[str, str]) -> Evidence:
    """Attach a multipart upload: a Werkzeug ``FileStorage`` (or None) and the form's fields."""
    return add_evidence(
        actor,
        case_id,
        upload.stream if upload else None,
        filename=upload.filename if upload else None,
        kind=form.get("kind"),
        source=form.get("source") or None,
        received_at=form.get("received_at") or None,
    )


def open_evidence(actor: KesuUser, case_id: int, evidence_id: int) -> tuple[Evidence, Path]:
    """The evidence row and its file, if the actor may see the case."""
    case = get_case(actor, case_id)
    evidence = next((e for e in case.evidence if e.id == evidence_id), None)
    if evidence is None:
        raise NotFound()
    path = uploads.path_for(evidence.storage_key)
    if not path.is_file():
        raise NotFound(_l("The file is missing from storage."))
    return evidence, path
