"""Read-only REST APIs of the reference data a client needs for pickers: customers, products.

Both apply the record rule (the caller's business lines only) and mask customers' phone and
e-mail for roles without the view-contact permission.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from core.api.base import KesuApi, current_actor
from core.models import Customer, Product
from core.services.access import can_view_contact, visible_line_ids
from core.services.present import mask_email, mask_phone
from core.views.masking import MaskedColumnsMixin
from core.vocab import CUSTOMER_LABELS


def actor_line_ids() -> list[int]:
    return visible_line_ids(current_actor())


class _ReadOnly(KesuApi, ModelRestApi):
    include_route_methods = {"get", "get_list"}
    base_permissions = ["can_list", "can_show"]
    method_permission_name = {"get": "show", "get_list": "list"}
    base_filters = [["business_line_id", FilterInFunction, actor_line_ids]]
    openapi_spec_tag = "Reference data"

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        super().operation_helper(
            path=path, operations=operations, methods=methods, func=func, **kwargs
        )
        # Flask-AppBuilder documents a list's ``ids`` as strings; Kesu's ids are integers.
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            answer = responses.get(200) or responses.get("200") or {}
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if "ids" in schema.get("properties", {}):
                schema["properties"]["ids"]["items"] = {"type": "integer"}


class CustomerApi(MaskedColumnsMixin, _ReadOnly):
    resource_name = "customer"
    class_permission_name = "Customer"
    datamodel = SQLAInterface(Customer)
    list_columns = show_columns = [
        "id",
        "name",
        "kind",
        "contact",
        "phone",
        "email",
        "address",
        "business_line.code",
    ]
    search_columns = ["name", "kind", "business_line"]
    masked_columns = frozenset({"phone", "email"})  # not sortable or searchable when masked
    list_title = show_title = _l("Customers")
    label_columns = {
        **CUSTOMER_LABELS,
        "id": "ID",
        "business_line.code": CUSTOMER_LABELS["business_line"],
    }

    def current_user(self):
        return current_actor()

    @staticmethod
    def _mask(row: dict[str, Any]) -> None:
        if "phone" in row:
            row["phone"] = mask_phone(row["phone"])
        if "email" in row:
            row["email"] = mask_email(row["email"])

    def pre_get(self, data: dict[str, Any]) -> None:
        if not can_view_contact(current_actor()):
            self._mask(data["result"])

    def pre_get_list(self, data: dict[str, Any]) -> None:
        if not can_view_contact(current_actor()):
            for row in data["result"]:
                self._mask(row)


class ProductApi(_ReadOnly):
    resource_name = "product"
    class_permission_name = "Product"
    datamodel = SQLAInterface(Product)
    list_columns = show_columns = ["id", "code", "name", "business_line.code"]
    search_columns = ["code", "name", "business_line"]
    list_title = show_title = _l("Products")
    label_columns = {
        "id": "ID",
        "code": _l("Code"),
        "name": _l("Name"),
        "business_line": _l("Business line"),
        "business_line.code": _l("Business line"),
    }
