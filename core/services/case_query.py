"""The case list at any size: filters as index ranges, keyset pages, a capped count.

A page costs the same few statements whatever the table holds: the ids of the page (per
business line, each a range of one of the ``ix_case_live_*`` indexes in the order it sorts,
merged across the reader's lines in the same statement); those cases with what a list row
shows (and their handlers); the count, which stops at :data:`COUNT_CAP` ("1,000+"); and, for a
filter that may keep few cases (:class:`Narrow`), one count to choose the plan. The next page
starts after the last row of this one (``after``, an opaque cursor), so a case registered
between two pages is neither skipped nor shown twice, and page 25,000 costs what page 1 does.

Sorts: ``received`` (newest first) and ``deadline`` (the soonest running deadline first, then
the cases with none, oldest first); "overdue" is a running deadline that has passed. Both read
:attr:`Case.next_due_at`, which the service layer keeps on the case row. Search ``q`` is a
prefix of the case number, the batch number or the customer's name: what users type when they
look a case up, and each a range of an index.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, lazyload, selectinload

from core import limits
from core.db import utcnow
from core.extensions import db
from core.models import BusinessLine, Case, Customer, KesuUser
from core.services.access import SAME_LINE, require, visible_line_ids
from core.services.errors import Invalid
from core.services.sla_deadlines import overdue_clause

LIST_FILTERS = (
    "business_line",
    "category",
    "status",
    "priority",
    "is_major",
    "overdue",
    "q",
    "sort",
    "archived",
)
SORTS = ("received", "deadline")
COUNT_CAP = 1000  # KESU_LIST_COUNT_CAP
TRUE, FALSE = (True, "true", "1"), (False, "false", "0")


@dataclass(frozen=True)
class Page:
    items: list[Case]
    next: str | None  # the cursor of the page after this one; None on the last page
    count: int  # how many cases match, at most COUNT_CAP
    capped: bool  # more than COUNT_CAP match


def configured_cap() -> int:
    """Where the list's count stops ("1,000+")."""
    return int(current_app.config.get("KESU_LIST_COUNT_CAP", COUNT_CAP))


@dataclass(frozen=True)
class Narrow:
    """A condition that may keep few cases, three ways: the ids it keeps, read through its
    own index (``ids``); the same test on a row met while walking the sorting index
    (``rows``); and, if it differs, the test for counting many (``counted``: a range of its
    own index, where ``rows`` is kept off it)."""

    ids: sa.Select | sa.CompoundSelect
    rows: Any
    counted: Any = None


# -- cursors -------------------------------------------------------------------------------


