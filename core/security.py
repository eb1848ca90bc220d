"""Flask-AppBuilder security wired to Kesu's user model (membership and department)."""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l

from core.models import KesuUser
from core.views.datamodel import AuditedInterface

MEMBERSHIP = ["business_lines", "department"]


class KesuUserDBModelView(UserDBModelView):
    """The admin's user screen, with business lines and department."""

    add_columns = UserDBModelView.add_columns[:-2] + MEMBERSHIP + UserDBModelView.add_columns[-2:]
    edit_columns = UserDBModelView.edit_columns + MEMBERSHIP
    show_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "roles",
        "business_lines",
        "department",
        "last_login",
        "login_count",
    ]
    list_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "active",
        "roles",
        "business_lines",
    ]
    label_columns = {"business_lines": _l("Business lines"), "department": _l("Department")}
    user_show_fieldsets = [
        (
            _l("User info"),
            {"fields": ["username", "active", "roles", "business_lines", "department"]},
        ),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"], "expanded": True}),
    ]


class KesuSecurityManager(SecurityManager):
    user_model = KesuUser
    userdbmodelview = KesuUserDBModelView
    # FAB's user statistics chart loads Google Charts from the internet; Kesu runs offline.
    userstatschartview = None

    def __init__(self, appbuilder) -> None:
        super().__init__(appbuilder)
        # User changes made on the admin screens are audited like every other change.
        self.userdbmodelview.datamodel = AuditedInterface(KesuUser, entity="user")
