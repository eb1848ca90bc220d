"""Errors the service layer raises; each maps to one HTTP status and a clear message."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class ServiceError(Exception):
    """Base of all service errors. ``errors`` maps a field name to its messages."""

    status = 400

    def __init__(
        self,
        message: Any = None,
        *,
        errors: dict[str, list[str]] | None = None,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        self.message = message if message is not None else self.default_message()
        self.errors = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = [str(self.message)]
        self.extra = extra
        super().__init__(str(self.message))

    def default_message(self) -> Any:
        return _l("The request is not valid.")

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": str(self.message)}
        if self.errors:
            body["errors"] = {k: [str(m) for m in v] for k, v in self.errors.items()}
        body.update(self.extra)
        return body


class Invalid(ServiceError):
    """Bad input: a missing, unknown or ill-typed field (400)."""

    status = 400


class Forbidden(ServiceError):
    """The actor's role or business lines do not allow this (403)."""

    status = 403

    def default_message(self) -> Any:
        return _l("You are not allowed to do this.")


class NotFound(ServiceError):
    """Nothing the actor may see has this id (404)."""

    status = 404

    def default_message(self) -> Any:
        return _l("Not found.")


class Conflict(ServiceError):
    """The record is not in a state that allows this, or the client's copy is stale (409)."""

    status = 409

    def default_message(self) -> Any:
        return _l("This conflicts with the current state of the record.")


class PreconditionFailed(ServiceError):
    """A workflow action's precondition does not hold (422)."""

    status = 422

    def default_message(self) -> Any:
        return _l("A precondition of this action is not met.")


def field_label(name: str) -> str:
    """A field as people read it (the key the API names it by stays in ``errors``)."""
    from core.services.history_labels import FIELD_LABELS

    for key in (name, name.rsplit(".", 1)[-1], name.removesuffix("_id")):
        if key in FIELD_LABELS:
            return str(FIELD_LABELS[key])
    return name


def invalid_if(errors: dict[str, list[str]], labels: dict[str, Any] | None = None) -> None:
    """Raise :class:`Invalid` naming the fields when ``errors`` is not empty: the message
    names the first by its label (``labels``, else the common field labels), ``errors``
    names each by its key."""
    if errors:
        first = next(iter(errors))
        label = (labels or {}).get(first)
        raise Invalid(
            str(
                _l(
                    "Invalid value for %(field)s: %(message)s",
                    field=str(label) if label else field_label(first),
                    message=errors[first][0],
                )
            ),
            errors=errors,
        )