def _encode(sort: str, key: dt.datetime | None, pk: int) -> str:
    raw = json.dumps([sort, key.isoformat() if key else None, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[dt.datetime | None, int]:
    """The sort key and id a cursor points after; 400 naming ``after`` if it is not one of
    this sort's cursors."""
    bad = Invalid(str(_l("Not a position in this list.")), field="after")
    if len(cursor) > 200:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, key, pk = json.loads(raw)
        when = dt.datetime.fromisoformat(key) if key is not None else None
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if kind != sort or not isinstance(pk, int) or not 0 < pk < 2**63:
        raise bad
    if when is not None and when.tzinfo is None:
        raise bad
    if when is None and sort == "received":
        raise bad
    return when, pk


# -- filters -------------------------------------------------------------------------------


class no_index(sa.sql.functions.GenericFunction):  # noqa: N801 (reads as SQL)
    """The column, barred from choosing the index on SQLite (``+column``): where the rows a
    condition keeps are few, the plan must start from them, not from the index that sorts."""

    inherit_cache = True
    name = "no_index"


@compiles(no_index)
def _plain(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(no_index, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


def _bare(column: Any) -> Any:
    return no_index(column, type_=column.type)


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(column: Any, text: str) -> Any:
    """``column`` starts with ``text``, as a range of the column's index: GLOB on SQLite
    (case-sensitive, the plain index), LIKE on PostgreSQL (a varchar_pattern_ops index)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return column.op("GLOB")(_escape_glob(text) + "*")
    return column.like(_escape_like(text) + "%", escape="\\")


def _matches(term: str, lines: list[int]) -> sa.Select:
    """The ids of the cases whose number (in capitals, as numbers are written), batch (as
    typed or in capitals) or customer's name starts with ``term``: each a range of an index."""
    upper = term.upper()
    batches = {term, upper}
    customers = sa.select(Customer.id).where(
        Customer.business_line_id.in_(lines), _prefix(Customer.name, term)
    )
    mine = Case.business_line_id.in_(lines)
    return sa.union_all(
        sa.select(Case.id).where(mine, _prefix(Case.number, upper)),
        *(sa.select(Case.id).where(mine, _prefix(Case.batch_no, b)) for b in sorted(batches)),
        sa.select(Case.id).where(Case.customer_id.in_(customers)),
    )


def _search(term: str, lines: list[int]) -> Any:
    """Row by row, what :func:`_matches` looks up: for a term that many cases match."""
    upper = term.upper()
    customers = sa.select(Customer.id).where(
        Customer.business_line_id.in_(lines), _prefix(Customer.name, term)
    )
    return sa.or_(
        _prefix(Case.number, upper),
        *(_prefix(Case.batch_no, b) for b in sorted({term, upper})),
        Case.customer_id.in_(customers),
    )


def _lines(actor: KesuUser, code: str | None) -> list[int]:
    """The lines to list: the reader's (every line for an admin), or the one asked for."""
    ids = visible_line_ids(actor)
    if not code:
        return ids
    wanted = db.session.scalar(sa.select(BusinessLine.id).where(BusinessLine.code == code))
    return [i for i in ids if i == wanted]


def _clauses(f: Mapping[str, Any], now: dt.datetime) -> list[Any]:
    out: list[Any] = []
    for key in ("category", "status", "priority"):
        if f.get(key):
            out.append(getattr(Case, key) == f[key])
    if f.get("is_major") in TRUE:
        out.append(Case.is_major.is_(True))
    elif f.get("is_major") in FALSE:
        out.append(Case.is_major.is_(False))
    if f.get("overdue") in FALSE:
        out.append(sa.or_(Case.next_due_at.is_(None), Case.next_due_at >= now))
    # Archived cases (core.services.archive) are out of the working list unless asked for.
    if f.get("archived") in TRUE:
        out.append(Case.archived_at.is_not(None))
    else:
        out.append(Case.archived_at.is_(None))
    return out


# -- pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """One stretch of the order: its conditions, and the keys it is sorted by ((column,
    descending) pairs ending with the id, the same columns in every run); ``rank`` orders
    the stretches one after the other."""

    where: list[Any]
    keys: list[tuple[Any, bool]]
    rank: int = 0


def _ids(lines: list[int], runs: list[_Run], limit: int, line_col: Any) -> list[int]:
    """The ids of the first ``limit`` matching cases: per line and run a range of its index,
    cut to ``limit``, merged into one order (rank, keys) in one statement."""

    def ordered(cols: list[Any], keys: list[tuple[Any, bool]]) -> list[Any]:
        return [c.desc() if d else c.asc() for c, (_, d) in zip(cols, keys, strict=True)]

    def part(line: int, run: _Run) -> sa.Select:
        cols = [col for col, _ in run.keys]
        labels = [sa.literal_column(str(int(run.rank))).label("k0")]
        labels += [c.label(f"k{n + 1}") for n, c in enumerate(cols)]
        stmt = sa.select(*labels).where(line_col == line, *run.where)
        return stmt.order_by(*ordered(cols, run.keys)).limit(limit)

    parts = [part(line, run) for run in runs for line in lines]
    if len(parts) == 1:
        return [row[-1] for row in db.session.execute(parts[0])]
    union = sa.union_all(*(p.subquery().select() for p in parts)).subquery()
    keys = runs[0].keys
    cols = [union.c[f"k{n + 1}"] for n in range(len(keys))]
    stmt = sa.select(union.c.k0, *cols).order_by(union.c.k0, *ordered(cols, keys)).limit(limit)
    return [row[-1] for row in db.session.execute(stmt)]


def list_cases(
    actor: KesuUser,
    filters: Mapping[str, Any] | None = None,
    *,
    after: str | None = None,
    page_size: int = 20,
    where: Iterable[Any] = (),
    narrow: Iterable[Narrow] = (),
    counted: bool = True,
    cap: int | None = None,
) -> Page:
    """A page of the cases the actor may see; ``where`` and ``narrow`` add the case list's own
    filters (core.services.case_lists); the count stops at ``cap`` (by default
    :func:`configured_cap`), and is not taken unless ``counted``."""
    require(actor, "can_read")
    f = dict(filters or {})
    for key, value in f.items():
        if isinstance(value, str) and len(value) > limits.SEARCH:
            raise Invalid(str(_l("Must be at most %(n)s characters.", n=limits.SEARCH)), field=key)
    sort = f.get("sort") or "received"
    if sort not in SORTS:
        raise Invalid(str(_l("Must be one of: %(values)s.", values=", ".join(SORTS))), field="sort")
    cursor = _decode(after, sort) if after else None
    few = configured_cap()  # up to this many, a narrowing filter drives the plan
    cap = cap or few
    lines = _lines(actor, f.get("business_line"))
    if not lines:
        return Page([], None, 0, False)
    now = utcnow()
    common = [*_clauses(f, now), *where]
    line_col = Case.business_line_id
    # Conditions that may keep few rows: the search, "overdue" newest first, and the caller's
    # (a handler's cases). The first that keeps few (up to the count's cap) drives the plan:
    # its rows are looked up by their own index and sorted. If every one keeps many, the plan
    # walks the sorting index and keeps the matching rows, soon found.
    term = (f.get("q") or "").strip()
    overdue = f.get("overdue") in TRUE
    drivers = list(narrow)
    if term:
        drivers.insert(0, Narrow(_matches(term, lines), _search(term, lines)))
    if overdue and sort == "received":
        ids = sa.select(Case.id).where(
            Case.business_line_id.in_(lines), Case.archived_at.is_(None), overdue_clause(now)
        )
        drivers.append(Narrow(ids, _bare(Case.next_due_at) < now, overdue_clause(now)))
    elif overdue:
        common.append(overdue_clause(now))  # a range of the deadline order itself
    driver = next((d for d in drivers if not _count_of(d.ids, few)[1]), None)
    counted = list(common)  # the count's conditions: the page's, each through its own index
    for d in drivers:
        if d is driver:
            line_col = _bare(Case.business_line_id)
            common.append(Case.id.in_(d.ids))
            counted.append(Case.id.in_(d.ids))
        else:
            common.append(d.rows)
            counted.append(d.rows if d.counted is None else d.counted)

    want = page_size + 1  # one more tells whether there is a next page
    if sort == "received":
        extra = []
        if cursor:
            when, pk = cursor
            extra = [Case.received_at <= when, sa.or_(Case.received_at < when, Case.id < pk)]
        runs = [_Run([*common, *extra], [(Case.received_at, True), (Case.id, True)])]
    else:  # the cases with a running deadline, soonest first; then those with none, oldest first
        runs = []
        when, pk = cursor if cursor else (None, 0)
        if not cursor or when is not None:
            extra = [Case.next_due_at.is_not(None)]
            if cursor:
                extra += [Case.next_due_at >= when, sa.or_(Case.next_due_at > when, Case.id > pk)]
            runs.append(_Run([*common, *extra], [(Case.next_due_at, False), (Case.id, False)]))
        if not overdue:  # an overdue case has a deadline
            extra = [Case.next_due_at.is_(None)]
            if cursor and when is None:  # the cursor is in this run
                extra.append(Case.id > pk)
            keys = [(Case.next_due_at, False), (Case.id, False)]  # NULL here: by id
            runs.append(_Run([*common, *extra], keys, rank=1))
    ids = _ids(lines, runs, want, line_col)
    items = _load(ids[:page_size])
    nxt = None
    if len(ids) > page_size:
        last = items[-1]
        key = last.received_at if sort == "received" else last.next_due_at
        nxt = _encode(sort, key, last.id)
    count, capped = (0, False)
    if counted:
        hits = sa.select(Case.id).where(line_col.in_(lines), *counted)
        count, capped = _count_of(hits, cap)
    return Page(items, nxt, count, capped)


def _load(ids: list[int]) -> list[Case]:
    """The cases of ``ids`` in that order, with what a list row shows, in one statement
    (and one for their handlers)."""
    if not ids:
        return []
    quiet = lazyload(BusinessLine.plugins)  # a list row shows the line's name, not its setup
    stmt = (
        sa.select(Case)
        .where(Case.id.in_(ids))
        .options(
            joinedload(Case.business_line).options(quiet),
            *SAME_LINE,
            selectinload(Case.handler).options(
                lazyload(KesuUser.business_lines), lazyload(KesuUser.roles)
            ),
            *(
                lazyload(rel)
                for rel in (
                    Case.evidence,
                    Case.compensation,
                    Case.approvals,
                    Case.deadline_rows,
                    Case.visits,
                )
            ),
        )
    )
    by_id = {c.id: c for c in db.session.scalars(stmt).unique()}
    return [by_id[i] for i in ids if i in by_id]


def _count_of(stmt: sa.Select | sa.CompoundSelect, cap: int) -> tuple[int, bool]:
    """How many rows ``stmt`` gives, counted up to ``cap`` (and whether there are more)."""
    hits = stmt.limit(cap + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(hits)) or 0
    return min(n, cap), n > cap
