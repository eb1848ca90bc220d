"""The case page's action buttons and evidence gallery (issue 10, item 5).

Each allowed action is a button carrying just the fields it needs (``core.workflow.Action``
``inputs`` and ``comment_required``); the evidence shows images as thumbnails, previewed from
an inline route that serves only raster images, under the download's authorization.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, g
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access

from core.downloads import inline_image_response
from core.inputs import form_int
from core.models import Case, Evidence
from core.services import evidence as evidence_service
from core.services.empty_proposal import customer_asked
from core.services.errors import ServiceError
from core.workflow import ACTIONS, Action

# The images a browser shows in an <img> without running anything: the preview serves only
# these (any other type, even an image one, stays a download).
PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# The form keys an action post may carry, besides the booleans read below.
TEXT_KEYS = ("comment", "department", "handler", "root_cause", "root_cause_category")


@dataclass(frozen=True)
class ActionButton:
    """One action on the case page: a one-click button or a button opening its small form."""

    action: Action
    fields: tuple[str, ...]  # the inputs the form shows, in order
    comment_required: bool
    one_click: bool

    @property
    def name(self) -> str:
        return self.action.name


def action_payload(form: Mapping[str, str]) -> dict[str, Any]:
    """The service payload of an action form: only the keys the form filled in."""
    payload: dict[str, Any] = {}
    for key in TEXT_KEYS:
        if form.get(key):
            payload[key] = form[key]
    if "effective" in form:
        payload["effective"] = form["effective"] == "yes"
    if form.get("override") == "yes":
        payload["override"] = True
    if form.get("confirm_empty") == "yes":
        payload["confirm_empty"] = True
    if form.get("version"):
        payload["version"] = form_int(form["version"])
    return payload


def empty_proposal(case: Case) -> bool:
    """Submitting needs the explicit confirmation: no compensation although the customer asked."""
    return not case.compensation and customer_asked(case)


def action_buttons(case: Case, allowed: list[str], *, can_override: bool) -> list[ActionButton]:
    """The buttons of the actions the user may run now, each with the fields it needs."""
    buttons = []
    for name in allowed:
        action = ACTIONS[name]
        fields = list(action.inputs)
        required = action.comment_required
        if name == "accept" and case.acceptance_issues and can_override:
            fields.append("override")
        if name == "submit" and empty_proposal(case):
            fields.append("confirm_empty")
            required = True
        one_click = not fields and not required
        buttons.append(ActionButton(action, tuple(fields), required, one_click))
    return buttons


def is_preview(evidence: Evidence) -> bool:
    return evidence.content_type in PREVIEW_TYPES


def gallery(case: Case) -> tuple[list[Evidence], list[Evidence]]:
    """The case's evidence split into previewable images and other files."""
    images = [e for e in case.evidence if is_preview(e)]
    files = [e for e in case.evidence if not is_preview(e)]
    return images, files


class CaseActionsMixin:
    """Routes of the case page added to ``CaseView`` (its permission: read, like the download)."""

    @expose("/<int:pk>/evidence/<int:evidence_id>/preview")
    @has_access
    def preview(self, pk: int, evidence_id: int):
        """An image of the evidence shown inline (thumbnail and preview); anything else is 404."""
        try:
            evidence, path = evidence_service.open_evidence(g.user, pk, evidence_id)
        except ServiceError:
            abort(404)
        if not is_preview(evidence):
            abort(404)
        return inline_image_response(path, evidence.filename, evidence.content_type)
