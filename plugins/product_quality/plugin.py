"""Hook implementations of the product-quality plugin (产品质量)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import fields, hookimpl
from core.contracts import (
    AcceptanceIssue,
    FieldSpec,
    Panel,
    Problem,
    Proposal,
    ProposalLine,
    RootCauseSpec,
    ViewSpec,
    WorkSection,
)
from core.roles import QA, RESPONSIBLE_DEPT
from core.services.notifications import N_
from plugins.product_quality import DESCRIPTOR, history, models, rules, services  # noqa: F401 - models: tables

KEY = DESCRIPTOR.key
INVESTIGATING = "investigating"  # the workflow stage where QA analyses the case
HERE = Path(__file__).parent

PROBLEMS = (
    ("short_shipment", _l("Short shipment")),
    ("wrong_shipment", _l("Wrong shipment")),
    ("damage_on_receipt", _l("Damage found on receipt")),
    ("quality_defect", _l("Quality defect")),
)
DEFECT_LABELS = {
    "particles": _l("Particles"),
    "powdering": _l("Powdering"),
    "caking": _l("Caking"),
    "colour_difference": _l("Colour difference"),
    "can_condition": _l("Can condition"),
    "sediment": _l("Sediment"),
    "abnormal_additive": _l("Abnormal additive"),
    "packaging_standard": _l("Packaging below the national standard"),
    "other": _l("Other"),
}
REMEDIES = services.REMEDY_CHOICES
MESSAGES = {
    ("late_report", "goods_received_at"): _l(
        "Reported more than 7 days after the goods were received."
    ),
    ("missing_evidence", "goods_received_at"): _l("Give the time the goods were received."),
    ("missing_evidence", "batch_no"): _l("Give the production batch."),
    ("missing_evidence", "photo"): _l("Upload photos or a video of the goods."),
    ("missing_evidence", "quantity"): _l("Give the affected quantity."),
}
LINE_NOTES = {
    "reship": N_("Reship"),
    "recall_credit": N_("Recall the goods, then credit"),
    "urgent_reship": N_("Urgent reshipment; recall and credit within the same month"),
    "recall_same_month": N_("Recall and credit within the same month"),
    "credit_to_zero": N_("Unit price credited to zero"),
    "free_goods": N_("Zero-price free-goods order; quote the case number on the order"),
}


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR


@hookimpl
def kesu_translation_dirs():
    return [str(HERE / "translations")]


@hookimpl
def kesu_event_labels():
    return {
        "quality_analysis": _l("Quality analysis recorded"),
        "capa_action": _l("Corrective or preventive action recorded"),
        "quality_capa_action": _l("Corrective or preventive action"),
        "capa_done": _l("Corrective or preventive action done"),
        "qa_first_reply": _l("QA's first reply due"),
    }


@hookimpl
def kesu_migrations_dirs():
    return [str(HERE / "migrations")]


# Where each defect kind sits in the root-cause catalogue (a top-level entry of the defaults).
DEFECT_ROOT_CAUSES = {
    "particles": "process",
    "powdering": "process",
    "caking": "storage",
    "colour_difference": "process",
    "can_condition": "packaging",
    "sediment": "process",
    "abnormal_additive": "material",
    "packaging_standard": "packaging",
    "other": "other",
}


@hookimpl
def kesu_root_causes():
    return [
        RootCauseSpec(defect, parent, DEFECT_LABELS[defect])
        for defect, parent in DEFECT_ROOT_CAUSES.items()
    ]


@hookimpl
def kesu_capa_actions(user, line_ids, now):
    return services.capa_rows(line_ids, now)


@hookimpl
def kesu_line_settings():
    return {"defects": list(rules.KNOWN_DEFECTS)}


@hookimpl
def kesu_setting_labels():
    return {"defects": _l("Defect kinds offered at intake")}


@hookimpl
def kesu_roles():
    return {
        QA: [(services.ANALYSIS_VIEW, services.CAN_RECORD), (services.CAPA_VIEW, services.CAN_ADD)],
        RESPONSIBLE_DEPT: [(services.CAPA_VIEW, services.CAN_ADD)],
    }


@hookimpl
def kesu_views():
    from plugins.product_quality.views import QualityApi, QualityView

    return [
        ViewSpec(view=QualityView, name="QualityView", menu=False),
        ViewSpec(view=QualityApi, name="QualityApi"),
    ]


@hookimpl
def kesu_case_fields(line, category):
    if category != KEY:
        return None
    # An emptied list offers the known defects (a choice field needs choices).
    defects = line.plugin_settings.get(KEY, {}).get("defects") or rules.KNOWN_DEFECTS
    return [
        FieldSpec("problem", "choice", _l("Quality problem"), required=True, choices=PROBLEMS),
        FieldSpec("affected_quantity", "integer", _l("Affected quantity"), min_value=0),
        FieldSpec("unit_price", "decimal", _l("Unit price (CNY)"), min_value=0),
        FieldSpec(
            "defect",
            "choice",
            _l("Defect"),
            choices=tuple((d, DEFECT_LABELS.get(d, d)) for d in defects),
        ),
        # Decided by QA's investigation, not asked of the customer at registration.
        FieldSpec("remedy", "choice", _l("Remedy"), choices=REMEDIES, stage=INVESTIGATING),
        FieldSpec("responsible_unit", "string", _l("Responsible unit"), stage=INVESTIGATING),
        FieldSpec(
            "engineering_change_no",
            "string",
            _l("Engineering change number"),
            stage=INVESTIGATING,
        ),
    ]


@hookimpl
def kesu_acceptance_issues(case):
    if case.category != KEY:
        return None
    found = rules.acceptance_issues(
        problem=case.details.get("problem"),
        goods_received_on=case.goods_received_on,
        received_on=case.received_on,
        batch_no=case.batch_no,
        has_photo=case.has_evidence("photo", "video"),
        affected_quantity=case.details.get("affected_quantity"),
    )
    return [AcceptanceIssue(code, MESSAGES[(code, field)], field) for code, field in found]


def _unit_price(case) -> Decimal:
    price = case.details.get("unit_price")
    if price is None:
        price = case.product.get("unit_price")
    return Decimal(price or 0)


@hookimpl
def kesu_compensation_proposal(case):
    if case.category != KEY:
        return None
    problem = case.details.get("problem")
    quantity = case.details.get("affected_quantity") or 0
    price = _unit_price(case)
    goods = {"sku": case.product.get("code"), "batch_no": case.batch_no}
    if problem in rules.AT_RECEIPT:
        reship = rules.reship_quantity(problem, quantity)
        return (
            [ProposalLine.goods("reship", reship, price, note=LINE_NOTES["reship"], **goods)]
            if reship
            else []
        )
    remedy = case.details.get("remedy")
    if remedy == "explain":
        return Proposal(
            note=N_(
                "Not the company's fault: customer service explains to the customer "
                "until the customer understands and accepts."
            )
        )
    lines = [
        ProposalLine.goods(kind, qty, price, note=LINE_NOTES[note], **goods)
        for kind, qty, note in rules.defect_remedy_lines(remedy, quantity, price)
    ]
    if not lines:
        return Proposal(note=N_("Choose a remedy and the affected quantity, then propose again."))
    return lines


@hookimpl
def kesu_workflow_stages(case):
    if case.category != KEY:
        return None
    if case.details.get("problem") == "quality_defect":
        return ("approving", "executing", "confirming", "verifying")  # the CAPA loop
    return ("approving", "executing", "confirming")


@hookimpl
def kesu_action_problems(case, action, payload):
    if case.category != KEY or case.details.get("problem") != "quality_defect":
        return None
    if action == "verify" and payload.get("effective") is True:
        # QA verifies the effect of actions carried out, not of promises.
        corrective = [a for a in services.actions_of(case.id) if a.kind == "corrective"]
        if any(a.done_at is None for a in corrective):
            return [
                Problem(
                    "corrective_action_open",
                    _l("The responsible unit first reports its corrective actions done."),
                    "corrective_action",
                )
            ]
        # Found not effective before, the case went back to investigation: only an action
        # carried out since then can make it effective now, not the ones done before.
        since = case.stage_times.get("investigating")
        if case.verified_effective is False and not any(
            a.done_at is not None and (since is None or a.done_at >= since) for a in corrective
        ):
            return [
                Problem(
                    "corrective_action_missing",
                    _l(
                        "The action was found not effective: a corrective action must be "
                        "reported done since then."
                    ),
                    "corrective_action",
                )
            ]
        return None
    if action != "propose":
        return None
    problems = []
    if not case.details.get("responsible_unit"):
        problems.append(
            Problem(
                "missing_analysis",
                _l("QA first records the responsible unit."),
                "details.responsible_unit",
            )
        )
    if not any(a.kind == "corrective" for a in services.actions_of(case.id)):
        problems.append(
            Problem(
                "missing_corrective_action",
                _l("The responsible unit first records a corrective action with a due date."),
                "corrective_action",
            )
        )
    return problems


@hookimpl
def kesu_deadlines(case):
    if case.category != KEY or case.details.get("problem") != "quality_defect":
        return None
    assigned = case.stage_times.get("investigating")
    if not assigned or case.root_cause:
        return None  # not assigned yet, or QA has replied with its analysis: met
    return {"qa_first_reply": rules.qa_first_reply_due(assigned)}


@hookimpl
def kesu_case_panels(case):
    if case.category != KEY:
        return None
    return [
        Panel(
            title=_l("Quality analysis and corrective actions"),
            template="product_quality/panel.html",
            context={
                "actions": services.actions_of(case.id),
                "quality_defect": case.details.get("problem") == "quality_defect",
                "analysis_max": fields.maxima(services.ANALYSIS_FIELDS),
                "action_max": fields.maxima(services.ACTION_FIELDS),
                "done_max": fields.maxima(services.DONE_FIELDS),
                "remedies": services.REMEDY_CHOICES,
            },
        )
    ]


@hookimpl
def kesu_work_sections(user, now):
    if RESPONSIBLE_DEPT not in {role.name for role in user.roles}:
        return None
    return [
        WorkSection(
            "capa_actions",
            _l("Corrective actions of my department"),
            services.department_actions(user, now),
        )
    ]


@hookimpl
def kesu_audit_sentence(event):
    return history.sentence(event)
