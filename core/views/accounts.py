"""The admin's user and role screens (Flask-AppBuilder's, in Kesu's terms).

- A person's name is one field, 姓名, surname first: it is stored whole in ``last_name``
  (``first_name`` left empty), so :attr:`KesuUser.display_name` gives it back; accounts made
  before keep their two parts until they are next saved.
- Roles and their permissions are written by ``kesu init`` from code (core/roles.py and the
  plugins' ``kesu_roles``): the role screens only list them, by their labels.
- Users are never deleted (deactivate them instead); Flask-AppBuilder's user groups are not
  part of Kesu (roles are given to users directly), so their screens are not registered.
"""

from __future__ import annotations

from flask import current_app, flash, g, request
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.views import (
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserInfoEditView,
)
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core import limits
from core.auth_views import ADD_USER_PASSWORD_FIELDS
from core.i18n import join_list
from core.roles import role_label
from core.services import setup
from core.views.datamodel import AuditedViewMixin

MEMBERSHIP = ["business_lines", "department"]
NAME = "last_name"  # the whole name, surname first (see the module's docstring)


def _roles(roles) -> str:
    return join_list(role_label(r.name) for r in roles or ()) or "—"


def _names(items) -> str:
    return join_list(str(i) for i in items or ()) or "—"


USER_LABELS = {
    NAME: _l("Name (surname first)"),
    "username": _l("User name"),
    "email": _l("E-mail"),
    "active": _l("Active"),
    "roles": _l("Roles"),
    "business_lines": _l("Business lines"),
    "department": _l("Department"),
    "last_login": _l("Last sign-in"),
    "login_count": _l("Sign-ins"),
    "fail_login_count": _l("Failed sign-ins"),
    "created_on": _l("Created on"),
    "created_by": _l("Created by"),
    "changed_on": _l("Changed on"),
    "changed_by": _l("Changed by"),
    "password": _l("Password"),
    "conf_password": _l("Confirm Password"),
}


class KesuUserDBModelView(AuditedViewMixin, UserDBModelView):
    """The admin's user screen: one name field, business lines and department, no deleting."""

    # Deleting a user is not offered (the history names them); FAB's file download is unused.
    exclude_route_methods = {"delete", "download"}
    base_permissions = [
        "can_list",
        "can_show",
        "can_add",
        "can_edit",
        "can_userinfo",
        "can_resetpasswords",
        "can_resetmypassword",
        "can_userinfoedit",
    ]
    list_title = _l("Users")
    show_title = _l("User")
    add_title = _l("Add a user")
    edit_title = _l("Edit the user")
    user_info_title = _l("Your account")

    add_columns = [NAME, "username", "active", "email", "roles", *MEMBERSHIP]
    add_columns += ["password", "conf_password"]
    edit_columns = [NAME, "username", "active", "email", "roles", *MEMBERSHIP]
    show_columns = [NAME, "username", "active", "email", "roles", *MEMBERSHIP]
    show_columns += ["last_login", "login_count"]
    list_columns = [NAME, "username", "email", "active", "roles", "business_lines"]
    search_columns = [NAME, "username", "email", "active", "roles", "business_lines"]
    order_columns = [NAME, "username", "email", "active"]
    add_form_extra_fields = ADD_USER_PASSWORD_FIELDS
    label_columns = USER_LABELS
    description_columns = {
        NAME: _l("The whole name, surname first, e.g. 李客服."),
        "active": _l("Users are never deleted: clear this to stop an account signing in."),
    }
    validators_columns = {"roles": [DataRequired()]}
    formatters_columns = {"roles": _roles, "business_lines": _names}
    # Roles by their labels, and only Kesu's (not Flask-AppBuilder's "Public" and "User").
    select_fields = {
        "roles": (
            lambda role: role_label(role.name),
            lambda role: role.name in current_app.config["FAB_ROLES"],
        )
    }
    # FAB's show_fieldsets decide the show columns; they must name the membership too, or
    # the user-info page (user_show_fieldsets) asks for a column the view does not have.
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", *MEMBERSHIP]}),
        (_l("Personal Info"), {"fields": [NAME, "email"], "expanded": True}),
        (
            _l("Audit Info"),
            {
                "fields": [
                    "last_login",
                    "login_count",
                    "fail_login_count",
                    "created_on",
                    "created_by",
                    "changed_on",
                    "changed_by",
                ],
                "expanded": False,
            },
        ),
    ]
    user_show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", *MEMBERSHIP]}),
        (_l("Personal Info"), {"fields": [NAME, "email"], "expanded": True}),
    ]

    def prefill_form(self, form, pk) -> None:
        """An account saved before the name became one field shows its whole name."""
        super().prefill_form(form, pk)
        item = self.datamodel.get(pk)
        if item is not None:
            getattr(form, NAME).data = item.display_name

    def pre_add(self, item) -> None:
        item.first_name = ""
        super().pre_add(item)

    def pre_update(self, item) -> None:
        item.first_name = ""
        super().pre_update(item)


class KesuRoleModelView(RoleModelView):
    """The roles, read-only, by their labels (``kesu init`` writes them)."""

    class_permission_name = "RoleModelView"  # the permission kesu init grants
    include_route_methods = {"list", "show"}
    base_permissions = ["can_list", "can_show"]
    list_widget = ListWidget
    show_widget = ShowWidget
    list_title = _l("Roles")
    show_title = _l("Role")
    label_columns = {"name": _l("Role")}
    list_columns = ["name"]
    show_columns = ["name"]
    search_columns = ["name"]
    formatters_columns = {"name": role_label}
    # Kesu's roles only: not Flask-AppBuilder's own "Public" (signed-out visitors) and "User".
    base_filters = [["name", FilterInFunction, lambda: list(current_app.config["FAB_ROLES"])]]


class UnusedGroupView(UserGroupModelView):
    """Flask-AppBuilder's user groups: not part of Kesu, so no route is registered."""

    include_route_methods: set[str] = set()


class KesuUserInfoEdit(DynamicForm):
    last_name = StringField(
        _l("Name (surname first)"),
        validators=[DataRequired(), Length(max=limits.PERSON_NAME)],
        widget=BS3TextFieldWidget(),
        description=_l("The whole name, surname first, e.g. 李客服."),
    )


class KesuUserInfoEditView(UserInfoEditView):
    """Editing one's own name: one field, surname first."""

    route_base = "/userinfoeditview"
    class_permission_name = "UserInfoEditView"  # the permission every role holds
    form = KesuUserInfoEdit
    form_title = _l("Edit your name")
    message = _l("Your name was changed.")

    def form_get(self, form) -> None:
        form.last_name.data = self.appbuilder.sm.get_user_by_id(g.user.id).display_name

    def form_post(self, form) -> None:
        form = self.form.refresh(request.form)
        setup.set_own_name(g.user, form.last_name.data)
        flash(as_unicode(self.message), "info")
