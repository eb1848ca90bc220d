"""The ledger (台帐, DOMAIN.md section 9): every case of the reader's lines with its key fields
and its outcome, filterable, paged on screen and in the API, exported whole to Excel
(core.services.ledger_export).

A page is read in two statements whatever its size (the count, then the rows), an export in
one streamed SELECT: each row joins the case's line, customer, product, department, handler,
root cause and its four SLA target deadlines (met / missed / pending computed in SQL as
core.services.sla_reports decides them), with the compensation totals by kind, the latest
approval and the latest return-visit score as correlated subqueries. Archived cases stay in
the ledger.

Filters (query-string parameters; a bad value is a 400 naming it):
``business_line`` (a line code the reader sees), ``from`` / ``to`` (``YYYY-MM-DD``, received on
those days in each case's line-local time), ``category``, ``status``, ``product`` (a product
code), ``batch`` (a batch number), ``customer`` (part of the customer's name), ``department``
(a department code).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from core import limits
from core.db import UTCDateTime, utcnow
from core.deadlines import TARGETS
from core.extensions import db
from core.models import (
    BusinessLine,
    Case,
    CaseDeadline,
    CaseVisit,
    CompensationLine,
    Customer,
    Department,
    KesuUser,
    Product,
    RootCause,
)
from core.roles import LEDGER
from core.services.access import can_view_contact, line_filter, require
from core.services.errors import Invalid
from core.services.lines import registry
from core.services.present import mask_phone
from core.services.sla_reports import period_bounds
from core.vocab import CHANNELS, COMPENSATION_KINDS, DEMANDS, PRIORITIES
from core.workflow import FINAL, STAGE_LABELS, STAGES

CAN_READ_LEDGER = "can_read"
FILTERS = (
    "business_line",
    "from",
    "to",
    "category",
    "status",
    "product",
    "batch",
    "customer",
    "department",
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR_MIN, YEAR_MAX = 2000, 2100
PAGE_SIZE, PAGE_SIZE_MAX = 50, 500
KINDS = tuple(COMPENSATION_KINDS)
SLA_STATES = ("met", "missed", "pending")
SLA_LABELS = {"met": _l("Met on time"), "missed": _l("Missed"), "pending": _l("Not due yet")}
OUTCOMES = {
    "effective": _l("Closed, verified effective"),
    "not_effective": _l("Closed, not effective"),
    "closed": _l("Closed"),
    "rejected": _l("Not accepted"),
    "open": _l("In progress"),
}


def require_ledger(actor) -> None:
    require(actor, CAN_READ_LEDGER, LEDGER)


def ledger_lines(actor) -> list[BusinessLine]:
    """The lines whose cases the actor reads in the ledger: theirs, switched off ones included
    (their cases stay on record)."""
    stmt = sa.select(BusinessLine).where(line_filter(actor, BusinessLine.id))
    return list(db.session.scalars(stmt.order_by(BusinessLine.code)))


# -- filters ---------------------------------------------------------------------------------


def _text(key: str, value: Any, size: int) -> str:
    if not isinstance(value, str) or len(value) > size:
        raise Invalid(str(_l("Must be at most %(n)s characters.", n=size)), field=key)
    return value.strip()


def _choice(key: str, value: str, allowed) -> None:
    if value not in allowed:
        raise Invalid(str(_l("Not one of the choices.")), field=key)


def _day(key: str, value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if DATE.match(value) else None
    except ValueError:
        day = None
    if day is None or not YEAR_MIN <= day.year <= YEAR_MAX:
        raise Invalid(str(_l("Must be a date such as 2026-11-01.")), field=key)
    return day


def clean_filters(actor, args: Mapping[str, Any]) -> dict[str, str]:
    """The ledger's filters from ``args`` (a query string's values), each checked: the ones
    set, as text. 400 naming the parameter on a bad value; a line the reader does not see is
    an unknown line."""
    require_ledger(actor)
    out: dict[str, str] = {}
    for key in FILTERS:
        value = args.get(key)
        if value is None or value == "":
            continue
        value = _text(key, value, limits.SEARCH)
        if value:
            out[key] = value
    lines = ledger_lines(actor)
    if "business_line" in out and out["business_line"] not in {ln.code for ln in lines}:
        raise Invalid(_l("Unknown business line."), field="business_line")
    if "category" in out:
        _choice("category", out["category"], {d.key for d in registry().categories()})
    if "status" in out:
        _choice("status", out["status"], STAGES)
    days = {k: _day(k, out[k]) for k in ("from", "to") if k in out}
    if len(days) == 2 and days["to"] < days["from"]:
        raise Invalid(_l("The period must end on or after its first day."), field="to")
    if "product" in out:
        known = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Product)
            .where(Product.code == out["product"], line_filter(actor, Product.business_line_id))
        )
        if not known:
            raise Invalid(str(_l("Unknown product.")), field="product")
    if "department" in out:
        known = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Department)
            .where(Department.code == out["department"])
        )
        if not known:
            raise Invalid(str(_l("Unknown department.")), field="department")
    return out


def _period_clause(actor, filters: Mapping[str, str]) -> Any:
    """Received within the period, each case in its own line's local days."""
    first = dt.date.fromisoformat(filters["from"]) if filters.get("from") else None
    last = dt.date.fromisoformat(filters["to"]) if filters.get("to") else None
    if first is None and last is None:
        return None
    lines = [
        ln
        for ln in ledger_lines(actor)
        if not filters.get("business_line") or ln.code == filters["business_line"]
    ]
    per_line = []
    for line in lines:
        start, end = period_bounds(
            line, first or dt.date(YEAR_MIN, 1, 1), last or dt.date(YEAR_MAX, 12, 31)
        )
        cond = [Case.business_line_id == line.id]
        if first is not None:
            cond.append(Case.received_at >= start)
        if last is not None:
            cond.append(Case.received_at < end)
        per_line.append(sa.and_(*cond))
    return sa.or_(*per_line) if per_line else sa.false()


