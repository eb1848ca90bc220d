"""Hook implementations of the logistics plugin (物流问题)."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import hookimpl, limits
from core.contracts import AcceptanceIssue, ApprovalStepSpec, FieldSpec, Problem, Proposal
from core.services.notifications import N_
from plugins.logistics import DESCRIPTOR, rules

KEY = DESCRIPTOR.key

MESSAGES = {
    ("late_report", "goods_received_at"): _l(
        "Damage or shortage was not raised on the day of receipt: the goods count as accepted in good order."
    ),
    ("missing_evidence", "goods_received_at"): _l("Give the time the goods were received."),
    ("missing_evidence", "delivery_note"): _l(
        "Upload the carrier's delivery note, annotated with what was received and signed by both sides."
    ),
    ("within_normal_transit", "transit_days_actual"): _l(
        "The delay is within the normal transit time."
    ),
    ("force_majeure", "force_majeure"): _l("The delay was caused by force majeure."),
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
        FieldSpec(
            "problem",
            "choice",
            _l("Logistics problem"),
            required=True,
            choices=(
                ("transit_damage", _l("Damage in transit")),
                ("transit_shortage", _l("Shortage in transit")),
                ("delay", _l("Delivery delay")),
                ("carrier_service", _l("Carrier's service")),
            ),
        ),
        FieldSpec("affected_quantity", "integer", _l("Damaged or missing quantity"), min_value=0),
        FieldSpec("carrier", "string", _l("Carrier")),
        FieldSpec(
            "carrier_negotiation",
            "choice",
            _l("Settlement with the carrier"),
            choices=(
                ("settled", _l("Settled with the carrier")),
                ("failed", _l("Carrier refused")),
                ("pending", _l("Still negotiating")),
            ),
        ),
        FieldSpec(
            "damage_severity",
            "choice",
            _l("Damage severity"),
            choices=(
                ("minor", _l("Minor")),
                ("severe", _l("Severe")),
            ),
        ),
        FieldSpec(
            "transit_days_normal",
            "integer",
            _l("Normal transit days"),
            min_value=0,
            max_value=limits.DAYS,
        ),
        FieldSpec(
            "transit_days_actual",
            "integer",
            _l("Actual transit days"),
            min_value=0,
            max_value=limits.DAYS,
        ),
        FieldSpec("force_majeure", "boolean", _l("Force majeure")),
    ]


@hookimpl
def kesu_acceptance_issues(case):
    if case.category != KEY:
        return None
    d = case.details
    found = rules.acceptance_issues(
        problem=d.get("problem"),
        goods_received_on=case.goods_received_on,
        received_on=case.received_on,
        has_delivery_note=case.has_evidence("delivery_note"),
        transit_days_normal=d.get("transit_days_normal"),
        transit_days_actual=d.get("transit_days_actual"),
        force_majeure=bool(d.get("force_majeure")),
    )
    return [AcceptanceIssue(code, MESSAGES[(code, field)], field) for code, field in found]


@hookimpl
def kesu_compensation_proposal(case):
    if case.category != KEY:
        return None
    d = case.details
    if rules.exceptional_compensation_allowed(
        d.get("carrier_negotiation"), d.get("damage_severity")
    ):
        return Proposal(
            lines=(),
            note=N_(
                "The carrier refused and the damage is severe: customer service may propose "
                "exceptional compensation, approved by the supervisor and the marketing director."
            ),
        )
    return Proposal(
        lines=(),
        note=N_(
            "No compensation from the company: the customer claims from the carrier. "
            "Customer service helps to negotiate."
        ),
    )


@hookimpl
def kesu_compensation_problems(case, lines):
    if case.category != KEY or not lines:
        return None
    d = case.details
    if rules.exceptional_compensation_allowed(
        d.get("carrier_negotiation"), d.get("damage_severity")
    ):
        return None
    return [
        Problem(
            "exceptional_not_allowed",
            _l("The company compensates only when the carrier refused and the damage is severe."),
            "lines",
        )
    ]


@hookimpl
def kesu_approval_steps(case, lines):
    if case.category != KEY or not lines:
        return None
    return [
        ApprovalStepSpec("cs_supervisor", ("cs_supervisor",)),
        ApprovalStepSpec("marketing_director", ("marketing_director",)),
    ]


@hookimpl
def kesu_workflow_stages(case):
    # No corrective action to verify: the case closes when the customer confirms.
    return ("approving", "executing", "confirming") if case.category == KEY else None
