"""Field specifications: one description per field drives validation, forms and the OpenAPI schema.

The API and the screens both hand raw values to the service layer, which coerces them here;
the screens build their WTForms forms from the same specs, and the API documents them in
``/api/v1/_openapi`` from the same specs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core import limits
from core.contracts import FieldSpec

MAX_DECIMAL = Decimal("999999999999.99")
MIN_YEAR, MAX_YEAR = 1900, 2999


class FieldError(ValueError):
    """A value that does not fit its field; ``message`` is a translatable sentence."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _coerce_string(spec: FieldSpec, raw: Any) -> str | None:
    if not isinstance(raw, str):
        raise FieldError(_l("Must be text."))
    value = raw.strip()
    limit = max_length(spec)
    if len(value) > limit:
        raise FieldError(str(_l("Must be at most %(n)s characters.", n=limit)))
    return value or None


def max_length(spec: FieldSpec) -> int:
    """The longest text a string or text field takes."""
    return spec.max_length or limits.DEFAULT_MAX_LENGTH[spec.type]


def max_value(spec: FieldSpec) -> Decimal | int:
    """The largest number an integer or decimal field takes."""
    return spec.max_value if spec.max_value is not None else limits.DEFAULT_MAX_VALUE[spec.type]


def maxima(specs: Iterable[FieldSpec]) -> dict[str, Any]:
    """Each text or number field's maximum, by name (for a screen's maxlength and max)."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.type in ("string", "text"):
            out[spec.name] = max_length(spec)
        elif spec.type in ("integer", "decimal"):
            out[spec.name] = max_value(spec)
    return out


def _check_range(spec: FieldSpec, value: Any) -> None:
    """Refuse a number over the field's maximum, or a date outside 2000-01-01 .. tomorrow."""
    if spec.type in ("integer", "decimal"):
        top = max_value(spec)
        if value > top:
            raise FieldError(str(_l("Must be at most %(n)s.", n=top)))
    elif spec.type in ("date", "datetime"):
        day = value.date() if isinstance(value, dt.datetime) else value
        if day < limits.DATE_MIN:
            raise FieldError(
                str(_l("Must be on or after %(date)s.", date=limits.DATE_MIN.isoformat()))
            )
        latest = limits.date_max(spec.max_days_ahead)
        if day > latest:
            raise FieldError(str(_l("Must be on or before %(date)s.", date=latest.isoformat())))


