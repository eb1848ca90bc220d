"""Assigning many cases to one handler at once (the case list's 批量分派).

Each case goes through the workflow's own *assign* action (core.services.workflow.run_action):
the same rules, its own transaction and audit event. A case that cannot be assigned (another
stage, another line, not visible) is reported with the reason and the others are assigned:
the outcome is per case, not all-or-nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.extensions import db
from core.models import Department
from core.services import workflow
from core.services.access import can, get_case
from core.services.case_lists import handler_choices
from core.services.errors import Forbidden, Invalid, NotFound, ServiceError

DIGITS = re.compile(r"^[0-9]{1,10}$")


def ascii_int(raw: str) -> int | None:
    return int(raw) if DIGITS.match(raw.strip()) else None


@dataclass
class Outcome:
    case_id: int
    number: str | None
    ok: bool
    message: str


def _ids(raw: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in raw:
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        number = ascii_int(value) if isinstance(value, str) else number
        if number is None or not 0 < number <= limits.ID:
            raise Invalid(str(_l("Not a case.")), field="case")
        if number not in ids:
            ids.append(number)
    if not ids:
        raise Invalid(str(_l("Tick at least one case.")), field="case")
    if len(ids) > limits.BULK_ASSIGN:
        raise Invalid(str(_l("At most %(n)s cases at once.", n=limits.BULK_ASSIGN)), field="case")
    return ids


def bulk_assign(actor, case_ids: Iterable[Any], handler: Any, department: Any = None):
    """Assign each case to ``handler`` (a user id) and ``department`` (a code; the handler's
    own department when empty): one :class:`Outcome` per case, in the order given.

    403 a role that may not assign; 400 no or too many cases, an unknown handler or
    department (nothing is assigned then)."""
    if not can(actor, "can_assign"):
        raise Forbidden(str(_l("Your role may not assign cases.")), field="action")
    ids = _ids(case_ids)
    handler_id = ascii_int(handler) if isinstance(handler, str) else None
    person = next((u for u in handler_choices(actor) if u.id == handler_id), None)
    if person is None:
        raise Invalid(str(_l("Choose a handler.")), field="handler")
    if isinstance(department, str) and department.strip():
        dept = db.session.scalar(sa.select(Department).where(Department.code == department.strip()))
        if dept is None:
            raise Invalid(str(_l("Unknown department.")), field="department")
    else:
        dept = person.department
        if dept is None:
            raise Invalid(str(_l("Name the responsible department.")), field="department")
    payload = {"handler": person.username, "department": dept.code}
    outcomes = []
    for case_id in ids:
        try:
            case = workflow.run_action(actor, case_id, "assign", dict(payload))
        except NotFound:
            outcomes.append(Outcome(case_id, None, False, str(_l("Not found."))))
        except ServiceError as exc:
            db.session.rollback()
            number = _number(actor, case_id)
            outcomes.append(Outcome(case_id, number, False, str(exc.message)))
        else:
            outcomes.append(Outcome(case_id, case.number, True, str(_l("Assigned."))))
    return outcomes


def _number(actor, case_id: int) -> str | None:
    try:
        return get_case(actor, case_id).number
    except ServiceError:
        return None
