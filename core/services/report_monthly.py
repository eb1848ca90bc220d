"""The monthly report (月度报告) of a business line (DOMAIN.md section 9, issue 11 item 4).

A case belongs to the month of its ``received_at`` in the line's time zone. For one line and
month the report gives: the cases counted by category, channel, product, batch, root cause,
responsible department and priority; cases opened (received) in the month, closed within it
(whenever received) and still open at its end; SLA attainment against section 6's targets with
the cases that missed; compensation totals by kind (cancelled lines left out); satisfaction from
the return visits of the month's cases; top products and batches by count and by cost; the same
figures for the previous month and the change.

Everything is computed by SQL aggregates (``GROUP BY``) in a fixed number of queries, whatever
the number of cases. Archived cases count like any other.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from core.contracts import CHARGE_KINDS
from core.deadlines import TARGETS
from core.extensions import db
from core.models import (
    BusinessLine,
    Case,
    CaseVisit,
    CompensationLine,
    Department,
    Product,
    RootCause,
)
from core.roles import CAN_READ, REPORT
from core.services.access import line_ids, require
from core.services.errors import Invalid, NotFound
from core.services.sla_reports import attainment_between, period_bounds
from core.vocab import COMPENSATION_KINDS

DIMENSIONS = ("category", "channel", "product", "batch", "root_cause", "department", "priority")
SCORES = (1, 2, 3, 4, 5)
TOP = 10  # rows of each top list
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")


# -- input -------------------------------------------------------------------------------


def parse_month(raw: Any) -> tuple[int, int]:
    """``"2026-11"`` -> ``(2026, 11)``; anything else is a 400 naming ``month``."""
    match = _MONTH.match(raw if isinstance(raw, str) else "")
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    raise Invalid(_l("Must be a month such as 2026-11."), field="month")


def report_line(actor, code: Any) -> BusinessLine:
    """The line ``code`` if the actor may see it: a missing code is a 400, an unknown line or
    one the actor does not belong to a 404, both naming ``business_line``."""
    require(actor, CAN_READ, REPORT)
    if not isinstance(code, str) or not code.strip():
        raise Invalid(_l("Choose a business line."), field="business_line")
    line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == code.strip()))
    ids = line_ids(actor)
    if line is None or (ids is not None and line.id not in ids):
        raise NotFound(_l("Unknown business line."), field="business_line")
    return line


def month_days(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


# -- the figures --------------------------------------------------------------------------


def _money(value: Any) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def _counts(where: tuple) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Cases per value of each dimension ("" for none), and the products' names by code.

    One pass over the month's cases: a ``GROUP BY`` of every dimension at once, summed per
    dimension here (at most one row per case), then the names of the products, departments and
    root-cause entries it met."""
    columns = (
        Case.category,
        Case.channel,
        Case.priority,
        Case.batch_no,
        Case.product_id,
        Case.department_id,
        Case.root_cause_id,
    )
    rows = db.session.execute(
        sa.select(*columns, sa.func.count()).where(*where).group_by(*columns)
    ).all()
    raw: dict[str, dict[Any, int]] = {key: {} for key in DIMENSIONS}
    keys = ("category", "channel", "priority", "batch", "product", "department", "root_cause")
    for row in rows:
        n = row[-1]
        for key, value in zip(keys, row[:-1], strict=True):
            raw[key][value] = raw[key].get(value, 0) + n
    products = {
        pid: (code, name)
        for pid, code, name in db.session.execute(
            sa.select(Product.id, Product.code, Product.name).where(
                Product.id.in_([k for k in raw["product"] if k is not None])
            )
        ).all()
    }
    departments = dict(
        db.session.execute(
            sa.select(Department.id, Department.name).where(
                Department.id.in_([k for k in raw["department"] if k is not None])
            )
        ).all()
    )
    entry, parent = aliased(RootCause), aliased(RootCause)
    causes = {
        rid: (f"{top} / {child}" if top else child)
        for rid, child, top in db.session.execute(
            sa.select(entry.id, entry.name, parent.name)
            .outerjoin(parent, parent.id == entry.parent_id)
            .where(entry.id.in_([k for k in raw["root_cause"] if k is not None]))
        ).all()
    }
    names = {code: name for code, name in products.values()}
    label = {
        "product": lambda k: products[k][0] if k in products else "",
        "department": lambda k: departments.get(k, ""),
        "root_cause": lambda k: causes.get(k, ""),
    }
    counts: dict[str, dict[str, int]] = {}
    for key in DIMENSIONS:
        named = label.get(key, lambda k: k or "")
        out: dict[str, int] = {}
        for value, n in raw[key].items():
            text = named(value) if value is not None else ""
            out[text] = out.get(text, 0) + n
        counts[key] = _sorted(out)
    return counts, names


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _flows(
    line: BusinessLine, months: list[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[int, int]]:
    """Per month (UTC bounds), (closed within it, open at its end), in one pass over the
    line's cases received before the last month's end. The closing time is the latest one
    (``stage_times["closed"]``, ISO 8601 UTC text, so that text order is time order); a case
    not accepted is done when it was rejected. This pass grows with the line's history (see
    bench/README.md); everything else reads the month's cases only."""
    closed_at = Case.stage_times["closed"].as_string()
    rejected_at = Case.stage_times["rejected"].as_string()
    sums = []
    for start, end in months:
        lo, hi = start.isoformat(), end.isoformat()
        in_month = sa.and_(closed_at >= lo, closed_at < hi)
        done = sa.or_(closed_at < hi, rejected_at < hi)
        sums.append(sa.func.sum(sa.case((in_month, 1), else_=0)))
        sums.append(sa.func.sum(sa.case((Case.received_at >= end, 0), (done, 0), else_=1)))
    row = db.session.execute(
        sa.select(*sums).where(
            Case.business_line_id == line.id, Case.received_at < max(e for _, e in months)
        )
    ).one()
    return [(int(row[i] or 0), int(row[i + 1] or 0)) for i in range(0, len(row), 2)]


def _compensation(where: tuple) -> dict[str, float]:
    totals = dict.fromkeys(COMPENSATION_KINDS, 0.0)
    for kind, amount in db.session.execute(
        sa.select(CompensationLine.kind, sa.func.sum(CompensationLine.amount))
        .join(Case, Case.id == CompensationLine.case_id)
        .where(*where, CompensationLine.exec_status != "cancelled")
        .group_by(CompensationLine.kind)
    ).all():
        totals[kind] = _money(amount)
    return totals


def _costs(where: tuple) -> tuple[dict[str, float], dict[str, float]]:
    """What the month's cases gave their customers (charges and cancelled lines left out),
    per product code and per batch."""
    per_product: dict[str, float] = {}
    per_batch: dict[str, float] = {}
    for code, batch, amount in db.session.execute(
        sa.select(Product.code, Case.batch_no, sa.func.sum(CompensationLine.amount))
        .select_from(CompensationLine)
        .join(Case, Case.id == CompensationLine.case_id)
        .outerjoin(Product, Product.id == Case.product_id)
        .where(
            *where,
            CompensationLine.exec_status != "cancelled",
            CompensationLine.kind.not_in(sorted(CHARGE_KINDS)),
        )
        .group_by(Product.code, Case.batch_no)
    ).all():
        value = _money(amount)
        per_product[code or ""] = round(per_product.get(code or "", 0.0) + value, 2)
        per_batch[batch or ""] = round(per_batch.get(batch or "", 0.0) + value, 2)
    return per_product, per_batch


def _satisfaction(where: tuple) -> dict[str, Any]:
    """The scores of the return visits recorded on the month's cases."""
    distribution = {str(score): 0 for score in SCORES}
    for score, n in db.session.execute(
        sa.select(CaseVisit.satisfaction, sa.func.count())
        .join(Case, Case.id == CaseVisit.case_id)
        .where(*where)
        .group_by(CaseVisit.satisfaction)
    ).all():
        distribution[str(score)] = distribution.get(str(score), 0) + n
    count = sum(distribution.values())
    total = sum(int(score) * n for score, n in distribution.items())
    return {
        "average": round(total / count, 2) if count else None,
        "count": count,
        "distribution": distribution,
    }


def _top(counts: dict[str, int], costs: dict[str, float], names: dict[str, str] | None):
    def row(key: str) -> dict[str, Any]:
        out = {"key": key, "count": counts.get(key, 0), "cost": costs.get(key, 0.0)}
        if names is not None:
            out["name"] = names.get(key, "")
        return out

    named = [key for key in counts if key]
    by_cost = sorted((k for k in costs if k and costs[k] > 0), key=lambda k: (-costs[k], k))
    return [row(k) for k in named[:TOP]], [row(k) for k in by_cost[:TOP]]


def bounds(line: BusinessLine, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments bounding a month of the line's local days (end excluded)."""
    return period_bounds(line, *month_days(year, month))


def figures(
    line: BusinessLine,
    year: int,
    month: int,
    flow: tuple[int, int],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every figure of one month of a line, given its (closed, open at the end) from
    :func:`_flows` (no permission check: see :func:`monthly`)."""
    first, last = month_days(year, month)
    start, end = period_bounds(line, first, last)
    where = (
        Case.business_line_id == line.id,
        Case.received_at >= start,
        Case.received_at < end,
    )
    counts, names = _counts(where)
    total = sum(counts["category"].values())
    closed, open_at_end = flow
    targets = attainment_between(line, start, end, now)
    product_cost, batch_cost = _costs(where)
    top_products = _top(counts["product"], product_cost, names)
    top_batches = _top(counts["batch"], batch_cost, None)
    return {
        "month": f"{year:04d}-{month:02d}",
        "from": first.isoformat(),
        "to": last.isoformat(),
        "total": total,
        "counts": counts,
        "opened": total,
        "closed": closed,
        "open_at_end": open_at_end,
        "sla": {
            r.name: {
                "rate": None if r.rate is None else round(r.rate, 4),
                "met": r.on_time,
                "missed": r.missed,
                "pending": r.pending,
                "target": r.target,
                "attained": r.attained,
            }
            for r in targets
        },
        "missed_cases": {r.name: r.missed_cases for r in targets},
        "compensation": _compensation(where),
        "satisfaction": _satisfaction(where),
        "products": names,
        "top": {
            "product_by_count": top_products[0],
            "product_by_cost": top_products[1],
            "batch_by_count": top_batches[0],
            "batch_by_cost": top_batches[1],
        },
    }


def _delta(now: Any, before: Any) -> Any:
    if now is None or before is None:
        return None
    return round(now - before, 4)


def change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """This month minus the previous one (None where either has no figure)."""
    return {
        **{k: current[k] - previous[k] for k in ("total", "opened", "closed", "open_at_end")},
        "compensation": {
            kind: round(current["compensation"][kind] - previous["compensation"][kind], 2)
            for kind in current["compensation"]
        },
        "sla": {
            name: _delta(current["sla"][name]["rate"], previous["sla"][name]["rate"])
            for name in TARGETS
        },
        "satisfaction": _delta(
            current["satisfaction"]["average"], previous["satisfaction"]["average"]
        ),
    }


def monthly(actor, line_code: Any, month: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """The monthly report of line ``line_code`` for ``month`` ("YYYY-MM"), with the previous
    month (``previous``) and the change (``change``). Only a line the actor may see."""
    line = report_line(actor, line_code)
    year, number = parse_month(month)
    earlier = previous_month(year, number)
    flow_before, flow_now = _flows(line, [bounds(line, *earlier), bounds(line, year, number)])
    current = figures(line, year, number, flow_now, now)
    before = figures(line, *earlier, flow_before, now)
    return {
        "business_line": line.code,
        "business_line_name": line.name,
        "timezone": line.timezone,
        **current,
        "previous": before,
        "change": change(current, before),
    }