def _coerce_integer(spec: FieldSpec, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise FieldError(_l("Must be a whole number."))
    if spec.min_value is not None and raw < spec.min_value:
        raise FieldError(str(_l("Must be at least %(n)s.", n=spec.min_value)))
    if abs(raw) > 2**31 - 1:
        raise FieldError(_l("Number is too large."))
    return raw


def _coerce_decimal(spec: FieldSpec, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise FieldError(_l("Must be a number."))
    text = str(raw).strip()
    if not text.isascii():  # Decimal() also reads "１２" and "١٢"; amounts are ASCII digits
        raise FieldError(_l("Must be a number."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError(_l("Must be a number.")) from None
    if not value.is_finite():
        raise FieldError(_l("Must be a number."))
    if abs(value) > MAX_DECIMAL:  # before quantize, which fails beyond 28 digits
        raise FieldError(_l("Number is too large."))
    if value != value.quantize(Decimal("0.01")):
        raise FieldError(_l("At most two decimal places."))
    if spec.min_value is not None and value < spec.min_value:
        raise FieldError(str(_l("Must be at least %(n)s.", n=spec.min_value)))
    return value.quantize(Decimal("0.01"))


def _coerce_boolean(spec: FieldSpec, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise FieldError(_l("Must be true or false."))
    return raw


def check_year(value: dt.date) -> None:
    """Dates are kept within years 1900-2999: far enough from year 1 and 9999 that moving
    them between timezones, adding deadlines or printing them cannot overflow."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise FieldError(
            _l("The year must be from %(low)s to %(high)s.", low=MIN_YEAR, high=MAX_YEAR)
        )


def _coerce_date(spec: FieldSpec, raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise FieldError(_l("Must be a date (YYYY-MM-DD)."))
    value = raw if isinstance(raw, dt.date) else None
    if isinstance(raw, str):
        try:
            value = dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    if value is None:
        raise FieldError(_l("Must be a date (YYYY-MM-DD)."))
    check_year(value)
    return value


def _coerce_datetime(spec: FieldSpec, raw: Any) -> dt.datetime:
    """Aware values keep their offset; naive ones are read later in the line's timezone."""
    value = raw if isinstance(raw, dt.datetime) else None
    if isinstance(raw, str):
        text = raw.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
    if value is not None:
        check_year(value)
        return value
    raise FieldError(_l("Must be a date and time (ISO 8601, e.g. 2026-11-25T09:30:00+08:00)."))


def _coerce_choice(spec: FieldSpec, raw: Any) -> str:
    allowed = [value for value, _label in spec.choices]
    if raw not in allowed:
        raise FieldError(str(_l("Must be one of: %(values)s.", values=", ".join(allowed))))
    return raw


_COERCERS = {
    "string": _coerce_string,
    "text": _coerce_string,
    "integer": _coerce_integer,
    "decimal": _coerce_decimal,
    "boolean": _coerce_boolean,
    "date": _coerce_date,
    "datetime": _coerce_datetime,
    "choice": _coerce_choice,
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """Turn a raw (JSON or form) value into the field's Python value; blank gives None."""
    if is_blank(raw):
        return None
    value = _COERCERS[spec.type](spec, raw)
    _check_range(spec, value)
    return value


def validate(
    specs: Iterable[FieldSpec],
    data: Mapping[str, Any],
    *,
    prefix: str = "",
    require: bool = True,
    allow_unknown: bool = False,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Coerce ``data`` against ``specs``.

    Returns ``(clean, errors)``; ``errors`` maps ``prefix + field name`` to messages.
    Keys of ``data`` that no spec names are errors unless ``allow_unknown``. With
    ``require`` false, missing required fields are not reported (partial updates).
    """
    by_name = {s.name: s for s in specs}
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in by_name and not allow_unknown:
            errors[f"{prefix}{key}"] = [str(_l("Unknown field."))]
    for name, spec in by_name.items():
        if name not in data:
            if require and spec.required:
                errors[f"{prefix}{name}"] = [str(_l("This field is required."))]
            continue
        try:
            value = coerce(spec, data[name])
        except FieldError as exc:
            errors[f"{prefix}{name}"] = [str(exc.message)]
            continue
        if value is None and spec.required and (require or name in data):
            errors[f"{prefix}{name}"] = [str(_l("This field is required."))]
            continue
        clean[name] = value
    return clean, errors


def to_json(value: Any) -> Any:
    """A JSON-safe form of a field value (dates as ISO 8601, decimals as strings)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(spec: FieldSpec, value: Any) -> Any:
    """The Python value of a field stored as JSON (the inverse of :func:`to_json`)."""
    if value is None:
        return None
    if spec.type == "decimal":
        return Decimal(value)
    if spec.type == "date":
        return dt.date.fromisoformat(value)
    if spec.type == "datetime":
        return dt.datetime.fromisoformat(value)
    return value


_JSON_TYPES = {
    "string": {"type": "string"},
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d{1,2})?$"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date", "maxLength": 10},
    "datetime": {"type": "string", "format": "date-time", "maxLength": 40},
    "choice": {"type": "string"},
}


def date_range(spec: FieldSpec) -> str:
    """The accepted dates of a date or datetime field, in words (for the OpenAPI document)."""
    ahead = limits.FUTURE_DAYS if spec.max_days_ahead is None else spec.max_days_ahead
    return f"from {limits.DATE_MIN.isoformat()} to {ahead} day(s) after today"


def schema_limits(spec: FieldSpec) -> dict[str, Any]:
    """The field's limits as JSON-schema keywords (maxLength, minimum, maximum)."""
    if spec.type in ("string", "text"):
        return {"maxLength": max_length(spec)}
    if spec.type in ("integer", "decimal"):
        out: dict[str, Any] = {"maximum": max_value(spec)}
        if spec.min_value is not None:
            out["minimum"] = spec.min_value
        if spec.type == "decimal":  # JSON numbers, not strings
            out = {k: float(v) for k, v in out.items()}
        return out
    return {}


def json_schema(specs: Iterable[FieldSpec]) -> dict[str, Any]:
    """An OpenAPI object schema for the fields (labels in the current locale)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in specs:
        prop = dict(_JSON_TYPES[spec.type])
        prop["description"] = str(spec.label)
        if spec.type == "decimal":
            # The number form carries the range; the text form is capped by its length.
            text = {**prop, "maxLength": len(str(max_value(spec))) + 1}
            number = {"type": "number", **schema_limits(spec)}
            prop = {"oneOf": [number, text], "description": str(spec.label)}
        else:
            prop.update(schema_limits(spec))
        if spec.type in ("date", "datetime"):
            prop["description"] += f" ({date_range(spec)})"
        if spec.choices:
            prop["enum"] = [value for value, _label in spec.choices]
        if spec.type != "boolean":
            prop["nullable"] = not spec.required
        properties[spec.name] = prop
        if spec.required:
            required.append(spec.name)
    # Unknown keys are refused (400), as the schema says.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema
