"""The core's default plugin: generic rules that hold for every category.

Registered like any plugin (under the name ``kesu_core``) so that the same hook machinery
carries core and plugin rules alike.
"""

from __future__ import annotations

from core import hookimpl
from core.contracts import ApprovalStepSpec, CaseFacts, ProposalLine
from core.roles import CS_SUPERVISOR


@hookimpl
def kesu_approval_steps(case: CaseFacts, lines: tuple[ProposalLine, ...]):
    """Any compensation needs the customer-service supervisor's sign-off (DOMAIN 7)."""
    if lines:
        return [ApprovalStepSpec(step="cs_supervisor", role=CS_SUPERVISOR)]
    return None
