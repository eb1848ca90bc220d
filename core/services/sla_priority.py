"""The manual priority: a case's priority set by hand, with a reason, or given back to the
rules; the deadlines follow it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from core import limits
from core.db import write_transaction
from core.extensions import db
from core.roles import CAN_SET_PRIORITY
from core.services import audit
from core.services.access import can, get_case
from core.services.cases import (
    emit,
    optional_version,
    recompute,
    require_version,
    require_writable,
    snapshot,
    touch,
)
from core.services.errors import Forbidden, Invalid, PreconditionFailed

# -- manual priority -----------------------------------------------------------------------


def set_priority(actor, case_id: int, data: Any):
    """Set a case's priority by hand, or give it back to the rules (``priority: null``):
    ``{"priority": "P1", "reason": "...", "version": n}``. The reason is required; the change
    is audited and the deadlines follow the new priority."""
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    unknown = set(data) - {"priority", "reason", "version"}
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in sorted(unknown)}
        )
    if "priority" not in data:
        raise Invalid(_l("This field is required."), field="priority")
    priority = data.get("priority")
    if priority is not None and priority not in ("P1", "P2", "P3"):
        raise Invalid(_l("Must be P1, P2, P3 or null."), field="priority")
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Invalid(_l("Must be text."), field="reason")
    reason = (reason or "").strip()
    if len(reason) > limits.TEXT_LONG:
        raise Invalid(
            str(_l("Must be at most %(n)s characters.", n=limits.TEXT_LONG)), field="reason"
        )
    version = optional_version(data)
    if not reason:
        raise PreconditionFailed(_l("Give the reason for changing the priority."), field="reason")
    with write_transaction():
        case = get_case(actor, case_id, lock=True)
        if not can(actor, CAN_SET_PRIORITY):
            raise Forbidden(_l("Your role may not change a case's priority."), field="priority")
        require_writable(case)
        require_version(case, version)
        before = snapshot(case)
        old = case.priority
        case.priority_override = priority
        case.priority_override_reason = reason if priority else None
        touch(case)
        recompute(case)
        db.session.flush()
        changes = audit.diff(before, snapshot(case))
        changes["priority"] = [old, case.priority]
        changes["reason"] = reason
        audit.record(
            actor, "priority", entity="case", entity_id=case.id, case_id=case.id, changes=changes
        )
        emit(case, "priority", case.status, actor, {"priority": priority, "reason": reason})
    return case
