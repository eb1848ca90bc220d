"""The registration screen (/cases/new) and the JSON helpers its script calls.

One form: the core fields, the customer (search as you type, or a new one), the chosen
category's registration fields (every enabled category's fieldset is on the page as a
``<template>``; the script shows the chosen one, the server validates only that one) and the
evidence dropped on it. Validation messages name each field by its label.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField

from core import forms
from core.services import cases as case_service
from core.services import evidence as evidence_service
from core.services import intake
from core.services.access import visible_lines
from core.services.errors import Invalid, ServiceError
from core.services.lines import registry
from core.vocab import EVIDENCE_KINDS
from core.workflow import STAGE_LABELS

TOP_LABELS = {
    "business_line": _l("Business line"),
    "category": _l("Category"),
    "customer": _l("Customer"),
    "customer_id": _l("Customer"),
    "details": _l("Category fields"),
    "file": _l("Evidence"),
}


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _chosen(actor):
    """The lines the actor may register in, the chosen line, its categories and the category."""
    lines = visible_lines(actor)
    code = request.values.get("business_line") or (lines[0].code if len(lines) == 1 else "")
    line = next((entry for entry in lines if entry.code == code), None)
    enabled = []
    if line is not None:
        enabled = [d for d in registry().categories() if d.key in line.enabled_plugin_keys]
    posted = request.form.get("category") if request.method == "POST" else None
    category = posted if posted is not None else (request.args.get("category") or "")
    if category not in {d.key for d in enabled}:
        category = enabled[0].key if len(enabled) == 1 and posted is None else ""
    return lines, line, enabled, category


def _sections(line, category: str) -> dict[str | None, list]:
    sections: dict[str | None, list] = {
        None: list(case_service.CORE_FIELDS),
        forms.CUSTOMER: list(case_service.CUSTOMER_FIELDS),
        forms.DETAILS: intake.category_specs(line, category) if category else [],
    }
    return sections


def _detail_forms(line, enabled, category: str) -> dict[str, Any]:
    """Each other category's registration fields, as the inert templates the script swaps in."""
    out = {}
    for descriptor in enabled:
        if descriptor.key == category:
            continue
        specs = intake.category_specs(line, descriptor.key)
        form_class = forms.build_form({forms.DETAILS: specs})
        out[descriptor.key] = (specs, form_class(formdata=None, meta={"csrf": False}))
    return out


def labelled_errors(form, sections) -> list[str]:
    """Every field error as "<label>：<message>" in the reader's language (never the code)."""
    required = str(_l("This field is required."))
    out = []
    for prefix, specs in sections.items():
        for spec in specs:
            field = form[forms.form_name(prefix, spec.name)]
            for message in field.errors or []:
                if spec.type == "choice" and str(message) == required:
                    message = _l("choose a value")
                out.append(str(_l("%(label)s: %(message)s", label=spec.label, message=message)))
    return out


def _unplaced(errors: dict[str, list[str]], form) -> list[str]:
    """Service errors that name no form field, labelled by what they concern."""
    out = []
    for key, messages in errors.items():
        if key.replace(".", forms.SEP, 1) in form:
            continue
        label = TOP_LABELS.get(key.split(".", 1)[0])
        for message in messages:
            out.append(
                str(_l("%(label)s: %(message)s", label=label, message=message))
                if label
                else message
            )
    return out


def _customer_pk(text: str) -> int:
    """The picked customer's id; anything else is an id no customer has (refused by name)."""
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
        return int(text)
    return -1


def _evidence_kind(upload, chosen: str | None) -> str:
    if chosen in EVIDENCE_KINDS:
        return chosen
    mime = (upload.mimetype or "").lower()
    return (
        "photo"
        if mime.startswith("image/")
        else "video"
        if mime.startswith("video/")
        else "document"
    )


def _attach(actor, case, uploads, kinds) -> list[str]:
    """Attach the files dropped on the form to the new case; the refusals, by file name."""
    refused = []
    for index, upload in enumerate(uploads):
        if not upload or not upload.filename:
            continue
        kind = _evidence_kind(upload, kinds[index] if index < len(kinds) else None)
        try:
            evidence_service.add_evidence(
                actor, case.id, upload.stream, filename=upload.filename, kind=kind
            )
        except ServiceError as exc:
            refused.append(f"{upload.filename}: {exc.message}")
    return refused


