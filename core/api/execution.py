"""``/api/v1/case/<id>/compensation/<line_id>/done|cancel``: carrying out approved lines."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import protect

from core.api.base import KesuApi, current_actor, json_body, service_call
from core.services import execution
from core.services.access import line_for_write
from core.services.present import case_json


class CompensationApi(KesuApi):
    resource_name = "case"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    # Each route checks its own permission in the service: money lines Finance, goods lines
    # Sales or customer service, cancelling a CS supervisor (core.roles.COMPENSATION).
    method_permission_name = {"done": "read", "cancel": "read", "credits_due": "read"}
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
                schema: {$ref: '#/components/schemas/Reason'}
          responses:
            200: {$ref: '#/components/responses/CaseResult'}
        """
        actor = current_actor()
        case = execution.cancel(actor, pk, line_id, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/credits-due", methods=["GET"])
    @protect()
    @safe
    @service_call
    def credits_due(self):
        """Credits of cases reshipped before the recall, still open: due by month end.
        ---
        get:
          summary: Credits due by month end (reship before recall)
          parameters:
          - {in: query, name: business_line, schema: {type: string, maxLength: 64}, description: line code}
          responses:
            200:
              description: The open credits of your lines, soonest due first
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      overdue: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            case: {type: integer}
                            number: {type: string}
                            business_line: {type: string}
                            line: {$ref: '#/components/schemas/CompensationLineOut'}
        """
        actor = current_actor()
        code = request.args.get("business_line")
        line_id = None if code is None else line_for_write(actor, code).id
        rows = execution.credits_due(actor, line_id)
        result = [
            {
                "case": row.case.id,
                "number": row.case.number,
                "business_line": row.case.business_line.code,
                "line": execution.line_json(row, row.case.business_line.timezone),
            }
            for row, _ in rows
        ]
        overdue = sum(1 for _, late in rows if late)
        return self.response(200, count=len(result), overdue=overdue, result=result)
