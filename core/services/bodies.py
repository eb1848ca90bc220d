"""Reading a request body in the service layer: one object, known keys, a required text.

Each check answers 400 naming the field, the same way on every route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from core.services.errors import Invalid


def json_object(data: Any) -> Mapping[str, Any]:
    """``data`` if it is a JSON object, else 400 ``body``."""
    if not isinstance(data, Mapping):
        raise Invalid(_l("The body must be a JSON object."), field="body")
    return data


def only(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """400 naming every key of ``data`` that is not ``allowed``."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise Invalid(
            _l("Unknown field."), errors={k: [str(_l("Unknown field."))] for k in unknown}
        )


def within(value: str, field: str, limit: int) -> str:
    """``value`` unless longer than ``limit`` characters (400 naming ``field``)."""
    if len(value) > limit:
        raise Invalid(str(_l("Must be at most %(n)s characters.", n=limit)), field=field)
    return value


def required_text(data: Mapping[str, Any], key: str, limit: int, missing: Any = None) -> str:
    """``data[key]`` stripped: text of 1 to ``limit`` characters, else 400 naming ``key``
    (``missing`` is the message for an absent or blank value)."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid(missing or _l("This field is required."), field=key)
    if not isinstance(value, str):
        raise Invalid(_l("Must be text."), field=key)
    return within(value.strip(), key, limit)


def one_text(data: Any, key: str, limit: int, missing: Any = None) -> str:
    """A body that is exactly ``{key: "text"}``: the text (see :func:`required_text`)."""
    data = json_object(data)
    only(data, (key,))
    return required_text(data, key, limit, missing)
