"""Hook implementations of the terminal-consumer plugin (终端客户投诉)."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.contracts import (
    AcceptanceIssue,
    ApprovalStepSpec,
    FieldSpec,
    Problem,
    Proposal,
    ProposalLine,
)
from core.services.notifications import N_
from plugins.terminal_consumer import DESCRIPTOR, rules

KEY = DESCRIPTOR.key

MISSING = {
    "contact": _l("Record the complainant's phone or contact person first."),
    "batch_no": _l("Give the production batch."),
    "photo": _l("Upload photos of the product."),
    "quantity": _l("Give the quantity bought."),
    "amount_paid": _l("Give the amount the consumer paid."),
}
UNMET = {
    "settlement_signed": _l("Both sides must sign the settlement first."),
    "complaint_withdrawn": _l(
        "The consumer must withdraw the complaint (also with the regulator) first."
    ),
    "legal_action": _l("Record the legal action taken against the malicious complaint."),
}


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR


@hookimpl
def kesu_translation_dirs():
    return [str(Path(__file__).parent / "translations")]


@hookimpl
def kesu_case_fields(line, category):
    if category != KEY:
        return None
    return [
        FieldSpec("amount_paid", "decimal", _l("Amount paid (CNY)"), min_value=0),
        FieldSpec(
            "outcome",
            "choice",
            _l("Investigation outcome"),
            choices=(
                ("genuine", _l("Genuine quality problem")),
                ("malicious", _l("Malicious complaint")),
            ),
        ),
        FieldSpec("settlement_signed", "boolean", _l("Settlement signed by both sides")),
        FieldSpec(
            "complaint_withdrawn", "boolean", _l("Complaint withdrawn (also with the regulator)")
        ),
        FieldSpec("apology_statement_received", "boolean", _l("Apology statement received")),
        FieldSpec("legal_action", "text", _l("Legal action and damages claimed")),
    ]


@hookimpl
def kesu_acceptance_issues(case):
    if case.category != KEY:
        return None
    found = rules.acceptance_issues(
        has_contact=bool(case.customer.get("phone") or case.customer.get("contact")),
        batch_no=case.batch_no,
        has_photo=case.has_evidence("photo", "video"),
        quantity=case.quantity_purchased,
        amount_paid=case.details.get("amount_paid"),
    )
    return [AcceptanceIssue(code, MISSING[field], field) for code, field in found]


@hookimpl
def kesu_compensation_proposal(case):
    if case.category != KEY:
        return None
    d = case.details
    if d.get("outcome") == "malicious":
        return Proposal(
            note=N_(
                "Malicious complaint: no compensation. Legal action; "
                "demand an apology statement and damages."
            )
        )
    amount = rules.settlement_refund(case.claim_amount, d.get("amount_paid"))
    return [ProposalLine(kind="refund", amount=amount, note=N_("Consumer settlement"))]


@hookimpl
def kesu_approval_steps(case, lines):
    if case.category != KEY or case.details.get("outcome") != "genuine":
        return None
    return [ApprovalStepSpec("leadership", ("leadership",))]


def _problems(fields: list[str]) -> list[Problem]:
    return [Problem(f"{field}_missing", UNMET[field], f"details.{field}") for field in fields]


@hookimpl
def kesu_action_problems(case, action, payload):
    if case.category != KEY:
        return None
    d = case.details
    if action == "propose" and d.get("outcome") is None:
        return [
            Problem("missing_outcome", _l("Decide first: genuine or malicious."), "details.outcome")
        ]
    if action == "execute":
        return _problems(
            rules.payment_problems(
                d.get("outcome"),
                bool(d.get("settlement_signed")),
                bool(d.get("complaint_withdrawn")),
            )
        )
    if action == "confirm":  # no verification stage: confirming closes the case
        return _problems(
            rules.closing_problems(
                d.get("outcome"),
                bool(d.get("settlement_signed")),
                bool(d.get("complaint_withdrawn")),
                d.get("legal_action"),
            )
        )
    return None


@hookimpl
def kesu_workflow_stages(case):
    return ("approving", "executing", "confirming") if case.category == KEY else None
