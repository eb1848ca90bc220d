"""WTForms forms built from field specs, for the intake and edit screens.

The forms only collect input; the service layer validates it (the same validation the API
gets) and its field errors are shown next to the fields again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from core import limits
from core.contracts import FieldSpec
from core.fields import max_length, max_value

DETAILS = "details"
CUSTOMER = "customer"
SEP = "__"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def form_name(prefix: str | None, name: str) -> str:
    return f"{prefix}{SEP}{name}" if prefix else name


def service_key(form_field: str) -> str:
    """``details__stay_date`` -> ``details.stay_date`` (the service's error keys)."""
    return form_field.replace(SEP, ".", 1)


def field_for(spec: FieldSpec) -> Field:
    kw: dict[str, Any] = {"label": spec.label, "description": spec.help or ""}
    render = {"data-required": "1"} if spec.required else {}
    if spec.type == "string":
        return StringField(
            validators=[Optional()], render_kw={**render, "maxlength": max_length(spec)}, **kw
        )
    if spec.type == "text":
        return TextAreaField(
            validators=[Optional()],
            render_kw={**render, "rows": 3, "maxlength": max_length(spec)},
            **kw,
        )
    if spec.type in ("integer", "decimal"):
        render = {**render, "type": "number", "max": str(max_value(spec))}
        if spec.min_value is not None:
            render["min"] = str(spec.min_value)
    if spec.type == "integer":
        return IntegerField(validators=[Optional()], render_kw={**render, "step": "1"}, **kw)
    if spec.type == "decimal":
        return DecimalField(
            places=2, validators=[Optional()], render_kw={**render, "step": "0.01"}, **kw
        )
    if spec.type == "boolean":
        return BooleanField(**kw)
    if spec.type == "date":
        render = {**render, "type": "date", "min": limits.DATE_MIN.isoformat()}
        return DateField(validators=[Optional()], render_kw=render, **kw)
    if spec.type == "datetime":
        return DateTimeLocalField(
            format=DATETIME_FORMATS,
            validators=[Optional()],
            render_kw={**render, "step": "60"},
            **kw,
        )
    choices = select_choices([("", "—"), *spec.choices])
    return SelectField(choices=choices, validators=[Optional()], render_kw=render, **kw)


def select_choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def build_form(
    sections: Mapping[str | None, Iterable[FieldSpec]], extra: Mapping[str, Field] | None = None
):
    """A form class with one field per spec; ``sections`` maps a name prefix to its specs."""
    attrs: dict[str, Any] = dict(extra or {})
    for prefix, specs in sections.items():
        for spec in specs:
            attrs[form_name(prefix, spec.name)] = field_for(spec)
    return type("CaseForm", (FlaskForm,), attrs)


def form_payload(
    form: FlaskForm, sections: Mapping[str | None, Iterable[FieldSpec]]
) -> dict[str, Any]:
    """The form's values as the service's input: prefixed fields become nested objects."""
    payload: dict[str, Any] = {}
    for prefix, specs in sections.items():
        target = payload if prefix is None else payload.setdefault(prefix, {})
        for spec in specs:
            value = form[form_name(prefix, spec.name)].data
            if spec.type == "boolean":
                target[spec.name] = bool(value)
            elif value not in (None, ""):
                target[spec.name] = value
    return payload


def form_data(
    values: Mapping[str | None, Mapping[str, Any]], specs: Mapping[str | None, Iterable[FieldSpec]]
):
    """Initial form values from stored values, keyed like the form's fields."""
    out: dict[str, Any] = {}
    for prefix, field_specs in specs.items():
        source = values.get(prefix) or {}
        for spec in field_specs:
            if spec.name in source:
                out[form_name(prefix, spec.name)] = source[spec.name]
    return out


def apply_errors(form: FlaskForm, errors: Mapping[str, list[str]]) -> list[str]:
    """Attach service errors to the form's fields; return those that name no field."""
    unplaced = []
    for key, messages in errors.items():
        name = key.replace(".", SEP, 1)
        if name in form:
            form[name].errors = list(form[name].errors or []) + list(messages)
        else:
            unplaced.extend(f"{key}: {m}" for m in messages)
    return unplaced
