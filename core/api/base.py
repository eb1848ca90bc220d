"""The base of Kesu's REST APIs: JSON errors that name the field, never database text."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import g, request
from flask_appbuilder.api import BaseApi
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import current_user as current_user_jwt
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from core import limits
from core.api import idempotency
from core.db import is_lock_error
from core.services.errors import Conflict, Invalid, ServiceError
from core.web import http_error_body

log = logging.getLogger(__name__)

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "What went wrong, in the user's language"},
        "errors": {
            "type": "object",
            "description": 'Messages per field, e.g. {"details.affected_quantity": ["..."]}',
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["message"],
}


# The body of a route that only needs the reason for what it does (cancel, void, dismiss).
REASON_BODY = {
    "type": "object",
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": limits.TEXT_LONG}},
    "required": ["reason"],
    "additionalProperties": False,
}
CASE_RESULT = {
    "description": "The case after the change",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "result": {"$ref": "#/components/schemas/Case"},
                },
            }
        }
    },
}


def _error_response(description: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = (
        ERROR_SCHEMA
        if not extra
        else {**ERROR_SCHEMA, "properties": {**ERROR_SCHEMA["properties"], **extra}}
    )
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def current_actor():
    """The signed-in user of this API request (JWT), or None."""
    user = current_user_jwt if current_user_jwt else getattr(g, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def json_body() -> Any:
    """The request's JSON body; a malformed or missing one is a 400 naming ``body``."""
    if not request.is_json:
        raise Invalid(_l("Send a JSON body with Content-Type application/json."), field="body")
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid(_l("The body is not valid JSON."), field="body")
    return data


def _answered(api: BaseApi, call: Callable[[], Any], name: str):
    """``call()``, with service and database errors turned into JSON answers."""
    try:
        return call()
    except ServiceError as exc:
        return api.response(exc.status, **exc.as_dict())
    except HTTPException as exc:  # e.g. 413 while reading an upload
        return api.response(exc.code or 500, **http_error_body(exc))
    except StaleDataError:
        exc = Conflict(_l("The case was changed by someone else; reload it and try again."))
        return api.response(409, **exc.as_dict())
    except IntegrityError:
        log.exception("integrity error in %s", name)
        return api.response(409, message=str(_l("This clashes with an existing record.")))
    except OperationalError as exc:
        if not is_lock_error(exc):
            raise  # a fault, not a busy database: logged as such (500)
        log.exception("database busy in %s", name)
        return api.response(503, message=str(_l("The database is busy; please try again.")))
    except DBAPIError:
        log.exception("database error in %s", name)
        return api.response(400, message=str(_l("A value does not fit what the database stores.")))


def service_call(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn service errors into JSON answers; database errors never leak their text.

    Also the one place where an ``Idempotency-Key`` is honoured (core.api.idempotency): the
    endpoint runs, and its answer is stored or replayed, inside the key's transaction.
    """

    @functools.wraps(f)
    def wrapper(self: BaseApi, *args: Any, **kwargs: Any):
        def endpoint():
            return _answered(self, lambda: f(self, *args, **kwargs), f.__name__)

        return _answered(self, lambda: idempotency.guarded(current_actor(), endpoint), f.__name__)

    return wrapper


def publish_path_limits(api_spec) -> None:
    """Give every path parameter of the document so far its maximum (core/limits.py).

    A path parameter is an id (integer, at most ``limits.ID``) or a name (text, at most
    ``limits.CODE``); Flask-AppBuilder's own routes (login, the document itself) included.
    """
    for operations in getattr(api_spec, "_paths", {}).values():
        for op in operations.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                schema = param.get("schema") if isinstance(param, dict) else None
                if param.get("in") != "path" or not isinstance(schema, dict):
                    continue
                if schema.get("type") == "integer":
                    schema.setdefault("maximum", limits.ID)
                elif schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("maxLength", limits.CODE)


# An Excel download (ledger, reports, registers): the workbook as an attachment.
WORKBOOK = {
    "description": "The workbook, as an attachment (headers in your language)",
    "content": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        }
    },
}


class KesuApi(BaseApi):
    """Common answers and OpenAPI components of Kesu's APIs."""

    version = "v1"
    responses = {
        "400": _error_response("Bad input: the errors name each field"),
        "401": _error_response("Not signed in (send the JWT from /api/v1/security/login)"),
        "403": _error_response("Your role or business lines do not allow this"),
        "404": _error_response("Not found, or not in your business lines"),
        "409": _error_response(
            "Conflicts with the current state: an action not allowed now, or a stale version",
            {
                "status": {"type": "string"},
                "allowed_actions": {"type": "array", "items": {"type": "string"}},
                "current_version": {"type": "integer"},
            },
        ),
        "422": _error_response("A precondition of the action is not met"),
        "500": _error_response("Unexpected error"),
    }

    def add_api_spec(self, api_spec) -> None:
        super().add_api_spec(api_spec)
        publish_path_limits(api_spec)

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        # Components are first-come; Kesu's error answers describe its APIs, so they win.
        for code, response in self.responses.items():
            api_spec.components.responses[code] = response
        if "Reason" not in api_spec.components.schemas:
            api_spec.components.schema("Reason", REASON_BODY)
        if "CaseResult" not in api_spec.components.responses:
            api_spec.components.response("CaseResult", CASE_RESULT)
        if "Workbook" not in api_spec.components.responses:
            api_spec.components.response("Workbook", WORKBOOK)
        if idempotency.PARAMETER_NAME not in api_spec.components.parameters:
            api_spec.components.parameter(
                idempotency.PARAMETER_NAME, "header", dict(idempotency.PARAMETER)
            )

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        super().operation_helper(
            path=path, operations=operations, methods=methods, func=func, **kwargs
        )
        idempotency.document(operations)  # every POST: the Idempotency-Key header
        # Every request passes core/inputs.py's guards (text, numbers, nesting, query length),
        # which answer 400 naming the field whatever the operation; every route is signed-in
        # and permission-checked (401, 403); a record in the path may be missing or another
        # line's (404); a write may meet a state that forbids it (409) or a failed
        # precondition (422). Written here once, not per endpoint (components by name).
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400", "401", "403"]
            if "{" in (path or "") or "<" in (path or ""):
                codes.append("404")
            if method in ("post", "put", "delete"):
                codes += ["409", "422"]
            for code in codes:
                if int(code) not in responses and code not in responses:
                    responses[code] = code  # a component name: apispec makes it a $ref

    def response_401(self):
        return self.response(401, message=str(_l("Not signed in.")))

    def response_403(self):
        return self.response(403, message=str(_l("You are not allowed to do this.")))

    def response_404(self):
        return self.response(404, message=str(_l("Not found.")))
