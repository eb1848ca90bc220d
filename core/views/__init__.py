"""The core's screens (thin Flask-AppBuilder views over the service layer)."""

from __future__ import annotations


def register_core_views(appbuilder) -> None:
    """Register every core screen with its menu entry."""
