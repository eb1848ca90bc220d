"""Input guards: hostile values are refused with a 400 (or 404) that names the field, before any
view, Flask-AppBuilder code or database sees them.

- ids in URLs: an ``<int:...>`` beyond 2^31-1 is a 404, like an unknown id (checked here, not in
  the converter: a converter that refuses makes werkzeug answer 405 for the route's other
  methods); Flask-AppBuilder's ``<pk>`` routes are held to the same rule;
- JSON bodies: at most 32 levels deep, no lone UTF-16 surrogates, integers within
  ±(2^53-1) (what every JSON reader keeps exactly);
- query strings: at most 2,000 characters a value, page numbers and sizes 0 .. 1,000,000,
  digit strings within ±(2^53-1), a Rison ``q`` that parses;
- Flask-AppBuilder's model views: an unknown ``action`` and the (unused) ``download`` route are 404.

Errors are JSON ``{"message", "field", "errors"}`` under ``/api/``, a translated page elsewhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

import prison
import sqlalchemy as sa
from flask import Flask, current_app, jsonify, render_template, request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import BaseCRUDView
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

from core import limits
from core.extensions import db

MAX_ID = limits.ID  # the largest id an INTEGER column holds on every engine
MAX_JSON_INT = 2**53 - 1
# Query parameters that carry search text: a long run of digits there is a batch, tracking or
# ID-card number to look for, not a number (the case list's and the SLA screen's search boxes,
# the audit trail's filters; a model view's filters on text columns are added per request).
TEXT_PARAMS = frozenset({"q", "text", "actor", "case"})
MAX_JSON_DEPTH = 32
MAX_JSON_BODY = 2 * 1024 * 1024  # uploads are multipart; no JSON request comes near this
MAX_QUERY_VALUE = 2000
MAX_PAGE = limits.PAGE

# Lone UTF-16 surrogates are not text; nor are C0 control characters other than tab and line
# breaks (PostgreSQL refuses NUL outright, and they have no place in a form or an Excel cell).
_NOT_TEXT = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f]")
# One linear pass over the body's tokens: an escape pair, a quote, or a bracket.
_JSON_TOKEN = re.compile(r'\\.|["\[\]{}]', re.S)
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_PAGING = re.compile(r"^page$|page_|psize_")
# Flask-AppBuilder's filters that build a LIKE pattern from their value (``value + "%"``).
TEXT_OPERATORS = frozenset({"sw", "ew", "ct", "nsw", "new", "nct"})
_FILTER = re.compile(r"^_flt_\d+_(\w+)$")


class BadInput(Exception):
    def __init__(self, field: str, message: Any) -> None:
        super().__init__(field)
        self.field = field
        self.message = message


def ascii_int(raw: Any) -> int | None:
    """An integer written in ASCII digits (``"²"`` and other digits are not), else None."""
    if isinstance(raw, str) and _ASCII_INT.fullmatch(raw.strip()):
        return int(raw.strip())
    return None


def form_int(raw: Any) -> Any:
    """A form value as an int when written in ASCII digits, else unchanged (the service then
    refuses it naming the field); ``str.isdigit`` also takes ``"²"``, which ``int`` does not."""
    number = ascii_int(raw)
    return raw if number is None else number


def is_id(raw: Any) -> bool:
    value = ascii_int(raw) if isinstance(raw, str) else raw
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _check_text(field: str, value: str) -> None:
    if _NOT_TEXT.search(value):
        raise BadInput(field, _l("Contains a character that is not valid text."))


def _json_depth(text: str) -> int:
    """The deepest nesting of brackets outside strings, in time linear in the text's length
    (a pattern that rescans strings is quadratic on an unterminated one full of ``\\"``)."""
    depth = deepest = 0
    in_string = False
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            in_string = not in_string
        elif in_string or len(token) > 1:
            continue
        elif token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _walk_json(value: Any, path: str) -> None:
    if isinstance(value, str):
        _check_text(path or "body", value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise BadInput(path or "body", _l("Number is too large."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(path or "body", key)
            _walk_json(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _walk_json(item, f"{path}.{n}" if path else str(n))


def _check_json_body() -> None:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    if len(raw) > MAX_JSON_BODY:
        raise BadInput(
            "body", str(_l("The body must be at most %(n)s bytes.", n=f"{MAX_JSON_BODY:,}"))
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body", _l("The body is not valid JSON.")) from None
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise BadInput(
            "body", str(_l("Nested too deeply (at most %(n)s levels).", n=MAX_JSON_DEPTH))
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BadInput("body", _l("The body is not valid JSON.")) from None
    _walk_json(data, "")
    request._cached_json = (data, data)  # the views read this instead of parsing again


def _check_paging(field: str, value: str) -> None:
    number = ascii_int(value)
    if number is None or not 0 <= number <= MAX_PAGE:
        raise BadInput(field, str(_l("Must be a whole number from 0 to %(n)s.", n=MAX_PAGE)))


def _check_rison() -> None:
    raw = request.args.get("q")
    if raw is None:
        return
    try:
        data = prison.loads(raw)
    except Exception:  # prison raises ValueError, IndexError, ... on malformed input
        raise BadInput("q", _l("Not valid Rison.")) from None
    try:
        _walk_json(data, "")
    except BadInput as exc:  # the query parameter is the field a client can fix
        raise BadInput("q", exc.message) from None
    if isinstance(data, dict):
        for key in ("page", "page_size"):
            if key in data and not (
                isinstance(data[key], int)
                and not isinstance(data[key], bool)
                and 0 <= data[key] <= MAX_PAGE
            ):
                raise BadInput("q", str(_l("Must be a whole number from 0 to %(n)s.", n=MAX_PAGE)))
        filters = data.get("filters")
        for item in filters if isinstance(filters, list) else ():
            if not isinstance(item, dict):
                raise BadInput("q", _l("Not valid Rison."))
            value = item.get("value")
            if isinstance(value, dict | list) or (
                item.get("opr") in TEXT_OPERATORS and not isinstance(value, str)
            ):
                raise BadInput("q", _l("A filter's value must be text."))


def _text_params(view: Any) -> set[str]:
    """TEXT_PARAMS, and a model view's filters on its text columns (``_flt_0_name``)."""
    keys = set(TEXT_PARAMS)
    if isinstance(view, BaseCRUDView):
        model = view.datamodel
        for key in request.args:
            match = _FILTER.match(key)
            column = match.group(1) if match else None
            if column in model.list_columns and (model.is_string(column) or model.is_text(column)):
                keys.add(key)
    return keys


def _check_query(text_params: set[str]) -> None:
    for key, value in request.args.items(multi=True):
        _check_text(key, key)
        _check_text(key, value)
        if len(value) > MAX_QUERY_VALUE:
            raise BadInput(key, str(_l("Must be at most %(n)s characters.", n=MAX_QUERY_VALUE)))
        if _PAGING.search(key):
            _check_paging(key, value)
        number = None if key in text_params else ascii_int(value)
        if number is not None and abs(number) > MAX_JSON_INT:
            raise BadInput(key, _l("Number is too large."))


def _view_of_request() -> Any:
    function = current_app.view_functions.get(request.endpoint or "")
    return getattr(function, "__self__", None)


def _check_model_view(view: BaseCRUDView) -> None:
    method = (request.endpoint or "").rsplit(".", 1)[-1]
    args = request.view_args or {}
    if method == "download":
        raise NotFound()  # no Kesu model has a file column; FAB would read a missing folder
    if "pk" in args and not is_id(args["pk"]):
        raise NotFound()
    if method == "action" and args.get("name") not in view.actions:
        raise NotFound()
    if method == "action_post":
        # Flask-AppBuilder looks the action up, then every row, before checking anything.
        if request.form.get("action") not in view.actions:
            raise NotFound()
        rows = request.form.getlist("rowid")
        if not rows:
            raise BadInput("rowid", _l("This field is required."))
        if not all(is_id(pk) for pk in rows):
            raise BadInput("rowid", _l("Not found."))
        ids = {int(pk) for pk in rows}
        pk = getattr(view.datamodel.obj, view.datamodel.get_pk_name())
        found = db.session.scalars(sa.select(pk).where(pk.in_(ids))).all()
        if len(found) != len(ids):
            raise BadInput("rowid", _l("Not found."))


def _check_request() -> None:
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ID:
            raise NotFound()
    view = _view_of_request()
    _check_query(_text_params(view))
    if isinstance(view, ModelRestApi):
        _check_rison()
    if isinstance(view, BaseCRUDView):
        _check_model_view(view)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            _check_json_body()
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in request.form.items(multi=True):
                _check_text(key, key)
                _check_text(key, value)


def bad_input_response(field: str, message: Any):
    text = str(message)
    if request.path.startswith("/api/"):
        return jsonify({"message": text, "field": field, "errors": {field: [text]}}), 400
    page = render_template(
        "kesu/bad_input.html",
        appbuilder=current_app.appbuilder,
        base_template=current_app.appbuilder.base_template,
        message=text,
        field=field,
    )
    return page, 400


def install_input_guards(app: Flask) -> None:
    """Register the request guard; call after Flask-AppBuilder (it sets ``g.user`` first)."""

    @app.before_request
    def _guard_input():
        try:
            _check_request()
        except BadInput as exc:
            return bad_input_response(exc.field, exc.message)
        return None