def where_clauses(actor, filters: Mapping[str, str]) -> list[Any]:
    """The WHERE clauses of the record rules and the (checked) filters."""
    out: list[Any] = [line_filter(actor, Case.business_line_id)]
    if filters.get("business_line"):
        out.append(
            Case.business_line_id.in_(
                sa.select(BusinessLine.id).where(BusinessLine.code == filters["business_line"])
            )
        )
    period = _period_clause(actor, filters)
    if period is not None:
        out.append(period)
    if filters.get("category"):
        out.append(Case.category == filters["category"])
    if filters.get("status"):
        out.append(Case.status == filters["status"])
    if filters.get("product"):
        out.append(
            Case.product_id.in_(sa.select(Product.id).where(Product.code == filters["product"]))
        )
    if filters.get("batch"):
        out.append(Case.batch_no == filters["batch"])
    if filters.get("customer"):
        needle = filters["customer"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(
            Case.customer_id.in_(
                sa.select(Customer.id).where(Customer.name.ilike(f"%{needle}%", escape="\\"))
            )
        )
    if filters.get("department"):
        out.append(
            Case.department_id.in_(
                sa.select(Department.id).where(Department.code == filters["department"])
            )
        )
    return out


# -- reading ---------------------------------------------------------------------------------

Handler = aliased(KesuUser, name="ledger_handler")
Parent = aliased(RootCause, name="ledger_root_parent")
ORDER = (Case.received_at.desc(), Case.id.desc())
BASE = 30  # the columns of _select before the compensation totals and the SLA states


def _sla_state(d, now: dt.datetime) -> Any:
    """met / missed / pending of deadline row ``d`` (an alias of CaseDeadline), as
    core.services.sla_reports decides them; null without the row."""
    now_ = sa.literal(now, UTCDateTime)  # typed: compared as UTC on every engine
    read_at = sa.case((d.state == "paused", sa.func.coalesce(Case.held_at, now_)), else_=now_)
    is_open = d.state.in_(("running", "paused"))
    return sa.case(
        (sa.and_(d.state == "met", d.met_at <= d.due_at), "met"),
        (sa.and_(d.state == "met", d.met_at > d.due_at), "missed"),
        (sa.and_(is_open, d.due_at < read_at), "missed"),
        (is_open, "pending"),
        else_=None,
    )


def _select(actor, filters: Mapping[str, str], now: dt.datetime, where=None) -> sa.Select:
    """One statement for the rows: the case, its line, customer, product, department,
    handler and root cause joined; each SLA target's state from its deadline row (joined on
    the unique case and name); compensation totals per kind, the latest approval and the latest
    visit's score as correlated subqueries (each an index search per case)."""
    c, v = CompensationLine, CaseVisit
    deadlines = [(name, aliased(CaseDeadline, name=f"ledger_sla_{name}")) for name in TARGETS]
    fen = sa.type_coerce(c.amount, sa.BigInteger)  # amounts as integer fen, as stored
    money = [
        sa.select(sa.func.sum(fen))
        .where(c.case_id == Case.id, c.kind == kind, c.exec_status != "cancelled")
        .scalar_subquery()
        for kind in KINDS
    ]
    approved = sa.select(sa.func.max(c.approved_at)).where(c.case_id == Case.id).scalar_subquery()
    score = (
        sa.select(v.satisfaction)
        .where(v.case_id == Case.id)
        .order_by(v.visited_at.desc(), v.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            Case.id,
            Case.number,
            Case.received_at,
            BusinessLine.code,
            BusinessLine.name,
            BusinessLine.timezone,
            Case.category,
            Case.channel,
            Customer.name,
            Customer.phone,
            Product.name,
            Case.batch_no,
            Case.description,
            Case.demand,
            sa.type_coerce(Case.claim_amount, sa.BigInteger),
            Case.priority,
            Case.is_major,
            Case.status,
            Case.archived_at,
            Department.name,
            Handler.last_name,
            Handler.first_name,
            Handler.username,
            Parent.name,
            RootCause.name,
            Case.root_cause,
            Case.verified_effective,
            # parsed only for a closed or rejected case (when it closed)
            sa.case((Case.status.in_(sorted(FINAL)), Case.stage_times), else_=sa.null()),
            approved,
            score,
            *money,
            *(_sla_state(d, now) for _, d in deadlines),
        )
        .join(BusinessLine, BusinessLine.id == Case.business_line_id)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Product, Product.id == Case.product_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .outerjoin(Handler, Handler.id == Case.handler_id)
        .outerjoin(RootCause, RootCause.id == Case.root_cause_id)
        .outerjoin(Parent, Parent.id == RootCause.parent_id)
    )
    for name, d in deadlines:
        stmt = stmt.outerjoin(d, sa.and_(d.case_id == Case.id, d.name == name))
    return stmt.where(*(where if where is not None else where_clauses(actor, filters)))


def count(actor, filters: Mapping[str, str]) -> int:
    stmt = sa.select(sa.func.count()).select_from(Case).where(*where_clauses(actor, filters))
    return int(db.session.scalar(stmt) or 0)


@dataclass(frozen=True)
class Labels:
    """The reader's labels (translated once per page or export) and rights."""

    categories: dict[str, str]
    channels: dict[str, str]
    demands: dict[str, str]
    priorities: dict[str, str]
    stages: dict[str, str]
    outcomes: dict[str, str]
    contact: bool

    @classmethod
    def of(cls, actor) -> Labels:
        locale = str(get_locale() or "zh_CN")

        def text(vocab) -> dict[str, str]:
            return {key: str(label) for key, label in vocab.items()}

        return cls(
            categories={d.key: d.name(locale) for d in registry().categories()},
            channels=text(CHANNELS),
            demands=text(DEMANDS),
            priorities=text(PRIORITIES),
            stages=text(STAGE_LABELS),
            outcomes=text(OUTCOMES),
            contact=can_view_contact(actor),
        )


def _local(value: dt.datetime | None, tz) -> dt.datetime | None:
    return None if value is None else value.astimezone(tz)


def _outcome(status: str, effective: bool | None) -> str:
    if status == "closed":
        return {True: "effective", False: "not_effective"}.get(effective, "closed")
    return "rejected" if status == "rejected" else "open"


def _closed_at(status: str, stage_times: dict | None) -> dt.datetime | None:
    if status not in FINAL or not stage_times or not stage_times.get(status):
        return None
    try:
        return dt.datetime.fromisoformat(stage_times[status])
    except (TypeError, ValueError):
        return None


_ZONES: dict[str, Any] = {}


def _zone(name: str):
    if name not in _ZONES:
        from core.timeutil import zone

        _ZONES[name] = zone(name)
    return _ZONES[name]


def record(row, labels: Labels) -> dict[str, Any]:
    """One ledger row as Python values: local aware date-times, amounts in integer fen."""
    (
        case_id, number, received, line_code, line_name, tz_name, category, channel,
        customer, phone, product, batch, description, demand, claim, priority, major, status,
        archived, department, h_last, h_first, h_user, rc_parent, rc_name, rc_text,
        effective, stage_times, approved, score,
    ) = row[:BASE]  # fmt: skip
    tz = _zone(tz_name)
    handler = (f"{h_last or ''}{h_first or ''}".strip() or h_user) if h_user else None
    if rc_name is None:
        root = None
    else:
        root = f"{rc_parent} / {rc_name}" if rc_parent else rc_name
    closed = _closed_at(status, stage_times)
    money = row[BASE : BASE + len(KINDS)]
    states = row[BASE + len(KINDS) :]
    outcome = _outcome(status, effective)
    return {
        "id": case_id,
        "number": number,
        "received_at": _local(received, tz),
        "business_line": line_code,
        "business_line_name": line_name,
        "category": category,
        "category_label": labels.categories.get(category, category),
        "channel": channel,
        "channel_label": labels.channels.get(channel, channel),
        "customer": customer,
        "phone": phone if labels.contact else mask_phone(phone),
        "product": product,
        "batch_no": batch,
        "description": description,
        "demand": demand,
        "demand_label": labels.demands.get(demand, demand),
        "claim_fen": claim,
        "priority": priority,
        "priority_label": labels.priorities.get(priority, priority),
        "is_major": bool(major),
        "status": status,
        "status_label": labels.stages.get(status, status),
        "archived_on": _local(archived, tz).date() if archived else None,
        "department": department,
        "handler": handler,
        "root_cause": root,
        "root_cause_text": rc_text,
        "outcome": outcome,
        "outcome_label": labels.outcomes[outcome],
        "compensation_fen": {k: m for k, m in zip(KINDS, money, strict=True) if m is not None},
        "approved_on": _local(approved, tz).date() if approved else None,
        "closed_on": _local(closed, tz).date() if closed else None,
        "sla": dict(zip(TARGETS, states, strict=True)),
        "satisfaction": score,
    }


def page(
    actor, filters: Mapping[str, str], *, number: int = 1, size: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], int]:
    """One page of the ledger (newest received first) and the number of matching cases: two
    statements (the page's ids are chosen first, so the per-case subqueries run for them only)."""
    require_ledger(actor)
    total = count(actor, filters)
    ids = (
        sa.select(Case.id)
        .where(*where_clauses(actor, filters))
        .order_by(*ORDER)
        .limit(size)
        .offset((number - 1) * size)
    )
    stmt = _select(actor, filters, utcnow(), where=[Case.id.in_(ids)]).order_by(*ORDER)
    labels = Labels.of(actor)
    return [record(r, labels) for r in db.session.connection().execute(stmt)], total


def chunks(
    actor, filters: Mapping[str, str], *, size: int = 1000, now: dt.datetime | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every ledger row, ``size`` at a time, from one streamed SELECT (``stream_results``): the
    memory held is a chunk's, whatever the number of cases."""
    require_ledger(actor)
    labels = Labels.of(actor)
    stmt = (
        _select(actor, filters, now or utcnow()).order_by(*ORDER).execution_options(yield_per=size)
    )
    result = db.session.execute(stmt)
    try:
        for part in result.partitions(size):
            yield [record(r, labels) for r in part]
    finally:
        result.close()


def parse_page(args: Mapping[str, Any]) -> tuple[int, int]:
    """``page`` and ``page_size`` of a query string (400 naming the parameter)."""
    out = []
    for key, default, top in (("page", 1, 1_000_000), ("page_size", PAGE_SIZE, PAGE_SIZE_MAX)):
        raw = args.get(key)
        if raw is None or raw == "":
            out.append(default)
            continue
        try:
            value = int(str(raw))
        except ValueError:
            value = 0
        if not 1 <= value <= top or not str(raw).strip().isdigit():
            raise Invalid(str(_l("Must be a whole number from 1 to %(max)s.", max=top)), field=key)
        out.append(value)
    return out[0], out[1]
