"""The case list's filters: read from a query string, checked, turned into WHERE clauses.

Every filter is a GET parameter so a list can be bookmarked, saved (core.services.saved_filters)
and exported (core.services.case_export). A value that is not one of the filter's choices is a
400 naming the parameter; nothing is silently dropped. The record rules of
:func:`core.services.access.cases_query` apply underneath every filter.

- ``mine=1``: cases the reader handles or registered;
- ``my_department=1``: cases whose handler is in the reader's department;
- ``handler=<user id>``: cases of one handler (a handler on the reader's lines);
- ``received_from`` / ``received_to`` (``YYYY-MM-DD``): received on or after the first day and
  on or before the last day, both whole days in the reader's local zone
  (:func:`core.timeutil.reader_zone`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import limits
from core.extensions import db
from core.models import Case, KesuUser
from core.services import case_query
from core.services.access import (
    line_member_ids,
    may_handle,
    require,
    staff_roles,
    visible_lines,
)
from core.services.errors import Invalid
from core.services.lines import registry
from core.timeutil import reader_zone, zone
from core.vocab import PRIORITIES
from core.workflow import STAGES

FLAGS = ("mine", "my_department")
NEW_FILTERS = (*FLAGS, "handler", "received_from", "received_to")
# Every parameter of the list that selects cases (the page number is not one).
FILTERS = (*case_query.LIST_FILTERS, *NEW_FILTERS)
BOOLEAN = ("true", "false", "1", "0")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR_MIN, YEAR_MAX = limits.DATE_MIN.year, 2100


def handler_choices(actor) -> list[KesuUser]:
    """The people the handler filter offers: active staff of the reader's lines who may
    handle a case, by display name."""
    ids = line_member_ids(actor)
    if not ids:
        return []
    users = db.session.scalars(
        sa.select(KesuUser)
        .where(KesuUser.id.in_(ids))
        .options(*staff_roles())  # may_handle reads each one's roles: loaded together
    )
    return sorted((u for u in users if may_handle(u)), key=lambda u: (u.display_name, u.id))


def _one_of(field: str, value: str, allowed) -> None:
    if value not in allowed:
        raise Invalid(str(_l("Not one of the choices.")), field=field)


def _date(field: str, value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if DATE.match(value) else None
    except ValueError:
        day = None
    if day is None or not YEAR_MIN <= day.year <= YEAR_MAX:
        raise Invalid(str(_l("Not a date (YYYY-MM-DD).")), field=field)
    return day


def clean_filters(actor, args: Mapping[str, Any]) -> dict[str, str]:
    """The list's filters from ``args`` (a query string's values), each checked: the filters
    that are set, as text (for links and forms). 400 naming the parameter on a bad value."""
    require(actor, "can_read")
    out: dict[str, str] = {}
    for key in FILTERS:
        value = args.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > limits.SEARCH:
            raise Invalid(str(_l("Must be at most %(n)s characters.", n=limits.SEARCH)), field=key)
        out[key] = value
    if "business_line" in out:
        _one_of("business_line", out["business_line"], {ln.code for ln in visible_lines(actor)})
    if "category" in out:
        _one_of("category", out["category"], {d.key for d in registry().categories()})
    if "status" in out:
        _one_of("status", out["status"], STAGES)
    if "priority" in out:
        _one_of("priority", out["priority"], PRIORITIES)
    for key in ("is_major", "overdue", "archived"):
        if key in out:
            _one_of(key, out[key], BOOLEAN)
    if "sort" in out:
        _one_of("sort", out["sort"], case_query.SORTS)
    for key in FLAGS:
        if key in out:
            _one_of(key, out[key], ("1",))
    if "my_department" in out and getattr(actor, "department_id", None) is None:
        raise Invalid(str(_l("You belong to no department.")), field="my_department")
    if "handler" in out:
        _one_of("handler", out["handler"], {str(u.id) for u in handler_choices(actor)})
    days = {k: _date(k, out[k]) for k in ("received_from", "received_to") if k in out}
    if len(days) == 2 and days["received_to"] < days["received_from"]:
        raise Invalid(str(_l("The last day is before the first day.")), field="received_to")
    return out


def narrowing(actor, filters: Mapping[str, str]) -> list[case_query.Narrow]:
    """The filters of whose cases a person's are (few, perhaps, of a line's): each read
    through the handler's or the registrar's index when they are few."""
    out: list[case_query.Narrow] = []
    if filters.get("mine"):
        out.append(
            case_query.Narrow(
                sa.union_all(
                    sa.select(Case.id).where(Case.handler_id == actor.id),
                    sa.select(Case.id).where(Case.created_by_id == actor.id),
                ),
                sa.or_(Case.handler_id == actor.id, Case.created_by_id == actor.id),
            )
        )
    if filters.get("my_department"):
        colleagues = sa.select(KesuUser.id).where(KesuUser.department_id == actor.department_id)
        out.append(
            case_query.Narrow(
                sa.select(Case.id).where(Case.handler_id.in_(colleagues)),
                Case.handler_id.in_(colleagues),
            )
        )
    if filters.get("handler"):
        handler = int(filters["handler"])
        out.append(
            case_query.Narrow(
                sa.select(Case.id).where(Case.handler_id == handler), Case.handler_id == handler
            )
        )
    return out


def clauses(actor, filters: Mapping[str, str]) -> list[Any]:
    """The WHERE clauses of the filters this module adds (on top of the service's own)."""
    out: list[Any] = []
    tz = zone(reader_zone(actor))
    if filters.get("received_from"):
        day = dt.date.fromisoformat(filters["received_from"])
        out.append(Case.received_at >= dt.datetime.combine(day, dt.time.min, tz))
    if filters.get("received_to"):  # the whole last day: before the next day's midnight
        day = dt.date.fromisoformat(filters["received_to"]) + dt.timedelta(days=1)
        out.append(Case.received_at < dt.datetime.combine(day, dt.time.min, tz))
    return out


def list_page(
    actor,
    filters: Mapping[str, str],
    *,
    after: str | None = None,
    page_size: int = 20,
    counted: bool = True,
    cap: int | None = None,
) -> case_query.Page:
    """A page of the filtered list after the cursor ``after`` (filters from
    :func:`clean_filters`)."""
    base = {k: v for k, v in filters.items() if k in case_query.LIST_FILTERS}
    return case_query.list_cases(
        actor,
        base,
        after=after,
        page_size=page_size,
        where=clauses(actor, filters),
        narrow=narrowing(actor, filters),
        counted=counted,
        cap=cap,
    )


def query_string(filters: Mapping[str, str]) -> str:
    """The filters as a query string, in a fixed order (what a saved filter stores)."""
    return urlencode([(k, filters[k]) for k in FILTERS if filters.get(k)])
