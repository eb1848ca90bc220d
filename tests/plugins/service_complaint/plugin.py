"""Hook implementations of the service-complaint example plugin."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.contracts import AcceptanceIssue, FieldSpec, ProposalLine
from core.timeutil import in_zone

from . import DESCRIPTOR, rules

KEY = DESCRIPTOR.key


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
            "service_area",
            "choice",
            _l("Service area"),
            required=True,
            choices=(
                ("front_desk", _l("Front desk")),
                ("housekeeping", _l("Housekeeping")),
                ("catering", _l("Catering")),
            ),
        ),
        FieldSpec("stay_date", "date", _l("Date of stay")),
    ]


@hookimpl
def kesu_acceptance_issues(case):
    if case.category != KEY:
        return None
    received_on = in_zone(case.received_at, case.line.timezone).date()
    if rules.late_report(case.details.get("stay_date"), received_on):
        return [
            AcceptanceIssue(
                "late_report", _l("Reported more than 30 days after the stay."), "stay_date"
            )
        ]
    return []


@hookimpl
def kesu_compensation_proposal(case):
    if case.category != KEY:
        return None
    amount = rules.voucher_amount(case.claim_amount)
    return [ProposalLine(kind="refund", amount=amount, note="goodwill voucher")] if amount else []
