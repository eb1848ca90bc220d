"""The monthly report's charts, drawn on the server as inline SVG (no script, no internet).

This module only computes geometry: the template (kesu/report_monthly.html, macro
``bar_chart``) writes the ``<svg>`` elements, so every label is escaped like any other text.
A chart is horizontal bars, one group per row (this month, the previous month, ...), with an
optional marker per row (an SLA target).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LABEL_WIDTH = 210
BAR_AREA = 330
VALUE_WIDTH = 90
BAR_HEIGHT = 12
GROUP_GAP = 10
TOP = 28  # room for the legend
COLOURS = ("#2f6fb0", "#9cb8d6", "#c0504d")


@dataclass
class Bar:
    x: int
    y: int
    width: int
    colour: str
    text: str


@dataclass
class Row:
    label: str
    y: int
    bars: list[Bar]
    marker_x: int | None = None


@dataclass
class Chart:
    id: str
    title: str
    series: list[tuple[str, str]]  # (name, colour)
    rows: list[Row] = field(default_factory=list)
    width: int = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height: int = TOP
    bar_height: int = BAR_HEIGHT
    label_width: int = LABEL_WIDTH


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bars(
    chart_id: str,
    title: str,
    series: Sequence[str],
    rows: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Callable[[Any], str] = str,
    scale: float | None = None,
    markers: Sequence[float | None] | None = None,
) -> Chart:
    """A chart of ``rows`` (label, one value per series); ``scale`` is the value at full width
    (the largest value by default); ``markers`` a value per row drawn as a line."""
    values = [v for _, vs in rows for v in vs if v is not None]
    top = scale or max(values + [m for m in (markers or ()) if m is not None] + [0]) or 1
    chart = Chart(chart_id, title, [(name, COLOURS[i % 3]) for i, name in enumerate(series)])
    y = TOP
    for index, (label, vs) in enumerate(rows):
        row = Row(_short(label), y, [])
        for i, value in enumerate(vs):
            width = 0 if value is None else max(int(BAR_AREA * value / top), 1 if value else 0)
            row.bars.append(
                Bar(
                    LABEL_WIDTH,
                    y + i * BAR_HEIGHT,
                    width,
                    COLOURS[i % 3],
                    "—" if value is None else fmt(value),
                )
            )
        marker = markers[index] if markers else None
        if marker is not None:
            row.marker_x = LABEL_WIDTH + int(BAR_AREA * marker / top)
        chart.rows.append(row)
        y += len(vs) * BAR_HEIGHT + GROUP_GAP
    chart.height = y + 4
    return chart


def count(value: Any) -> str:
    return f"{int(value):,}"


def money(value: Any) -> str:
    return f"{value:,.2f}"


def percent(value: Any) -> str:
    return f"{value * 100:.1f} %"
