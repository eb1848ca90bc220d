"""The product-quality plugin's audit events told as sentences (``kesu_audit_sentence``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contracts import AuditFacts
from plugins.product_quality.services import ACTION_FIELDS

CAPA_KINDS = dict(next(s for s in ACTION_FIELDS if s.name == "kind").choices)


def _new(changes: dict, key: str):
    value = changes.get(key)
    return value[1] if isinstance(value, list) and len(value) == 2 else value


def sentence(event: AuditFacts) -> str | None:
    changes = event.changes
    if event.action == "quality_analysis":
        details = _new(changes, "details") or {}
        cause = _new(changes, "root_cause") or details.get("root_cause") or "—"
        return str(
            _l(
                "%(who)s recorded the quality analysis: root cause “%(cause)s”, "
                "responsible unit %(unit)s",
                who=event.who,
                cause=cause,
                unit=details.get("responsible_unit") or "—",
            )
        )
    if event.action == "capa_action":
        kind = _new(changes, "kind")
        return str(
            _l(
                "%(who)s recorded a %(kind)s: “%(measure)s”, by %(unit)s, due %(due)s",
                who=event.who,
                kind=str(CAPA_KINDS.get(kind, kind)),
                measure=_new(changes, "description") or "—",
                unit=_new(changes, "responsible_unit") or "—",
                due=_new(changes, "due_date") or "—",
            )
        )
    if event.action == "capa_done":
        kind = _new(changes, "kind")
        return str(
            _l(
                "%(who)s reported the %(kind)s “%(measure)s” done: %(note)s",
                who=event.who,
                kind=str(CAPA_KINDS.get(kind, kind)),
                measure=_new(changes, "description") or "—",
                note=_new(changes, "note") or "—",
            )
        )
    return None
