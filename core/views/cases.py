"""Case screens: list, intake, case page (fields, evidence, actions, timeline), edit."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField

from core import fields, forms
from core.downloads import download_response
from core.extensions import db
from core.i18n import translated, translated_issues
from core.inputs import form_int
from core.models import BusinessLine, Customer, Department, KesuUser, Product
from core.roles import CAN_SET_PRIORITY
from core.services import cases as case_service
from core.services import compensation as compensation_service
from core.services import evidence as evidence_service
from core.services import (
    history,
    pickers,
    root_causes,
    sla_customers,
    sla_deadlines,
    sla_priority,
    workflow,
)
from core.services.access import can, can_view_contact, get_case
from core.services.audit import case_events
from core.services.errors import ServiceError
from core.services.lines import line_facts, registry
from core.services.present import customer_json
from core.timeutil import in_zone, local_time
from core.views import case_actions
from core.views.case_list import CaseListMixin, category_label
from core.views.intake import intake_page
from core.vocab import (
    APPROVAL_DECISIONS,
    CHANNELS,
    COMPENSATION_KINDS,
    CUSTOMER_KINDS,
    DEADLINE_STATES,
    DEADLINES,
    DEMANDS,
    EVIDENCE_KINDS,
    POSITIONS,
    PRIORITIES,
    PRIORITY_REASONS,
    PROBLEM_STAGES,
    VISIT_CHANNELS,
    VISIT_FOLLOWUPS,
    position_label,
)
from core.workflow import ACTIONS, STAGE_LABELS

EVENT_LABELS = {
    "create": _l("Registered"),
    "update": _l("Edited"),
    "upload": _l("Evidence uploaded"),
    "compensation": _l("Compensation changed"),
    "recompute": _l("Re-evaluated"),
    "priority": _l("Priority changed by hand"),
    "visit": _l("Return visit"),
    "visit_dismissed": _l("Reopen request dismissed"),
    **{name: action.label for name, action in ACTIONS.items()},
    **DEADLINES,
}
CHANGE_LABELS = {
    "number": _l("Case number"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "is_major": _l("Major"),
    "category": _l("Category"),
    "business_line_id": _l("Business line"),
    "customer_id": _l("Customer"),
    "product_id": _l("Product"),
    "details": _l("Category fields"),
    "department_id": _l("Responsible department"),
    "handler_id": _l("Handler"),
    "root_cause": _l("Root cause"),
    "comment": _l("Comment"),
    "confirm_empty": _l("Confirmed: no compensation"),
    "acceptance_override": _l("Override reason"),
    "override": _l("Override"),
    "verified_effective": _l("Corrective action effective"),
    "effective": _l("Effective"),
    "held_from": _l("Held from"),
    "compensation": _l("Compensation"),
    "approval_steps": _l("Approval steps"),
    "step": _l("Step"),
    "kind": _l("Kind"),
    "filename": _l("File"),
    "source": _l("Source"),
    "sha256": "SHA-256",
    "acceptance_issues": _l("Acceptance issues"),
    "deadlines": _l("Deadlines"),
    "major_reasons": _l("Major"),
    "priority_override": _l("Priority set by hand"),
    "priority_override_reason": _l("Reason for the priority"),
    "reason": _l("Reason"),
    "hold_minutes": _l("Working minutes on hold"),
    "deadlines_restarted": _l("Deadlines restarted"),
    "visited_at": _l("Visited at"),
    "satisfaction": _l("Satisfaction"),
    "followup": _l("Follow-up"),
    "visits_reopened": _l("Return visits"),
}


REFERENCES = {
    "business_line_id": (BusinessLine, BusinessLine.name),
    "customer_id": (Customer, Customer.name),
    "product_id": (Product, Product.name),
    "department_id": (Department, Department.name),
    "handler_id": (KesuUser, KesuUser.username),
}


# Values the timeline shows by their label, per audited field.
VALUE_LABELS = {
    "kind": {**EVIDENCE_KINDS, **COMPENSATION_KINDS},
    "channel": {**VISIT_CHANNELS, **CHANNELS},
    "followup": VISIT_FOLLOWUPS,
    "demand": DEMANDS,
    "problem_stage": PROBLEM_STAGES,
    "priority": PRIORITIES,
    "priority_override": PRIORITIES,
    "deadlines_restarted": DEADLINES,
    "step": POSITIONS,
}
ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")


def event_labels() -> dict:
    """The timeline's labels of audit actions: the plugins' and the core's."""
    labels = {}
    for result in registry().call_all("kesu_event_labels"):
        labels.update(result or {})
    return {**labels, **EVENT_LABELS}


