"""Application-wide request handling: JSON errors on the API, friendly pages elsewhere."""

from __future__ import annotations

import logging

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core import limits
from core.contracts import CHARGE_KINDS
from core.i18n import join_list
from core.services.access import can
from core.services.errors import ServiceError
from core.timeutil import local_time

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: _l("The request is not valid."),
    401: _l("Not signed in."),
    403: _l("You are not allowed to do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    413: _l("The upload is too large."),
    500: _l("Something went wrong; the error was logged."),
}


def _is_api() -> bool:
    return request.path.startswith("/api/")


def http_error_body(exc: HTTPException) -> dict:
    """The JSON body of an HTTP error, in the user's language."""
    message = _HTTP_MESSAGES.get(exc.code or 500, exc.description)
    body = {"message": str(message)}
    if exc.code == 413:
        body["errors"] = {"file": [str(message)]}
    return body


def select_locale() -> str:
    """The language of a request: ``?_l_=`` (API), the one chosen in the menu, else the
    signed-in user's first business line's, else the configured default (zh_CN)."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        asked = request.args.get("_l_")
        if asked in languages:
            return asked
        chosen = session.get("locale")
        if chosen in languages:
            return chosen
        user = g.get("user")
        if user is not None and getattr(user, "is_authenticated", False) and user.business_lines:
            line_locale = user.business_lines[0].locale
            if line_locale in languages:
                return line_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def cell_text(value) -> str:
    """A value on Flask-AppBuilder's list and show screens as people read it: yes/no, a dash
    for nothing, lists joined, roles by their labels."""
    from core.roles import role_label

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list | tuple | set):
        return join_list(cell_text(v) for v in value) or "—"
    if type(value).__name__ == "Role" and hasattr(value, "name"):
        return role_label(value.name)
    return str(value)


def install_web_handlers(app: Flask) -> None:
    # Flask-AppBuilder's selector pins the default into every new session; Kesu's also
    # honours the business line's language.
    app.extensions["babel"].locale_selector = select_locale
    # Templates (plugin panels among them) ask what the signed-in user may do.
    app.jinja_env.globals["kesu_can"] = lambda permission, view="Case": can(
        g.user, permission, view
    )
    app.jinja_env.globals["kesu_time"] = local_time
    # The language menu shows the language the screen is in.
    app.jinja_env.globals["kesu_locale"] = select_locale
    app.jinja_env.filters["kesu_cell"] = cell_text
    # Screens state each field's maximum (maxlength, max) from core/limits.py.
    app.jinja_env.globals["kesu_limits"] = limits
    # A compensation total leaves out charges (freight the customer pays, a responsible person's cost).
    app.jinja_env.globals["kesu_charge_kinds"] = CHARGE_KINDS

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        return jsonify(exc.as_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _is_api():
            return jsonify(http_error_body(exc)), exc.code
        if exc.code is None or exc.code < 400 or exc.code == 401:
            return exc  # redirects and the sign-in challenge keep Werkzeug's answer
        return error_page(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = str(_HTTP_MESSAGES[500])
        if _is_api():
            return jsonify({"message": message}), 500
        return error_page(500)


_TITLES = {
    403: _l("Not allowed"),
    404: _l("Page not found"),
    500: _l("Server error"),
}


def error_page(code: int):
    """An error as a page of the application (menus, language), in the user's language."""
    message = str(_HTTP_MESSAGES.get(code, _HTTP_MESSAGES[400]))
    try:
        page = render_template(
            "kesu/error.html",
            appbuilder=current_app.appbuilder,
            base_template=current_app.appbuilder.base_template,
            code=code,
            title=str(_TITLES.get(code, _HTTP_MESSAGES.get(code, _HTTP_MESSAGES[400]))),
            message=message,
        )
    except Exception:  # the layout itself failed: the message alone still reaches the user
        log.exception("error page %s could not be rendered", code)
        return message, code
    return page, code
