"""Flask-AppBuilder's sign-in and password screens with Kesu's throttle and password rules."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.decorators import has_access, no_cache
from flask_appbuilder.security.forms import LoginForm_db, ResetPasswordForm
from flask_appbuilder.security.views import AuthDBView, ResetMyPasswordView, ResetPasswordView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from wtforms import PasswordField, validators
from wtforms.validators import EqualTo

from core import auth_guard
from core.extensions import db
from core.inputs import is_id
from core.models import KesuUser
from core.passwords import MIN_LENGTH, PasswordRules


def throttled_message(retry_after: int) -> str:
    return str(
        _l(
            "Too many failed sign-ins; try again in %(seconds)s seconds.",
            seconds=retry_after,
        )
    )


def _own_name(_form) -> str | None:
    return getattr(g.user, "username", None)


def _target() -> KesuUser | None:
    """The user ``?pk=`` names, if it is an id of an existing user."""
    pk = request.args.get("pk", "")
    return db.session.get(KesuUser, int(pk)) if is_id(pk) else None


def _target_name(_form) -> str | None:
    user = _target()
    return user.username if user is not None else None


def _form_name(form) -> str | None:
    field = getattr(form, "username", None)
    return field.data if field is not None and isinstance(field.data, str) else None


def password_field(username) -> PasswordField:
    return PasswordField(
        _l("Password"),
        description=_l(
            "At least %(count)s characters, not one character repeated, not the user name.",
            count=MIN_LENGTH,
        ),
        validators=[validators.DataRequired(), PasswordRules(username)],
        widget=BS3PasswordFieldWidget(),
    )


class OwnPasswordForm(ResetPasswordForm):
    password = password_field(_own_name)


class UserPasswordForm(ResetPasswordForm):
    password = password_field(_target_name)


# The admin's "add user" screen: the password under the rules, checked against the form's name.
ADD_USER_PASSWORD_FIELDS = {
    "password": password_field(_form_name),
    "conf_password": PasswordField(
        _l("Confirm Password"),
        validators=[
            validators.DataRequired(),
            EqualTo("password", message=_l("Passwords must match")),
        ],
        widget=BS3PasswordFieldWidget(),
    ),
}


class _RefusedFormIs400:
    """A refused form is shown again with status 400 (Flask-AppBuilder answers 200)."""

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        response = super().this_form_post()
        if isinstance(response, str):  # the form again, with its errors
            return response, 400
        return response


class KesuResetMyPasswordView(_RefusedFormIs400, ResetMyPasswordView):
    """``/resetmypassword/form``: the rules apply; this session stays signed in, every other
    session and token of the user ends."""

    class_permission_name = "ResetMyPasswordView"
    form = OwnPasswordForm

    def form_post(self, form) -> None:
        super().form_post(form)
        user = db.session.get(KesuUser, g.user.id)
        if user is not None:
            auth_guard.stamp_session(user)


class KesuResetPasswordView(_RefusedFormIs400, ResetPasswordView):
    """``/resetpassword/form?pk=``: the admin sets a user's password, under the rules."""

    class_permission_name = "ResetPasswordView"
    form = UserPasswordForm

    def form_get(self, form) -> None:
        if _target() is None:
            abort(404)
        super().form_get(form)

    def form_post(self, form) -> None:
        if _target() is None:
            abort(404)
        super().form_post(form)
        if request.args.get("pk") == str(g.user.id):  # the admin's own: this session stays
            user = db.session.get(KesuUser, g.user.id)
            if user is not None:
                auth_guard.stamp_session(user)


class KesuAuthDBView(AuthDBView):
    """``/login/``: refused with 429 while the account or the address is throttled."""

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            try:
                user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            except auth_guard.LoginThrottled as exc:
                flash(throttled_message(exc.retry_after), "danger")
                page = self.render_template(
                    self.login_template, title=self.title, form=form, appbuilder=self.appbuilder
                )
                return page, 429, {"Retry-After": str(exc.retry_after)}
            if not user:
                flash(as_unicode(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(
            self.login_template, title=self.title, form=form, appbuilder=self.appbuilder
        )
