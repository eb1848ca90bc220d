"""Columns some roles see masked (a customer's phone and e-mail) in Flask-AppBuilder lists.

Sorting or filtering by a masked column would reveal what the mask hides (the order of the
hidden digits, or whether a guessed number exists), so for a role without the view-contact
permission those columns are neither offered for sorting nor sortable or filterable through
the URL (``_oc_``/``_od_``/``_flt_`` on the screens, ``order_column``/``filters`` in the API).
"""

from __future__ import annotations

from typing import Any

from flask import g

from core.services.access import can_view_contact


class MaskedColumnsMixin:
    """For Flask-AppBuilder model views and model APIs: ``masked_columns`` are sortable and
    searchable only by users who see them unmasked.

    ``order_columns`` becomes per request: Flask-AppBuilder reads it to draw the sort links
    and (in the API) to accept ``order_column``.
    """

    masked_columns: frozenset[str] = frozenset()

    def current_user(self):
        return getattr(g, "user", None)

    def sees_masked_columns(self) -> bool:
        return can_view_contact(self.current_user())

    def hidden_columns(self) -> frozenset[str]:
        return frozenset() if self.sees_masked_columns() else self.masked_columns

    @property
    def order_columns(self) -> list[str] | None:
        columns = self.__dict__.get("_all_order_columns")
        if columns is None:
            return None
        hidden = self.hidden_columns() if self.masked_columns else frozenset()
        return [c for c in columns if c not in hidden]

    @order_columns.setter
    def order_columns(self, value: list[str] | None) -> None:
        self.__dict__["_all_order_columns"] = value

    # -- the screens (ModelView) ----------------------------------------------------------

    def _get_list_widget(self, filters, *args: Any, order_column: str = "", **kwargs: Any):
        """Ignore an order column that may not be sorted by, and filters on hidden columns."""
        if order_column and order_column not in (self.order_columns or []):
            order_column, kwargs["order_direction"] = "", ""
        hidden = self.hidden_columns()
        if hidden and any(f.column_name in hidden for f in filters.filters):
            kept = [
                (f, v)
                for f, v in zip(filters.filters, filters.values, strict=True)
                if f.column_name not in hidden
            ]
            filters.filters = [f for f, _ in kept]
            filters.values = [v for _, v in kept]
        return super()._get_list_widget(filters, *args, order_column=order_column, **kwargs)

    # -- the REST API (ModelRestApi) ------------------------------------------------------

    def _handle_filters_args(self, rison_args: dict[str, Any]):
        """A filter on a hidden column is refused (400), like one on any unsearchable column."""
        from flask_appbuilder.exceptions import InvalidColumnFilterFABException

        hidden = self.hidden_columns()
        for item in rison_args.get("filters") or []:
            if isinstance(item, dict) and item.get("col") in hidden:
                raise InvalidColumnFilterFABException(
                    f"Filter column: {item['col']} not allowed to filter"
                )
        return super()._handle_filters_args(rison_args)
