"""Hook implementations of the major-incident plugin (重大投诉): cross-cutting, on every case."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.contracts import FieldSpec, Panel, ViewSpec, WorkSection
from core.extensions import db
from core.models import Case, KesuUser
from core.roles import MANAGER, ROLES
from core.services.access import SYSTEM
from core.services.workspace import case_rows
from core.workflow import FINAL
from plugins.major_incident import DESCRIPTOR, models, rules, services  # noqa: F401 - models: tables

KEY = DESCRIPTOR.key
HERE = Path(__file__).parent

REASON_LABELS = {
    "regulator": _l("Market regulators or quality inspection involved"),
    "media": _l("Media involved or public-opinion risk"),
    "safety": _l("Personal safety involved"),
    "medical_cost": _l("Health affected: medical examination above CNY 100"),
    "key_account": _l("Complaint from a key account"),
    "batch_outbreak": _l("Several complaints about the same batch"),
}


@hookimpl
def kesu_plugin_descriptor():
    return DESCRIPTOR


@hookimpl
def kesu_translation_dirs():
    return [str(HERE / "translations")]


@hookimpl
def kesu_migrations_dirs():
    return [str(HERE / "migrations")]


@hookimpl
def kesu_line_settings():
    return {"outbreak_cases": 3, "outbreak_days": 30}


@hookimpl
def kesu_event_labels():
    # The case's major reasons are recorded by their codes.
    return dict(REASON_LABELS)


@hookimpl
def kesu_setting_labels():
    return {
        "outbreak_cases": _l("Complaints about one batch that make a major incident"),
        "outbreak_days": _l("Within this many days"),
    }


@hookimpl
def kesu_roles():
    from plugins.major_incident.views import INCIDENT_VIEW

    return {
        role: [(INCIDENT_VIEW, "can_read"), ("Major incidents", "menu_access")] for role in ROLES
    }


@hookimpl
def kesu_views():
    from plugins.major_incident.views import IncidentApi, IncidentView

    return [
        ViewSpec(
            view=IncidentView,
            name="Major incidents",
            label=_l("Major incidents"),
            category="Complaints",
            icon="fa-exclamation-triangle",
        ),
        ViewSpec(view=IncidentApi, name="IncidentApi"),
    ]


@hookimpl
def kesu_case_fields(line, category):
    # Cross-cutting: these fields join every category's form on the lines where it is enabled.
    return [
        FieldSpec("regulator_involved", "boolean", _l("Regulators involved")),
        FieldSpec("media_involved", "boolean", _l("Media involved")),
        FieldSpec("safety_risk", "boolean", _l("Personal safety at risk")),
        FieldSpec("medical_cost", "decimal", _l("Medical examination cost (CNY)"), min_value=0),
    ]


@hookimpl
def kesu_major_reasons(case):
    d = case.details
    return rules.major_reasons(
        regulator=bool(d.get("regulator_involved")) or case.channel == "regulator",
        media=bool(d.get("media_involved")) or case.channel == "media",
        safety=bool(d.get("safety_risk")),
        medical_cost=d.get("medical_cost"),
        key_account=case.customer.get("kind") == "key_account",
        outbreak=bool(services.outbreak_members(case)),
    )


@hookimpl
def kesu_case_event(case, event):
    if not case.is_major:
        return
    actor = db.session.get(KesuUser, event.actor_id) if event.actor_id else SYSTEM
    services.group_outbreak(case, actor)
    services.escalate(db.session.get(Case, case.id))


@hookimpl
def kesu_case_panels(case):
    if not case.is_major:
        return None
    return [
        Panel(
            title=_l("Major complaint"),
            template="major_incident/panel.html",
            context={"labels": REASON_LABELS, "incident": services.incident_of(case.id)},
        )
    ]


@hookimpl
def kesu_work_sections(user, now):
    if MANAGER not in {role.name for role in user.roles}:
        return None
    return [
        WorkSection(
            "major_incidents",
            _l("Major incidents"),
            case_rows(user, now, Case.is_major.is_(True), Case.status.not_in(sorted(FINAL))),
            link="/incidents/",
        )
    ]
