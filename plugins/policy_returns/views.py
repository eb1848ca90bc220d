"""Policy returns' screen and API: the warehouse records what arrived."""

from __future__ import annotations

from pathlib import Path

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import lazy_gettext as _l

from core import fields
from core.api.base import KesuApi, current_actor, json_body, service_call
from core.inputs import form_int
from core.services.access import get_case
from core.services.errors import ServiceError
from core.views.cases import flash_error
from plugins.policy_returns import services


class ReturnsView(BaseView):
    """Form posts from the return panel of the case page."""

    route_base = "/returns"
    # Absolute: Flask-AppBuilder makes every view's blueprint relative to its own package.
    template_folder = str(Path(__file__).parent / "templates")
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"receipt": "read"}

    @expose("/<int:case_id>/receipt", methods=["POST"])
    @has_access
    def receipt(self, case_id: int):
        data = {k: request.form.get(k, "") for k in ("sku", "batch_no", "comment")}
        quantity = request.form.get("quantity", "").strip()
        data["quantity"] = form_int(quantity)
        try:
            receipt = services.record_receipt(g.user, case_id, data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            if receipt.accepted:
                flash(str(_l("Return received.")), "success")
            else:
                reasons = " ".join(str(services.REASONS[r]) for r in receipt.reasons)
                flash(str(_l("Return refused: %(reasons)s", reasons=reasons)), "warning")
        return redirect(url_for("CaseView.show", pk=case_id) + "#returns")


class ReturnsApi(KesuApi):
    """``/api/v1/returns/<case id>/receipts``: warehouse receipts of returned goods."""

    resource_name = "returns"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"list_receipts": "read", "record": "read"}
    openapi_spec_tag = "Policy returns"

    @expose("/<int:case_id>/receipts", methods=["GET"])
    @protect()
    @safe
    @service_call
    def list_receipts(self, case_id: int):
        """What the warehouse recorded for a return.
        ---
        get:
          summary: List receipts
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: Receipts, oldest first
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {type: array, items: {$ref: '#/components/schemas/ReturnReceipt'}}
            404: {$ref: '#/components/responses/404'}
        """
        tz = get_case(current_actor(), case_id).business_line.timezone
        return self.response(
            200, result=[services.receipt_json(r, tz) for r in services.receipts_of(case_id)]
        )

    @expose("/<int:case_id>/receipts", methods=["POST"])
    @protect()
    @safe
    @service_call
    def record(self, case_id: int):
        """Record what arrived at the central warehouse (accepted, or refused with reasons).
        ---
        post:
          summary: Record a receipt
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ReturnReceiptInput'}
          responses:
            201:
              description: Recorded; `accepted` false with `reasons` when refused
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/ReturnReceipt'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        receipt = services.record_receipt(actor, case_id, json_body())
        tz = get_case(actor, case_id).business_line.timezone
        return self.response(201, id=receipt.id, result=services.receipt_json(receipt, tz))

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        if "ReturnReceiptInput" not in api_spec.components.schemas:
            api_spec.components.schema(
                "ReturnReceiptInput", fields.json_schema(services.RECEIPT_FIELDS)
            )
        if "ReturnReceipt" not in api_spec.components.schemas:
            api_spec.components.schema(
                "ReturnReceipt",
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "sku": {"type": "string", "nullable": True},
                        "batch_no": {"type": "string", "nullable": True},
                        "quantity": {"type": "integer", "nullable": True},
                        "accepted": {"type": "boolean"},
                        "reasons": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["not_approved", "sku", "batch_no", "quantity"],
                            },
                        },
                        "reason_texts": {"type": "array", "items": {"type": "string"}},
                        "comment": {"type": "string", "nullable": True},
                        "recorded_by": {"type": "string"},
                        "recorded_at": {"type": "string", "format": "date-time"},
                    },
                },
            )