def timeline_formatter(events, tz: str, labels: dict):
    """A function showing audit-trail values as the timeline shows them: labels, names, local times."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        for key, change in (event.changes or {}).items():
            if key in REFERENCES and isinstance(change, list):
                wanted.setdefault(key, set()).update(v for v in change if isinstance(v, int))
    names: dict[tuple[str, int], str] = {}
    for key, ids in wanted.items():
        model, column = REFERENCES[key]
        for pk, name in db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))):
            names[(key, pk)] = name

    def show(key: str, value: Any) -> str:
        if value is None or value in ("", [], {}):
            return "—"
        if key in ("status", "held_from") and value in STAGE_LABELS:
            return str(STAGE_LABELS[value])
        if isinstance(value, int) and (key, value) in names:
            return names[(key, value)]
        if isinstance(value, bool):
            return str(_l("Yes") if value else _l("No"))
        if key in VALUE_LABELS and isinstance(value, str):
            return str(VALUE_LABELS[key].get(value, value))
        if isinstance(value, str) and ISO_MOMENT.match(value):
            return local_time(value, tz)
        if isinstance(value, dict):
            return "; ".join(f"{labels.get(k, k)}: {show(k, v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(show(key, v) for v in value)
        return str(value)

    return show


def duration_text(seconds: int | None) -> str:
    """A span of time as a reader reads it: days, hours and minutes (e.g. 2 d 3 h 5 min)."""
    if seconds is None:
        return "—"
    minutes = max(int(seconds) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(str(_l("%(n)s d", n=days)))
    if hours:
        parts.append(str(_l("%(n)s h", n=hours)))
    if mins or not parts:
        parts.append(str(_l("%(n)s min", n=mins)))
    return " ".join(parts)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def display_value(spec, value: Any) -> str:
    """A stored field value as a reader sees it (choice labels, yes/no)."""
    if value is None or value == "":
        return "—"
    if spec is not None and spec.type == "choice":
        return str(dict(spec.choices).get(value, value))
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    return str(value)


def visible_case(actor, pk: int):
    """The case if the actor may read it; otherwise the page does not exist (404)."""
    try:
        return get_case(actor, pk)
    except ServiceError:
        abort(404)


def flash_error(exc: ServiceError) -> None:
    """Show a service error on the next page; an invisible case is a plain 404."""
    if exc.status == 404:
        abort(404)
    messages = [str(exc.message)]
    messages += [m for ms in exc.errors.values() for m in ms if m != str(exc.message)]
    flash(" ".join(messages), "danger")


def core_sections(line, category: str, *, include_customer: bool = True):
    sections: dict[str | None, list] = {None: list(case_service.CORE_FIELDS)}
    if include_customer:
        sections[forms.CUSTOMER] = list(case_service.CUSTOMER_FIELDS)
    sections[forms.DETAILS] = case_service.plugin_field_specs(line_facts(line), category)
    return sections


class CaseView(case_actions.CaseActionsMixin, CaseListMixin, BaseView):
    """The case screens; every read and write goes through the service layer."""

    route_base = "/cases"
    default_view = "list"
    class_permission_name = "Case"
    base_permissions = ["can_read", "can_create", "can_edit", "can_upload"]
    method_permission_name = {
        **CaseListMixin.LIST_PERMISSIONS,
        "show": "read",
        "intake": "create",
        "edit": "edit",
        "action": "read",  # each action checks its own can_<action> in the service
        "upload": "upload",
        "download": "read",
        "preview": "read",  # an image of the evidence, inline (core/views/case_actions.py)
        "compensation": "read",  # the service checks the right to change a proposal
        "priority": "read",  # the service checks can_set_priority
    }

    # -- intake ---------------------------------------------------------------------------------

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def intake(self):
        return intake_page(self)

    # -- case page ------------------------------------------------------------------------------

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        actor = g.user
        case = visible_case(actor, pk)
        line = case.business_line
        specs = {
            s.name: s for s in case_service.display_field_specs(line_facts(line), case.category)
        }
        core_specs = {s.name: s for s in case_service.CORE_FIELDS}
        labels = {name: spec.label for name, spec in {**core_specs, **specs}.items()}
        events = case_events(case.id)
        allowed = workflow.allowed_actions(actor, case)
        step = workflow.pending_step(case)
        return self.render_template(
            "kesu/case_show.html",
            case=case,
            tz=line.timezone,
            in_zone=in_zone,
            category=category_label(case.category),
            category_enabled=case_service.category_enabled(case),
            customer=customer_json(case.customer, can_view_contact(actor)),
            details=[(specs.get(k), k, v) for k, v in (case.details or {}).items()],
            display_value=display_value,
            translated=translated,
            labels={**CHANGE_LABELS, **labels},
            history=history.entries(actor, events, line.timezone),
            actions=case_actions.action_buttons(
                case, allowed, can_override=can(actor, "can_override_acceptance")
            ),
            gallery=case_actions.gallery(case),
            pending_step=step,
            departments=db.session.scalars(sa.select(Department).order_by(Department.code)).all(),
            handlers=pickers.line_members(actor, line),
            root_cause_choices=root_causes.choices(line.id),
            total=case_service.money_total(case.compensation),
            can_upload=can(actor, "can_upload") and case.status not in ("closed", "rejected"),
            can_edit=can(actor, "can_edit") and case.status not in ("closed", "rejected"),
            vocab={
                "channel": CHANNELS,
                "demand": DEMANDS,
                "problem_stage": PROBLEM_STAGES,
                "kind": CUSTOMER_KINDS,
                "evidence": EVIDENCE_KINDS,
                "compensation": COMPENSATION_KINDS,
                "decision": APPROVAL_DECISIONS,
                "priority": PRIORITIES,
                "position": POSITIONS,
            },
            stage_labels=STAGE_LABELS,
            action_labels={name: a.label for name, a in ACTIONS.items()},
            can_override=can(actor, "can_override_acceptance"),
            can_edit_compensation=case.status == "proposed"
            and "propose" in workflow.allowed_actions(actor, case),
            panels=case_service.panels(case),
            position_label=position_label,
            issues=translated_issues(case.acceptance_issues),
            deadlines=sla_deadlines.deadline_views(case),
            deadline_labels={**event_labels(), **DEADLINES},
            deadline_states=DEADLINE_STATES,
            duration=duration_text,
            priority_reasons=PRIORITY_REASONS,
            risk=sla_customers.customer_risk(case),
            can_set_priority=can(actor, CAN_SET_PRIORITY)
            and case.status not in ("closed", "rejected"),
        )

    @expose("/<int:pk>/priority", methods=["POST"])
    @has_access
    def priority(self, pk: int):
        actor = g.user
        raw = request.form.get("priority") or None
        data = {"priority": raw, "reason": request.form.get("reason", "")}
        if request.form.get("version"):
            data["version"] = form_int(request.form["version"])
        try:
            sla_priority.set_priority(actor, pk, data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Priority changed.")), "success")
        return redirect(url_for("CaseView.show", pk=pk))

    @expose("/<int:pk>/action/<name>", methods=["POST"])
    @has_access
    def action(self, pk: int, name: str):
        payload = case_actions.action_payload(request.form)
        try:
            workflow.run_action(g.user, pk, name, payload)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("%(action)s: done.", action=ACTIONS[name].label)), "success")
        return redirect(url_for("CaseView.show", pk=pk))

    @expose("/<int:pk>/compensation", methods=["POST"])
    @has_access
    def compensation(self, pk: int):
        lines = []
        for n in range(len(request.form)):
            kind = request.form.get(f"kind-{n}")
            if kind is None:
                break
            if not kind:
                continue
            line = {"kind": kind}
            for key in ("sku", "batch_no", "quantity", "unit_price", "amount", "note"):
                value = request.form.get(f"{key}-{n}", "").strip()
                if value:
                    line[key] = form_int(value) if key == "quantity" else value
            lines.append(line)
        payload = {"lines": lines, "reason": request.form.get("reason", "")}
        if request.form.get("version"):
            payload["version"] = form_int(request.form["version"])
        try:
            compensation_service.set_compensation(g.user, pk, payload)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Compensation saved.")), "success")
        return redirect(url_for("CaseView.show", pk=pk) + "#compensation")

    # -- evidence -------------------------------------------------------------------------------

    @expose("/<int:pk>/evidence", methods=["POST"])
    @has_access
    def upload(self, pk: int):
        try:
            evidence_service.add_uploaded(g.user, pk, request.files.get("file"), request.form)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Evidence uploaded.")), "success")
        return redirect(url_for("CaseView.show", pk=pk) + "#evidence")

    @expose("/<int:pk>/evidence/<int:evidence_id>")
    @has_access
    def download(self, pk: int, evidence_id: int):
        try:
            evidence, path = evidence_service.open_evidence(g.user, pk, evidence_id)
        except ServiceError:
            abort(404)
        return download_response(path, evidence.filename, evidence.content_type)

    # -- edit -----------------------------------------------------------------------------------

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        actor = g.user
        case = visible_case(actor, pk)
        line = case.business_line
        sections = core_sections(line, case.category, include_customer=False)
        form_class = forms.build_form(
            sections,
            {
                "version": HiddenField(),
                "customer_id": SelectField(
                    _l("Customer"),
                    choices=forms.select_choices(
                        (str(c.id), c.name) for c in pickers.line_records(actor, line)["customers"]
                    ),
                ),
            },
        )
        unplaced: list[str] = []
        if request.method == "POST":
            form = form_class(formdata=request.form)
            if form.validate():
                payload = forms.form_payload(form, sections)
                payload["customer_id"] = int(form.customer_id.data)
                payload["version"] = form_int(form.version.data or 0)
                payload.setdefault("details", {})
                for spec in sections[forms.DETAILS]:  # cleared plugin fields are removed
                    payload["details"].setdefault(spec.name, None)
                for spec in case_service.CORE_FIELDS:
                    if spec.name not in payload and spec.name != "received_at":
                        payload[spec.name] = None
                try:
                    case_service.update_case(actor, pk, payload)
                except ServiceError as exc:
                    unplaced = forms.apply_errors(form, exc.errors)
                    flash(str(exc.message), "danger")
                else:
                    flash(str(_l("Case saved.")), "success")
                    return redirect(url_for("CaseView.show", pk=pk))
        else:
            specs = {s.name: s for s in sections[forms.DETAILS]}
            details = {
                k: fields.from_json(specs[k], v)
                for k, v in (case.details or {}).items()
                if k in specs
            }
            core = {
                s.name: getattr(case, s.name)
                for s in case_service.CORE_FIELDS
                if s.name != "product"
            }
            for key in ("goods_received_at", "received_at"):
                core[key] = in_zone(core[key], line.timezone)
                core[key] = core[key].replace(tzinfo=None) if core[key] else None
            core["product"] = case.product.code if case.product else None
            form = form_class(data=forms.form_data({None: core, forms.DETAILS: details}, sections))
            form.version.data = case.version
            form.customer_id.data = str(case.customer_id)
        return self.render_template(
            "kesu/case_form.html",
            title=str(_l("Edit %(number)s", number=case.number)),
            form=form,
            sections=sections,
            lines=[line],
            line=line,
            categories=[(case.category, category_label(case.category))],
            category=case.category,
            unplaced=unplaced,
            editing=True,
            case=case,
            **pickers.line_records(actor, line),
        )
