"""The returns plugin's audit events told as sentences (``kesu_audit_sentence``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contracts import AuditFacts
from plugins.policy_returns.services import REASONS


def _new(changes: dict, key: str):
    value = changes.get(key)
    return value[1] if isinstance(value, list) and len(value) == 2 else value


def sentence(event: AuditFacts) -> str | None:
    if event.action != "return_receipt":
        return None
    changes = event.changes
    shown = {
        "who": event.who,
        "quantity": _new(changes, "quantity") or 0,
        "sku": _new(changes, "sku") or "—",
        "batch": _new(changes, "batch_no") or "—",
    }
    if _new(changes, "accepted"):
        return str(
            _l(
                "%(who)s received the return at the warehouse: %(quantity)s × %(sku)s, "
                "batch %(batch)s; accepted",
                **shown,
            )
        )
    reasons = "; ".join(str(REASONS.get(r, r)) for r in _new(changes, "reasons") or [])
    return str(
        _l(
            "%(who)s received the return at the warehouse: %(quantity)s × %(sku)s, "
            "batch %(batch)s; refused: %(reasons)s",
            reasons=reasons,
            **shown,
        )
    )
