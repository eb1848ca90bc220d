"""Record rules and permissions, applied in one place.

A user sees and changes only the cases (and customers, products, evidence) of the business
lines they belong to; the Admin role sees every line. Permissions come from the roles of
:mod:`core.roles`. Every read and write in the service layer goes through these helpers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.security.sqla.models import Group
from flask_babel import lazy_gettext as _l

from core.db import for_update
from core.extensions import db
from core.models import BusinessLine, Case, Customer, KesuUser, Product
from core.models.user import user_business_line
from core.roles import ADMIN, CAN_VIEW_CONTACT, CASE, CONTACT, RESPONSIBLE_DEPT
from core.services.errors import Conflict, Forbidden, Invalid, NotFound


class SystemActor:
    """The local shell (``kesu`` CLI): trusted like an admin, recorded as "system"."""

    id = None
    username = "system"
    is_active = True
    is_authenticated = True
    roles: list = []
    business_lines: list = []


SYSTEM = SystemActor()


def is_admin(actor) -> bool:
    return actor is SYSTEM or any(role.name == ADMIN for role in actor.roles)


def can(actor: KesuUser | None, permission: str, view: str = CASE) -> bool:
    """Whether ``actor``'s roles grant ``permission`` on ``view``."""
    if actor is SYSTEM:
        return True
    if actor is None or not actor.is_active:
        return False
    return current_app.appbuilder.sm._has_view_access(actor, permission, view)


def staff_roles() -> tuple:
    """Loader options for deciding on many users' rights (may_handle over a pick list): their
    roles and their groups' roles, for all of them in three statements instead of two each."""
    return (
        sa.orm.selectinload(KesuUser.roles),
        sa.orm.selectinload(KesuUser.groups).selectinload(Group.roles),
    )


def may_handle(user) -> bool:
    """Whether ``user`` may be a case's handler: a role that investigates and proposes
    (QA, Responsible Dept, Sales, customer service), not Finance, Auditor or the warehouse."""
    return can(user, "can_propose")


def require(actor: KesuUser | None, permission: str, view: str = CASE) -> None:
    if not can(actor, permission, view):
        raise Forbidden()


def can_view_contact(actor: KesuUser | None) -> bool:
    return can(actor, CAN_VIEW_CONTACT, CONTACT)


# Roles that work only on the cases assigned to their own department (DOMAIN.md section 10).
DEPARTMENT_SCOPED = frozenset({RESPONSIBLE_DEPT})


def department_scoped(actor) -> bool:
    """Whether the actor's roles all work department by department (Responsible Dept)."""
    if actor is SYSTEM:
        return False
    names = {role.name for role in actor.roles}
    return bool(names) and names <= DEPARTMENT_SCOPED


def department_bound(actor, case: Case) -> bool:
    """Whether the actor's roles all work department by department and the case is not theirs."""
    if not department_scoped(actor):
        return False
    return case.department_id is None or case.department_id != actor.department_id


def require_department(actor, case: Case) -> None:
    if department_bound(actor, case):
        raise Forbidden(_l("Your department is not responsible for this case."), field="department")


def line_ids(actor: KesuUser) -> set[int] | None:
    """The ids of the lines the actor may see; None means every line (Admin)."""
    if is_admin(actor):
        return None
    return {line.id for line in actor.business_lines}


def visible_line_ids(actor) -> list[int]:
    """The ids of the lines the actor may see, spelled out (every line for an admin)."""
    ids = line_ids(actor)
    if ids is None:
        return list(db.session.scalars(sa.select(BusinessLine.id)))
    return sorted(ids)


def line_filter(actor: KesuUser, column: Any) -> Any:
    """A WHERE clause restricting ``column`` (a business-line id column) to the actor's lines."""
    ids = line_ids(actor)
    if ids is None:
        return sa.true()
    return column.in_(ids) if ids else sa.false()


def line_member_ids(actor) -> list[int]:
    """The ids of the active users who belong to one of the actor's lines (every active user
    for an admin): whom the actor may pick as a handler or give a position to."""
    stmt = sa.select(KesuUser.id).where(KesuUser.active.is_(True))
    if line_ids(actor) is not None:
        members = sa.select(user_business_line.c.user_id).where(
            line_filter(actor, user_business_line.c.business_line_id)
        )
        stmt = stmt.where(KesuUser.id.in_(members))
    return list(db.session.scalars(stmt))


def visible_lines(actor: KesuUser) -> list[BusinessLine]:
    stmt = (
        sa.select(BusinessLine)
        .where(line_filter(actor, BusinessLine.id), BusinessLine.active.is_(True))
        .order_by(BusinessLine.code)
    )
    return list(db.session.scalars(stmt))


def line_for_write(actor: KesuUser, code: str, field: str = "business_line") -> BusinessLine:
    """The active line ``code`` if the actor belongs to it: 400 unknown, 403 foreign.

    A member's line is the one loaded with the actor (this request, the same row a query
    would return from the session); an admin's is looked up.
    """
    line = next((x for x in _loaded_lines(actor) if x.code == code), None)
    if line is None:
        line = db.session.scalar(
            sa.select(BusinessLine)
            .where(BusinessLine.code == code)
            .options(sa.orm.lazyload(BusinessLine.plugins))  # kept if loaded, else on use
        )
    if line is None or not line.active:
        raise Invalid(_l("Unknown business line."), field=field)
    ids = line_ids(actor)
    if ids is not None and line.id not in ids:
        raise Forbidden(_l("You do not belong to this business line."), field=field)
    return line


def _loaded_lines(actor) -> list[BusinessLine]:
    """The actor's lines if they are loaded already (they are, with the request's user)."""
    state = None if actor is SYSTEM else sa.inspect(actor, raiseerr=False)
    if state is None or "business_lines" not in state.dict:
        return []
    return actor.business_lines


def cases_query(actor: KesuUser) -> sa.Select:
    """SELECT of the cases the actor may see."""
    return sa.select(Case).where(line_filter(actor, Case.business_line_id))


# A case's customer and product are of its own line, which the case loads: their lines come
# from the session, not from two more joins (and two more loads of the line's plugins).
SAME_LINE = (
    sa.orm.defaultload(Case.customer).lazyload(Customer.business_line),
    sa.orm.defaultload(Case.product).lazyload(Product.business_line),
)


def get_case(actor: KesuUser, case_id: int, *, lock: bool = False) -> Case:
    """The case if the actor may see it, else 404 (a foreign case does not exist for them)."""
    require(actor, "can_read")
    stmt = cases_query(actor).where(Case.id == case_id).options(*SAME_LINE)
    if lock:
        stmt = for_update(stmt, of=Case)
    case = db.session.scalar(stmt)
    if case is None:
        raise NotFound()
    if lock and case.archived_at is not None:  # read for a write: an archived case is read-only
        raise Conflict(_l("This case is archived and read-only."), field="archived")
    return case
