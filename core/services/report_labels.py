"""What the monthly report's keys read as, in the reader's language (screen and workbook)."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.services.lines import registry
from core.vocab import CHANNELS, COMPENSATION_KINDS, DEADLINES, PRIORITIES

DIMENSION_TITLES = {
    "category": _l("By category"),
    "channel": _l("By channel"),
    "product": _l("By product"),
    "batch": _l("By batch"),
    "root_cause": _l("By root cause"),
    "department": _l("By responsible department"),
    "priority": _l("By priority"),
}
NONE_LABELS = {
    "root_cause": _l("Not classified"),
    "department": _l("Not assigned yet"),
}
FLOW = {
    "total": _l("Cases received"),
    "opened": _l("Opened in the month"),
    "closed": _l("Closed in the month"),
    "open_at_end": _l("Still open at the month's end"),
}
TOP_TITLES = {
    "product_by_count": _l("Top products by cases"),
    "product_by_cost": _l("Top products by cost"),
    "batch_by_count": _l("Top batches by cases"),
    "batch_by_cost": _l("Top batches by cost"),
}


def _category(key: str) -> str:
    descriptor = registry().descriptors.get(key)
    return descriptor.name(str(get_locale() or "zh_CN")) if descriptor else key


def value_label(dimension: str, key: str, report: dict[str, Any]) -> str:
    """The label of one counted value (``""``: none)."""
    if not key:
        return str(NONE_LABELS.get(dimension, _l("Not given")))
    if dimension == "category":
        return _category(key)
    if dimension == "channel":
        return str(CHANNELS.get(key, key))
    if dimension == "priority":
        return str(PRIORITIES.get(key, key))
    if dimension == "product":
        name = report.get("products", {}).get(key)
        return f"{key} {name}" if name else key
    return key


def target_label(name: str) -> str:
    return str(DEADLINES.get(name, name))


def kind_label(kind: str) -> str:
    return str(COMPENSATION_KINDS.get(kind, kind))


def merged_counts(report: dict[str, Any], dimension: str) -> list[tuple[str, int, int]]:
    """(key, this month, previous month) for every value either month counted, this month's
    most frequent first."""
    now = report["counts"][dimension]
    before = report["previous"]["counts"][dimension]
    keys = list(now) + [k for k in before if k not in now]
    return [(k, now.get(k, 0), before.get(k, 0)) for k in keys]
