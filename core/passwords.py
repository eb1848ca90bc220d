"""Password rules and hashing, the same wherever a password is set.

The rules: at least ``MIN_LENGTH`` characters, not one character repeated, not the user name
(case ignored). They hold for the ``kesu create-user`` command (and the service it calls), the
admin's "add user" screen, ``/resetmypassword/form`` and ``/resetpassword/form``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash
from wtforms import ValidationError

from core.services.errors import invalid_if

MIN_LENGTH = 10


def problems(password: str | None, username: str | None = None) -> list[str]:
    """What is wrong with ``password`` for the user ``username`` (empty if it is acceptable)."""
    if not isinstance(password, str) or not password:
        return [str(_l("This field is required."))]
    found = []
    if len(password) < MIN_LENGTH:
        found.append(str(_l("Use at least %(count)s characters.", count=MIN_LENGTH)))
    if len(set(password)) == 1:
        found.append(str(_l("The password must not be one character repeated.")))
    if username and password.strip().casefold() == username.strip().casefold():
        found.append(str(_l("The password must not be the user name.")))
    return found


def refuse_weak(password: str | None, username: str | None = None) -> None:
    """Raise :class:`~core.services.errors.Invalid` naming ``password`` if it breaks a rule."""
    found = problems(password, username)
    invalid_if({"password": found} if found else {})


def hash_password(password: str) -> str:
    """The hash stored for ``password``, with the installation's method (as Flask-AppBuilder's
    screens use), so every stored hash costs the same to check."""
    config = current_app.config
    return generate_password_hash(
        password,
        method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


class PasswordRules:
    """WTForms validator applying :func:`problems`; ``username`` gives the account's name from
    the form (the add-user screen reads its ``username`` field; the reset screens the user's)."""

    def __init__(self, username: Callable[[object], str | None]) -> None:
        self.username = username

    def __call__(self, form, field) -> None:
        found = problems(field.data, self.username(form))
        if found:
            raise ValidationError(" ".join(found))
