"""The rule of an empty proposal: no submit without compensation when the customer asked for it.

A case whose proposal holds no compensation line skips approval (core.workflow.used_stages).
When the customer asked for compensation (a refund, an exchange or compensation as the demand,
or a claim amount above zero), submitting such a proposal would tell the customer "nothing"
without anyone approving it: ``submit`` answers 422 ``empty_proposal`` unless the request
confirms the empty proposal (``confirm_empty: true``) and gives the reason as its comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from core.models import Case
from core.services.errors import Invalid, PreconditionFailed

# The customer's demands that ask for compensation (core.vocab.DEMANDS).
COMPENSATING_DEMANDS = frozenset({"refund", "exchange", "compensation"})


def customer_asked(case: Case) -> bool:
    """Whether the customer asked for compensation: by the demand or by a claim amount."""
    return case.demand in COMPENSATING_DEMANDS or bool(case.claim_amount and case.claim_amount > 0)


def check_submit(case: Case, payload: Mapping[str, Any], comment: str | None) -> dict[str, Any]:
    """Refuse an empty proposal the customer's request contradicts, unless confirmed with a
    reason; returns the audited extra values (``confirm_empty``) of a confirmed one."""
    confirm = payload.get("confirm_empty")
    if confirm is not None and not isinstance(confirm, bool):
        raise Invalid(_l("Must be true or false."), field="confirm_empty")
    if case.compensation or not customer_asked(case):
        return {}
    if not confirm:
        message = _l(
            "The proposal holds no compensation although the customer asked for it: add a "
            "compensation line, or confirm that nothing is paid and give the reason."
        )
        raise PreconditionFailed(
            message,
            field="compensation",
            problems=[{"code": "empty_proposal", "field": "compensation", "message": str(message)}],
        )
    if comment is None:
        message = _l("Give the reason why the customer receives no compensation.")
        raise PreconditionFailed(
            message,
            field="comment",
            problems=[
                {"code": "empty_proposal_reason", "field": "comment", "message": str(message)}
            ],
        )
    return {"confirm_empty": True}
