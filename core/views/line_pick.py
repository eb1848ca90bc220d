"""The business line a per-line screen shows: the one named, else the user's first."""

from __future__ import annotations

from flask import abort, g

from core.models import BusinessLine
from core.services.access import visible_lines


def chosen_line(code: str | None) -> tuple[list[BusinessLine], BusinessLine]:
    """The user's lines and the one ``code`` names (the first when none is named); 404 for a
    line the user may not see or that does not exist."""
    lines = visible_lines(g.user)
    line = next((entry for entry in lines if entry.code == code), None)
    if line is None and not code and lines:
        line = lines[0]
    if line is None:
        abort(404)
    return lines, line