def intake_page(view):
    """GET shows the form; POST registers the case (and its evidence) or shows the errors."""
    actor = g.user
    lines, line, enabled, category = _chosen(actor)
    form = None
    sections: dict = {}
    summary: list[str] = []
    templates: dict = {}
    submitted = request.method == "POST" and "submit_case" in request.form
    if line is not None and enabled:
        sections = _sections(line, category)
        form_class = forms.build_form(
            sections,
            {
                "business_line": HiddenField(),
                "category": HiddenField(),
                "customer_id": HiddenField(),
            },
        )
        form = form_class(formdata=request.form if submitted else None)
        form.business_line.data = line.code
        form.category.data = category
        templates = _detail_forms(line, enabled, category)
        if submitted and not category:
            summary.append(
                str(
                    _l("%(label)s: %(message)s", label=_l("Category"), message=_l("choose a value"))
                )
            )
        elif submitted and form.validate():
            payload = forms.form_payload(form, sections)
            payload.update(business_line=line.code, category=category)
            customer_id = (form.customer_id.data or "").strip()
            if customer_id:
                payload.pop(forms.CUSTOMER, None)
                payload["customer_id"] = _customer_pk(customer_id)
            try:
                case = case_service.create_case(actor, payload)
            except ServiceError as exc:
                if "customer_id" in exc.errors:
                    exc.errors["customer.name"] = exc.errors.pop("customer_id")
                forms.apply_errors(form, exc.errors)
                summary = labelled_errors(form, sections) + _unplaced(exc.errors, form)
                if not summary:
                    summary = [str(exc.message)]
            else:
                refused = _attach(
                    actor,
                    case,
                    request.files.getlist("evidence"),
                    request.form.getlist("evidence_kind"),
                )
                flash(str(_l("Case %(number)s registered.", number=case.number)), "success")
                if refused:
                    flash(
                        str(_l("Some files were not attached:")) + " " + "; ".join(refused),
                        "warning",
                    )
                return redirect(url_for("CaseView.show", pk=case.id))
        elif submitted:
            summary = labelled_errors(form, sections)
    return view.render_template(
        "kesu/intake_form.html",
        title=_l("Register a complaint"),
        form=form,
        sections=sections,
        templates=templates,
        lines=lines,
        line=line,
        categories=[(d.key, d.name(_locale())) for d in enabled],
        category=category,
        summary=summary,
        evidence_kinds=EVIDENCE_KINDS,
    )


def _label_of(key: str) -> Any:
    """The label of an error key of the JSON helpers ("customer.phone" -> 电话)."""
    head, _, rest = key.partition(".")
    specs = (
        case_service.CUSTOMER_FIELDS if head == "customer" and rest else case_service.CORE_FIELDS
    )
    name = rest if head == "customer" and rest else key
    spec = next((s for s in specs if s.name == name), None)
    return spec.label if spec is not None else TOP_LABELS.get(head)


def _json_error(exc: ServiceError):
    """The error as JSON; each field's messages start with the field's label."""
    body = exc.as_dict()
    labelled = {}
    for key, messages in body.get("errors", {}).items():
        label = _label_of(key)
        labelled[key] = [
            str(_l("%(label)s: %(message)s", label=label, message=m)) if label else m
            for m in messages
        ]
    if labelled:
        body["errors"] = labelled
    return jsonify(body), exc.status


def _body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid(_l("The body must be a JSON object."), field="body")
    return data


class IntakeView(BaseView):
    """The intake form's helpers: pickers, a new customer and the live check (JSON)."""

    route_base = "/cases/new"
    class_permission_name = "Case"
    base_permissions = ["can_create"]
    method_permission_name = {
        "customers": "create",
        "new_customer": "create",
        "products": "create",
        "batches": "create",
        "check": "create",
    }

    @expose("/customers", methods=["GET"])
    @has_access
    def customers(self):
        try:
            found = intake.search_customers(
                g.user, request.args.get("business_line"), request.args.get("q")
            )
        except ServiceError as exc:
            return _json_error(exc)
        return jsonify({"result": found})

    @expose("/customers", methods=["POST"])
    @has_access
    def new_customer(self):
        try:
            data = _body()
            if not isinstance(data, dict):
                raise Invalid(_l("The body must be a JSON object."), field="body")
            code = data.pop("business_line", None)
            customer = intake.create_customer(g.user, code, data)
        except ServiceError as exc:
            return _json_error(exc)
        return jsonify({"result": customer}), 201

    @expose("/products", methods=["GET"])
    @has_access
    def products(self):
        try:
            found = intake.search_products(
                g.user, request.args.get("business_line"), request.args.get("q")
            )
        except ServiceError as exc:
            return _json_error(exc)
        return jsonify({"result": found})

    @expose("/batches", methods=["GET"])
    @has_access
    def batches(self):
        try:
            found = intake.batch_suggestions(
                g.user, request.args.get("business_line"), request.args.get("customer_id")
            )
        except ServiceError as exc:
            return _json_error(exc)
        return jsonify({"result": found})

    @expose("/check", methods=["POST"])
    @has_access
    def check(self):
        try:
            result = intake.draft_check(g.user, _body())
        except ServiceError as exc:
            return _json_error(exc)
        for item in result["duplicates"]:
            item["url"] = url_for("CaseView.show", pk=item["id"])
            item["status"] = str(STAGE_LABELS.get(item["status"], item["status"]))
        return jsonify(result)
