"""The core's default plugin: generic rules that hold for every category (DOMAIN.md sections
5 and 7).

Registered like any plugin (under the name ``kesu_core``) so that the same hook machinery
carries core and plugin rules alike.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.contracts import (
    ApprovalStepSpec,
    CaseFacts,
    PriorityReason,
    Problem,
    ProposalLine,
    compensation_total,
)


def above_threshold(case: CaseFacts, lines) -> bool:
    """A proposal above the line's threshold (CNY 25,000 by default) goes to sales management."""
    return compensation_total(lines) > case.line.settings["approval_threshold"]


@hookimpl
def kesu_approval_steps(case: CaseFacts, lines: tuple[ProposalLine, ...]):
    """Any compensation: the customer-service supervisor. Above the threshold: then the
    regional sales manager, then the sales general manager, in that order."""
    if not lines:
        return None
    steps = [ApprovalStepSpec("cs_supervisor", ("cs_supervisor",))]
    if above_threshold(case, lines):
        steps += [
            ApprovalStepSpec("regional_sales_manager", ("regional_sales_manager",)),
            ApprovalStepSpec("sales_gm", ("sales_gm",)),
        ]
    return steps


@hookimpl
def kesu_action_problems(case: CaseFacts, action: str, payload: dict):
    """A proposal above the threshold is submitted with a written case report (a document)."""
    if (
        action == "submit"
        and above_threshold(case, case.compensation)
        and "document" not in case.evidence_kinds
    ):
        return [
            Problem(
                "missing_case_report",
                str(
                    _l(
                        "A proposal above CNY %(amount)s needs a written case report: upload it as a document.",
                        amount=case.line.settings["approval_threshold"],
                    )
                ),
                "case_report",
            )
        ]
    return None


@hookimpl
def kesu_priority_reasons(case: CaseFacts):
    """P2 (DOMAIN.md section 5): a claim of at least CNY 5,000 (the line's ``p2_claim_amount``),
    a key account, or a repeat complaint (the same customer within ``repeat_days``, 30)."""
    from core.extensions import db
    from core.models import BusinessLine
    from core.services.sla_customers import is_repeat

    reasons = []
    if case.claim_amount is not None and case.claim_amount >= case.line.settings["p2_claim_amount"]:
        reasons.append(PriorityReason("P2", "claim_amount"))
    if case.customer.get("kind") == "key_account":
        reasons.append(PriorityReason("P2", "key_account"))
    line = db.session.get(BusinessLine, case.line.id)
    if is_repeat(case.customer.get("id"), case.id, case.received_at, line):
        reasons.append(PriorityReason("P2", "repeat_complaint"))
    return reasons
