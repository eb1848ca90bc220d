"""Hook implementations of the policy-returns plugin (政策退换货)."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import fields, hookimpl
from core.contracts import (
    ApprovalStepSpec,
    FieldSpec,
    Panel,
    Problem,
    Proposal,
    ProposalLine,
    ViewSpec,
    WorkSection,
)
from core.roles import CASE
from core.services.notifications import N_
from plugins.policy_returns import DESCRIPTOR, history, models, rules, services  # noqa: F401 - models: tables

KEY = DESCRIPTOR.key
HERE = Path(__file__).parent


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR


@hookimpl
def kesu_translation_dirs():
    return [str(HERE / "translations")]


@hookimpl
def kesu_event_labels():
    return {"return_receipt": _l("Return received at the warehouse")}


@hookimpl
def kesu_migrations_dirs():
    return [str(HERE / "migrations")]


@hookimpl
def kesu_role_labels():
    return {services.WAREHOUSE: _l("Central warehouse")}


@hookimpl
def kesu_roles():
    # The central warehouse receives returns; it reads cases and records receipts.
    return {
        services.WAREHOUSE: [
            (CASE, "can_read"),
            (services.RECEIPT_VIEW, services.CAN_RECORD),
            ("Complaints|Cases|Notifications", "menu_access"),
            ("Notification", "can_read"),
        ]
    }


@hookimpl
def kesu_views():
    from plugins.policy_returns.views import ReturnsApi, ReturnsView

    return [
        ViewSpec(view=ReturnsView, name="ReturnsView", menu=False),
        ViewSpec(view=ReturnsApi, name="ReturnsApi"),
    ]


@hookimpl
def kesu_case_fields(line, category):
    if category != KEY:
        return None
    return [
        FieldSpec(
            "liable_party",
            "choice",
            _l("Liable party"),
            choices=(("customer", _l("Customer")), ("company", _l("Company"))),
        ),
        FieldSpec("responsible_person", "string", _l("Responsible person")),
        FieldSpec("sku", "string", _l("SKU returned"), max_length=64),
        FieldSpec("return_quantity", "integer", _l("Quantity returned"), min_value=0),
        FieldSpec("freight_out", "decimal", _l("Outbound freight (CNY)"), min_value=0),
        FieldSpec("freight_back", "decimal", _l("Return freight (CNY)"), min_value=0),
        FieldSpec("insists_on_return", "boolean", _l("Customer insists on returning")),
    ]


@hookimpl
def kesu_compensation_proposal(case):
    if case.category != KEY:
        return None
    d = case.details
    lines = []
    for kind, amount in rules.proposal(
        d.get("liable_party"),
        bool(d.get("insists_on_return")),
        d.get("freight_out"),
        d.get("freight_back"),
    ):
        note = (
            d.get("responsible_person")
            if kind == "charge_responsible_person"
            else N_("Freight both ways")
        )
        lines.append(
            ProposalLine(
                kind=kind,
                amount=amount,
                sku=d.get("sku"),
                batch_no=case.batch_no,
                quantity=d.get("return_quantity"),
                note=note or "",
            )
        )
    if not lines:
        return Proposal(note=N_("The customer is liable and does not insist: no return."))
    return lines


@hookimpl
def kesu_approval_steps(case, lines):
    d = case.details
    if case.category != KEY or not rules.goes_back(
        d.get("liable_party"), bool(d.get("insists_on_return"))
    ):
        return None
    return [ApprovalStepSpec("returns", ("marketing_director", "general_manager"))]


@hookimpl
def kesu_action_problems(case, action, payload):
    if case.category != KEY or action != "propose":
        return None
    d = case.details
    problems = []
    if d.get("liable_party") is None:
        problems.append(
            Problem("missing_liable_party", _l("Name the liable party."), "details.liable_party")
        )
    if d.get("liable_party") == "company" and not d.get("responsible_person"):
        problems.append(
            Problem(
                "missing_responsible_person",
                _l("Name the responsible person the cost is charged to."),
                "details.responsible_person",
            )
        )
    if rules.goes_back(d.get("liable_party"), bool(d.get("insists_on_return"))):
        for key in ("sku", "return_quantity"):
            if not d.get(key):
                problems.append(
                    Problem(
                        "missing_return_goods",
                        _l("Say which goods come back and how many."),
                        f"details.{key}",
                    )
                )
    return problems


@hookimpl
def kesu_workflow_stages(case):
    return ("approving", "executing", "confirming") if case.category == KEY else None


@hookimpl
def kesu_case_panels(case):
    if case.category != KEY:
        return None
    return [
        Panel(
            title=_l("Return at the central warehouse"),
            template="policy_returns/panel.html",
            context={
                "receipts": services.receipts_of(case.id),
                "reasons": services.REASONS,
                "maxima": fields.maxima(services.RECEIPT_FIELDS),
            },
        )
    ]


@hookimpl
def kesu_work_sections(user, now):
    if services.WAREHOUSE not in {role.name for role in user.roles}:
        return None
    return [
        WorkSection(
            "returns_expected", _l("Returns expected"), services.expected_returns(user, now)
        )
    ]


@hookimpl
def kesu_audit_sentence(event):
    return history.sentence(event)
