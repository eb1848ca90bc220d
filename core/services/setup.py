"""Preparing a database (`kesu init`) and creating staff accounts."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_migrate import upgrade

from core.db import write_transaction
from core.extensions import db
from core.models import BusinessLine, Department, KesuUser
from core.passwords import hash_password, problems
from core.roles import (
    AUDIT,
    CAN_CANCEL_LINE,
    CAN_DISMISS_VISIT,
    CAN_EXPORT,
    CAN_RECORD_VISIT,
    CAN_SET_PRIORITY,
    CAN_SETTLE_GOODS,
    CAN_SETTLE_MONEY,
    CAN_VOID,
    CASE,
    COMPENSATION,
    CONTACT,
    FINANCE_EXPORT,
    ROLES,
    VISIT,
)
from core.services import audit
from core.services.access import require
from core.services.errors import Conflict, Invalid, invalid_if
from core.workflow import ACTIONS

# Permissions that are not a view's own: written as rows so custom roles can be given them.
DOMAIN_PERMISSIONS = [
    *[(f"can_{name}", CASE) for name in ACTIONS],
    ("can_read", CASE),
    ("can_create", CASE),
    ("can_edit", CASE),
    ("can_upload", CASE),
    ("can_override_acceptance", CASE),
    (CAN_SET_PRIORITY, CASE),
    ("can_read", "SLA"),
    ("can_sweep", "SLA"),
    ("can_edit", "Calendar"),
    ("can_view", CONTACT),
    ("can_read", AUDIT),
    ("can_configure", "Plugins"),
    (CAN_SETTLE_MONEY, COMPENSATION),
    (CAN_SETTLE_GOODS, COMPENSATION),
    (CAN_CANCEL_LINE, COMPENSATION),
    ("can_read", FINANCE_EXPORT),
    (CAN_EXPORT, FINANCE_EXPORT),
    (CAN_VOID, FINANCE_EXPORT),
    ("can_read", VISIT),
    (CAN_RECORD_VISIT, VISIT),
    (CAN_DISMISS_VISIT, VISIT),
]


def init_database() -> list[str]:
    """Migrate the schema to the newest revision and write roles and permissions.

    Safe to run again; run it before any server starts (several workers starting on a
    fresh database would race on table and permission creation).
    """
    from core.app import MIGRATIONS_DIR

    upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    role_names = list(dict.fromkeys([*ROLES, *current_app.config["FAB_ROLES"]]))
    for name in role_names:
        sm.add_role(name)
    sm.add_role(sm.auth_role_public)
    appbuilder.add_permissions(update_perms=True)
    for permission, view in DOMAIN_PERMISSIONS:
        sm.add_permission_view_menu(permission, view)
    _seed_missing_calendars()
    from core.services.root_causes import seed_missing

    seed_missing()  # lines from before the root-cause catalogue existed
    return role_names


def _seed_missing_calendars() -> None:
    """Lines from before calendars existed get China's calendar (as a new line does)."""
    from core.models import CalendarDay
    from core.services.access import SYSTEM
    from core.services.sla_calendar import seed_china

    bare = db.session.scalars(
        sa.select(BusinessLine).where(
            ~sa.exists().where(CalendarDay.business_line_id == BusinessLine.id)
        )
    ).all()
    for line in bare:
        seed_china(SYSTEM, line)


def create_user(
    actor,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    email: str | None = None,
    name: str | None = None,
    lines: Iterable[str] = (),
    department: str | None = None,
) -> KesuUser:
    """Create a staff account with its roles, business lines and department (audited).

    ``name`` is the whole name, surname first (李客服), kept in ``last_name`` as the user
    screens keep it (core/views/accounts.py); the user name stands in when it is missing.
    """
    require(actor, "can_add", "KesuUserDBModelView")
    errors: dict[str, list[str]] = {}
    if not username or not username.strip():
        errors["username"] = [str(_l("This field is required."))]
    password_problems = problems(password, username)
    if password_problems:
        errors["password"] = password_problems
    invalid_if(errors)
    sm = current_app.appbuilder.sm
    with write_transaction():
        if db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username)):
            raise Conflict(_l("This user name is taken."), field="username")
        role_rows = []
        for role_name in roles:
            role = sm.find_role(role_name)
            if role is None:
                raise Invalid(_l("Unknown role."), field="role")
            role_rows.append(role)
        line_rows = []
        for code in lines:
            line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code))
            if line is None:
                raise Invalid(_l("Unknown business line."), field="line")
            line_rows.append(line)
        dept = None
        if department:
            dept = db.session.scalar(sa.select(Department).where(Department.code == department))
            if dept is None:
                raise Invalid(_l("Unknown department."), field="department")
        user = KesuUser(
            username=username,
            first_name="",
            last_name=(name or "").strip() or username,
            email=email or f"{username}@kesu.invalid",
            active=True,
            password=hash_password(password),
            roles=role_rows,
            business_lines=line_rows,
            department=dept,
        )
        db.session.add(user)
        db.session.flush()
        audit.record(
            actor,
            "create",
            entity="user",
            entity_id=user.id,
            changes={
                "username": [None, username],
                "roles": [None, sorted(r.name for r in role_rows)],
                "business_lines": [None, sorted(line.code for line in line_rows)],
                "department": [None, department],
            },
        )
    return user


def set_own_name(actor: KesuUser, name: str) -> None:
    """A person renames themself (their account screen): one field, surname first, audited
    like an admin's change of the user."""
    name = (name or "").strip()
    invalid_if({"last_name": [str(_l("This field is required."))]} if not name else {})
    with write_transaction():
        user = db.session.get(KesuUser, actor.id)
        before = {"first_name": user.first_name or "", "last_name": user.last_name or ""}
        user.first_name, user.last_name = "", name
        changes = audit.diff(before, {"first_name": "", "last_name": name})
        if changes:
            audit.record(actor, "update", entity="user", entity_id=user.id, changes=changes)
