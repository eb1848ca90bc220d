"""Flask-AppBuilder security wired to Kesu's user model (membership and department)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context, jsonify, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.const import (
    API_SECURITY_ACCESS_TOKEN_KEY,
    API_SECURITY_PROVIDER_DB,
    API_SECURITY_REFRESH_TOKEN_KEY,
)
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Group, Role
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy.orm import joinedload

from core import auth_guard, limits, passwords
from core.auth_views import (
    KesuAuthDBView,
    KesuResetMyPasswordView,
    KesuResetPasswordView,
    throttled_message,
)
from core.inputs import is_id
from core.models import BusinessLine, KesuUser
from core.views.accounts import (
    KesuRoleModelView,
    KesuUserDBModelView,
    KesuUserInfoEditView,
    UnusedGroupView,
)
from core.views.datamodel import AuditedInterface

USER_LOAD = (
    joinedload(KesuUser.roles),
    joinedload(KesuUser.groups).joinedload(Group.roles),
    joinedload(KesuUser.business_lines).joinedload(BusinessLine.plugins),
)


def _request_cache() -> dict | None:
    """A dict that lives as long as the current request (None outside one): kept on the
    request object itself, so it never outlives the request or passes to another user."""
    if not has_request_context():
        return None
    return vars(request._get_current_object()).setdefault("_kesu_access_cache", {})


class KesuSecurityApi(SecurityApi):
    """``/api/v1/security/login``: Kesu's error shape, and ``provider`` defaulting to ``db``."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in and receive a JWT.
        ---
        post:
          summary: Sign in
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password]
                  properties:
                    username: {type: string, maxLength: 128}
                    password: {type: string, maxLength: 256}
                    provider: {type: string, enum: [db], default: db}
                    refresh: {type: boolean, description: also return a refresh token}
          responses:
            200:
              description: Signed in
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token: {type: string}
                      refresh_token: {type: string}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            429:
              description: Too many failed sign-ins for this account or from this address
              headers:
                Retry-After:
                  description: seconds until a sign-in is accepted again
                  schema: {type: integer}
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message: {type: string}
        """
        payload = request.get_json(silent=True) if request.is_json else None
        if not isinstance(payload, dict):
            return self.response(
                400,
                message=str(_l("The body must be a JSON object.")),
                errors={"body": [str(_l("The body must be a JSON object."))]},
            )
        errors = {}
        for key, limit in (("username", limits.USERNAME), ("password", limits.PASSWORD)):
            if not isinstance(payload.get(key), str) or not payload[key]:
                errors[key] = [str(_l("This field is required."))]
            elif len(payload[key]) > limit:
                errors[key] = [str(_l("Must be at most %(n)s characters.", n=limit))]
        if payload.get("provider", API_SECURITY_PROVIDER_DB) != API_SECURITY_PROVIDER_DB:
            errors["provider"] = [
                str(_l("Must be one of: %(values)s.", values=API_SECURITY_PROVIDER_DB))
            ]
        if errors:
            first = next(iter(errors))
            return self.response(400, message=f"{first}: {errors[first][0]}", errors=errors)
        try:
            user = self.appbuilder.sm.auth_user_db(payload["username"], payload["password"])
        except auth_guard.LoginThrottled as exc:
            response = self.response(429, message=throttled_message(exc.retry_after))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if not user:
            return self.response(401, message=str(_l("Wrong user name or password.")))
        tokens = {
            API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id), fresh=True)
        }
        if payload.get("refresh") is True:
            tokens[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id))
        return self.response(200, **tokens)


class KesuSecurityManager(SecurityManager):
    user_model = KesuUser
    security_api = KesuSecurityApi
    userdbmodelview = KesuUserDBModelView
    rolemodelview = KesuRoleModelView
    groupmodelview = UnusedGroupView
    userinfoeditview = KesuUserInfoEditView
    authdbview = KesuAuthDBView
    resetmypasswordview = KesuResetMyPasswordView
    resetpasswordview = KesuResetPasswordView
    # FAB's user statistics chart loads Google Charts from the internet; Kesu runs offline.
    userstatschartview = None

    def __init__(self, appbuilder) -> None:
        super().__init__(appbuilder)
        # User changes made on the admin screens are audited like every other change.
        self.userdbmodelview.datamodel = AuditedInterface(KesuUser, entity="user")

    def register_views(self) -> None:
        super().register_views()
        # The groups' menu entry goes with their screens (core.views.accounts).
        security = self.appbuilder.menu.find("Security")
        if security is not None:
            security.childs = [c for c in security.childs if c.name != "List Groups"]

    def auth_user_db(self, username, password):
        """Throttled, and the same work for unknown names and wrong passwords (see
        :mod:`core.auth_guard`); raises ``LoginThrottled``."""
        return auth_guard.authenticate(self, username, password)

    def get_user_by_id(self, pk):
        """The user with what every request reads of them (roles, groups, business lines and
        their plugins) in one statement, instead of one lazy load each."""
        return self.session.get(self.user_model, pk, options=USER_LOAD)

    def get_public_role(self):
        """The Public role with its permissions in one statement (every API call asks
        whether its endpoint is public before it looks at the token)."""
        stmt = (
            sa.select(self.role_model)
            .where(self.role_model.name == self.auth_role_public)
            .options(joinedload(Role.permissions))
        )
        return self.session.scalars(stmt).unique().one_or_none()

    def _has_view_access(self, user, permission_name, view_name) -> bool:
        """Whether the user's roles grant the permission: answered once per request for
        roles that are all builtin (``FAB_ROLES``, configuration), whose grants cannot change
        while the request runs; other roles ask the database each time, as FAB does."""
        cache = _request_cache()
        if cache is None:
            return super()._has_view_access(user, permission_name, view_name)
        roles = tuple(sorted(r.name for r in self.get_user_roles(user)))
        if not roles or any(name not in self.builtin_roles for name in roles):
            return super()._has_view_access(user, permission_name, view_name)
        key = (roles, permission_name, view_name)
        if key not in cache:
            cache[key] = super()._has_view_access(user, permission_name, view_name)
        return cache[key]

    def _user_by_id(self, pk):
        return self.get_user_by_id(int(pk)) if is_id(pk) else None

    def load_user(self, pk):
        """The session's user, unless inactive or the session predates the user's epoch."""
        user = self._user_by_id(pk)
        if user is not None and user.is_active and auth_guard.session_is_current(user):
            return user
        return None

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The token's user, unless inactive or the token predates the user's epoch."""
        user = self._user_by_id(jwt_data.get("sub"))
        if user is not None and user.is_active and auth_guard.token_is_current(user, jwt_data):
            g.user = user
            return user
        return None

    def reset_password(self, userid, password):
        """Every password set through Flask-AppBuilder (screens, ``kesu fab reset-password``)
        meets the rules; the screens check them first and show the error on the form."""
        user = self.get_user_by_id(userid)
        if user is not None:
            passwords.refuse_weak(password, user.username)
        super().reset_password(userid, password)

    def add_user(self, username, first_name, last_name, email, role, password="", **kw):
        """``kesu fab create-user``/``create-admin``: the password rules apply (an empty
        password, as for accounts provisioned from elsewhere, gets a random one); the name is
        kept whole, surname first (core/views/accounts.py)."""
        if password:
            passwords.refuse_weak(password, username)
        name = f"{last_name or ''}{first_name or ''}".strip() or username
        return super().add_user(username, "", name, email, role, password, **kw)

    def on_user_logout(self, user) -> None:
        """Signing out ends every session and token of the user."""
        auth_guard.end_all_sessions(user.id)

    def create_jwt_manager(self, app):
        """JWT problems answer 401 in Kesu's error shape (``message``), never 422."""
        jwt_manager = super().create_jwt_manager(app)

        def not_signed_in(*_args):
            return jsonify(message=str(_l("Not signed in."))), 401

        def expired(*_args):
            return jsonify(message=str(_l("Your session has expired; sign in again."))), 401

        jwt_manager.additional_claims_loader(auth_guard.jwt_claims)
        jwt_manager.unauthorized_loader(not_signed_in)
        jwt_manager.invalid_token_loader(not_signed_in)
        jwt_manager.expired_token_loader(expired)
        jwt_manager.revoked_token_loader(expired)
        jwt_manager.needs_fresh_token_loader(expired)
        jwt_manager.user_lookup_error_loader(not_signed_in)
        return jwt_manager
