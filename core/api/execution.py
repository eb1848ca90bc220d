"""``/api/v1/case/<id>/compensation/<line_id>/done|cancel``: carrying out approved lines."""

from __future__ import annotations

from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, json_body, service_call
from core.services import execution
from core.services.present import case_json


class CompensationApi(KesuApi):
    resource_name = "case"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    # Each route checks its own permission in the service: money lines Finance, goods lines
    # Sales or customer service, cancelling a CS supervisor (core.roles.COMPENSATION).
    method_permission_name = {"done": "read", "cancel": "read"}
    openapi_spec_tag = "Cases"

    @expose("/<int:pk>/compensation/<int:line_id>/done", methods=["POST"])
    @protect()
    @safe
    @service_call
    def done(self, pk: int, line_id: int):
        """Record that an approved compensation line was carried out.
        ---
        post:
          summary: Mark a compensation line done
          description: >-
            With the ERP document that carried it out (credit-note, order or payment number).
            Money lines are marked by Finance, goods lines by Sales or customer service. A goods
            line done while a credit of the case is pending makes that credit due by month end.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: line_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    reference: {type: string, maxLength: 64, description: ERP document number}
                  required: [reference]
                  additionalProperties: false
          responses:
            200: {$ref: '#/components/responses/CaseResult'}
        """
        actor = current_actor()
        case = execution.mark_done(actor, pk, line_id, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/<int:pk>/compensation/<int:line_id>/cancel", methods=["POST"])
    @protect()
    @safe
    @service_call
    def cancel(self, pk: int, line_id: int):
        """Cancel an approved compensation line that will not be carried out.
        ---
        post:
          summary: Cancel a compensation line
          description: A CS supervisor, with the reason; not while the line is in an export batch.
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          - {in: path, name: line_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    reason: {type: string, maxLength: 5000}
                  required: [reason]
                  additionalProperties: false
          responses:
            200: {$ref: '#/components/responses/CaseResult'}
        """
        actor = current_actor()
        case = execution.cancel(actor, pk, line_id, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))
